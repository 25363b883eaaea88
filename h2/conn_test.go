package h2

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// inputCase is a client byte sequence and what the Conn must answer.
type inputCase struct {
	name    string
	cfg     Config
	raw     bool // send builds all bytes (no preface and SETTINGS first)
	consume bool // the owner calls Consumed from Data
	send    func(cl *client)
	frames  []string // after the handshake (all of them when raw)
	events  []string
	check   func(t *testing.T, c *Conn, r *recorder)
}

func runInput(t *testing.T, tc inputCase) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			clk := newClock()
			cfg := tc.cfg
			cfg.Now = clk.now
			c, r := newConn(cfg)
			r.consume = tc.consume
			cl := newClient()
			if !tc.raw {
				cl.start()
			}
			tc.send(cl)
			err := feed(c, cl.buf.Bytes(), mode, rand.New(rand.NewSource(1)))
			got := frames(t, r.out.Bytes())
			if !tc.raw {
				got = after(t, got)
			}
			if !slices.Equal(got, tc.frames) {
				t.Errorf("frames:\n got %q\nwant %q", got, tc.frames)
			}
			if !slices.Equal(r.events, tc.events) {
				t.Errorf("events:\n got %q\nwant %q", r.events, tc.events)
			}
			if err != c.Err() || (err == nil) != (r.err == nil) {
				t.Errorf("Input returned %v, Err %v, Closed %v", err, c.Err(), r.err)
			}
			if r.closed > 1 {
				t.Errorf("Closed called %d times", r.closed)
			}
			if tc.check != nil {
				tc.check(t, c, r)
			}
		})
	}
}

func TestInputConnection(t *testing.T) {
	tests := []inputCase{
		{
			name: "bad preface", raw: true,
			send:   func(cl *client) { cl.buf.WriteString("GET / HTTP/1.1\r\nHost: x\r\n\r\n") },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name: "first frame not SETTINGS", raw: true,
			send: func(cl *client) {
				cl.buf.WriteString(ClientPreface)
				cl.fr.WritePing(false, [8]byte{})
			},
			frames: []string{"SETTINGS", "WINDOW_UPDATE 0 983041", "GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name: "first frame SETTINGS ACK", raw: true,
			send: func(cl *client) {
				cl.buf.WriteString(ClientPreface)
				cl.fr.WriteSettingsAck()
			},
			frames: []string{"SETTINGS", "WINDOW_UPDATE 0 983041", "GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name: "handshake", send: func(cl *client) { cl.fr.WriteSettingsAck() },
		},
		{
			name: "no connection WINDOW_UPDATE at 65535", cfg: Config{ConnWindow: 65535},
			send: func(cl *client) {},
		},
		{
			name:   "PING",
			send:   func(cl *client) { cl.fr.WritePing(false, [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}) },
			frames: []string{"PING ack=true abcdefgh"},
		},
		{
			name: "PING ACK ignored",
			send: func(cl *client) { cl.fr.WritePing(true, [8]byte{}) },
		},
		{
			name: "frame over MAX_FRAME_SIZE",
			send: func(cl *client) {
				cl.fr.WriteRawFrame(http2.FrameData, 0, 1, make([]byte, 16385))
			},
			frames: []string{"GOAWAY 0 FRAME_SIZE_ERROR"},
			events: []string{"closed FRAME_SIZE_ERROR"},
		},
		{
			name:   "SETTINGS ACK with payload",
			send:   func(cl *client) { cl.fr.WriteRawFrame(http2.FrameSettings, http2.FlagSettingsAck, 0, make([]byte, 6)) },
			frames: []string{"GOAWAY 0 FRAME_SIZE_ERROR"},
			events: []string{"closed FRAME_SIZE_ERROR"},
		},
		{
			name:   "SETTINGS invalid ENABLE_PUSH",
			send:   func(cl *client) { cl.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 2}) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "SETTINGS INITIAL_WINDOW_SIZE over 2^31-1",
			send:   func(cl *client) { cl.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 31}) },
			frames: []string{"GOAWAY 0 FLOW_CONTROL_ERROR"},
			events: []string{"closed FLOW_CONTROL_ERROR"},
			check: func(t *testing.T, c *Conn, r *recorder) {
				if s := c.Stats(); s.FlowControlErrors != 1 || s.GoAwaySent != 1 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:   "WINDOW_UPDATE 0 on the connection",
			send:   func(cl *client) { cl.fr.WriteWindowUpdate(0, 0) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "connection send window overflow",
			send:   func(cl *client) { cl.fr.WriteWindowUpdate(0, 1<<31-1) },
			frames: []string{"GOAWAY 0 FLOW_CONTROL_ERROR"},
			events: []string{"closed FLOW_CONTROL_ERROR"},
		},
		{
			name: "PUSH_PROMISE from the client",
			send: func(cl *client) {
				cl.fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: cl.block(get("/")...), EndHeaders: true})
			},
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name: "unknown frame type ignored",
			send: func(cl *client) {
				cl.fr.WriteRawFrame(0xfa, 0, 0, []byte("x"))
				cl.fr.WritePing(false, [8]byte{})
			},
			frames: []string{"PING ack=true \x00\x00\x00\x00\x00\x00\x00\x00"},
		},
		{
			name:   "HEADERS on an even stream",
			send:   func(cl *client) { cl.headers(2, true, get("/")...) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "DATA on an idle stream",
			send:   func(cl *client) { cl.fr.WriteData(1, false, []byte("x")) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "RST_STREAM on an idle stream",
			send:   func(cl *client) { cl.fr.WriteRSTStream(3, http2.ErrCodeCancel) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "WINDOW_UPDATE on an idle stream",
			send:   func(cl *client) { cl.fr.WriteWindowUpdate(5, 10) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "WINDOW_UPDATE 0 on an idle stream",
			send:   func(cl *client) { cl.fr.WriteWindowUpdate(5, 0) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name: "HEADERS with a decreasing stream id",
			send: func(cl *client) {
				cl.headers(5, true, get("/")...)
				cl.headers(3, true, get("/")...)
			},
			frames: []string{"GOAWAY 5 PROTOCOL_ERROR"},
			events: []string{"headers 5 end=true", "closed PROTOCOL_ERROR"},
		},
		{
			name: "HEADERS on a closed stream",
			send: func(cl *client) {
				cl.headers(5, false, post("/")...)
				cl.fr.WriteRSTStream(5, http2.ErrCodeCancel)
				cl.headers(5, true, get("/")...)
			},
			frames: []string{"GOAWAY 5 STREAM_CLOSED"},
			events: []string{"headers 5 end=false", "reset 5 CANCEL", "closed STREAM_CLOSED"},
		},
		{
			name: "HPACK garbage",
			send: func(cl *client) {
				cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0xff, 0xff, 0xff, 0xff, 0xff}, EndHeaders: true})
			},
			frames: []string{"GOAWAY 0 COMPRESSION_ERROR"},
			events: []string{"closed COMPRESSION_ERROR"},
			check: func(t *testing.T, c *Conn, r *recorder) {
				if c.Stats().HPACKErrors != 1 {
					t.Errorf("HPACKErrors = %d", c.Stats().HPACKErrors)
				}
			},
		},
		{
			name: "HEADERS padding too long",
			send: func(cl *client) {
				cl.fr.WriteRawFrame(http2.FrameHeaders, http2.FlagHeadersPadded|http2.FlagHeadersEndHeaders, 1, []byte{9, 0x82})
			},
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name: "HEADERS priority too short",
			send: func(cl *client) {
				cl.fr.WriteRawFrame(http2.FrameHeaders, http2.FlagHeadersPriority|http2.FlagHeadersEndHeaders, 1, []byte{0})
			},
			frames: []string{"GOAWAY 0 FRAME_SIZE_ERROR"},
			events: []string{"closed FRAME_SIZE_ERROR"},
		},
		{
			name: "frame between HEADERS and CONTINUATION",
			send: func(cl *client) {
				b := cl.block(get("/")...)
				cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:3], EndStream: true})
				cl.fr.WritePing(false, [8]byte{})
			},
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name: "CONTINUATION without HEADERS",
			send: func(cl *client) {
				cl.fr.WriteContinuation(1, true, cl.block(get("/")...))
			},
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "RST_STREAM on stream 0",
			send:   func(cl *client) { cl.fr.WriteRawFrame(http2.FrameRSTStream, 0, 0, []byte{0, 0, 0, 8}) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "DATA on stream 0",
			send:   func(cl *client) { cl.fr.WriteRawFrame(http2.FrameData, 0, 0, []byte("x")) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "SETTINGS on a stream",
			send:   func(cl *client) { cl.fr.WriteRawFrame(http2.FrameSettings, 0, 1, nil) },
			frames: []string{"GOAWAY 0 PROTOCOL_ERROR"},
			events: []string{"closed PROTOCOL_ERROR"},
		},
		{
			name:   "PING of 7 bytes",
			send:   func(cl *client) { cl.fr.WriteRawFrame(http2.FramePing, 0, 0, make([]byte, 7)) },
			frames: []string{"GOAWAY 0 FRAME_SIZE_ERROR"},
			events: []string{"closed FRAME_SIZE_ERROR"},
		},
		{
			name:   "WINDOW_UPDATE of 3 bytes",
			send:   func(cl *client) { cl.fr.WriteRawFrame(http2.FrameWindowUpdate, 0, 0, make([]byte, 3)) },
			frames: []string{"GOAWAY 0 FRAME_SIZE_ERROR"},
			events: []string{"closed FRAME_SIZE_ERROR"},
		},
		{
			name: "DATA padding too long",
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteRawFrame(http2.FrameData, http2.FlagDataPadded, 1, []byte{5, 'x'})
			},
			frames: []string{"GOAWAY 1 PROTOCOL_ERROR"},
			events: []string{"headers 1 end=false", "closed PROTOCOL_ERROR"},
		},
		{
			name: "peer GOAWAY: later streams ignored",
			send: func(cl *client) {
				cl.headers(1, true, get("/")...)
				cl.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
				cl.headers(3, false, get("/")...)
				cl.fr.WriteData(3, true, []byte("x"))
			},
			events: []string{"headers 1 end=true"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runInput(t, tc) })
	}
}

func TestInputStreams(t *testing.T) {
	tests := []inputCase{
		{
			name:   "GET",
			send:   func(cl *client) { cl.headers(1, true, append(get("/index.html"), "accept", "*/*")...) },
			events: []string{"headers 1 end=true"},
			check: func(t *testing.T, c *Conn, r *recorder) {
				var kv []string
				for _, f := range r.fields[1] {
					kv = append(kv, f.Name+"="+f.Value)
				}
				want := ":method=GET :scheme=https :path=/index.html :authority=example.com accept=*/*"
				if strings.Join(kv, " ") != want {
					t.Errorf("fields %q, want %q", kv, want)
				}
				if c.Stats().Streams != 1 {
					t.Errorf("Streams = %d", c.Stats().Streams)
				}
			},
		},
		{
			name: "GET across CONTINUATION",
			send: func(cl *client) {
				b := cl.block(get("/")...)
				cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:2], EndStream: true})
				cl.fr.WriteContinuation(1, false, b[2:5])
				cl.fr.WriteContinuation(1, true, b[5:])
			},
			events: []string{"headers 1 end=true"},
		},
		{
			name: "CONNECT",
			send: func(cl *client) {
				cl.headers(1, false, ":method", "CONNECT", ":authority", "example.com:443")
			},
			events: []string{"headers 1 end=false"},
		},
		{
			name: "POST with flow control", cfg: Config{InitialWindow: 16}, consume: true,
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteData(1, false, []byte("0123456789"))
				cl.fr.WriteDataPadded(1, false, []byte("abc"), []byte{0, 0})
				cl.fr.WriteData(1, true, []byte("end"))
			},
			frames: []string{"WINDOW_UPDATE 1 10"},
			events: []string{"headers 1 end=false", "data 1 10 end=false", "data 1 3 end=false", "data 1 3 end=true"},
			check: func(t *testing.T, c *Conn, r *recorder) {
				if string(r.body[1]) != "0123456789abcend" {
					t.Errorf("body %q", r.body[1])
				}
			},
		},
		{
			name: "connection WINDOW_UPDATE at half the window", cfg: Config{ConnWindow: 65535}, consume: true,
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteData(1, false, make([]byte, 16384))
				cl.fr.WriteData(1, false, make([]byte, 16384))
			},
			frames: []string{"WINDOW_UPDATE 0 32768"},
			events: []string{"headers 1 end=false", "data 1 16384 end=false", "data 1 16384 end=false"},
		},
		{
			name: "trailers",
			send: func(cl *client) {
				cl.headers(1, false, append(post("/"), "content-length", "3")...)
				cl.fr.WriteData(1, false, []byte("abc"))
				cl.headers(1, true, "grpc-status", "0")
			},
			events: []string{"headers 1 end=false", "data 1 3 end=false", "headers 1 end=true"},
		},
		{
			name: "trailers without END_STREAM",
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.headers(1, false, "x", "y")
			},
			frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
			events: []string{"headers 1 end=false", "reset 1 PROTOCOL_ERROR"},
		},
		{
			name: "trailers with a pseudo-header",
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.headers(1, true, ":path", "/")
			},
			frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
			events: []string{"headers 1 end=false", "reset 1 PROTOCOL_ERROR"},
		},
		{
			name: "HEADERS after END_STREAM",
			send: func(cl *client) {
				cl.headers(1, true, get("/")...)
				cl.headers(1, true, "x", "y")
			},
			frames: []string{"RST_STREAM 1 STREAM_CLOSED"},
			events: []string{"headers 1 end=true", "reset 1 STREAM_CLOSED"},
		},
		{
			name: "DATA after END_STREAM",
			send: func(cl *client) {
				cl.headers(1, true, get("/")...)
				cl.fr.WriteData(1, false, []byte("x"))
			},
			frames: []string{"RST_STREAM 1 STREAM_CLOSED"},
			events: []string{"headers 1 end=true", "reset 1 STREAM_CLOSED"},
		},
		{
			name: "DATA on a reset stream",
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteRSTStream(1, http2.ErrCodeCancel)
				cl.fr.WriteData(1, false, []byte("x"))
			},
			frames: []string{"RST_STREAM 1 STREAM_CLOSED"},
			events: []string{"headers 1 end=false", "reset 1 CANCEL"},
		},
		{
			name: "DATA in flight after our reset is dropped",
			send: func(cl *client) {
				cl.headers(1, false, append(post("/"), "Bad", "x")...)
				cl.fr.WriteData(1, false, []byte("in flight"))
				cl.fr.WriteData(1, true, []byte("more"))
			},
			frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
		},
		{
			name: "content-length mismatch",
			send: func(cl *client) {
				cl.headers(1, false, append(post("/"), "content-length", "2")...)
				cl.fr.WriteData(1, true, []byte("abc"))
			},
			frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
			events: []string{"headers 1 end=false", "reset 1 PROTOCOL_ERROR"},
		},
		{
			name: "content-length short",
			send: func(cl *client) {
				cl.headers(1, false, append(post("/"), "content-length", "4")...)
				cl.fr.WriteData(1, true, []byte("abc"))
			},
			frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
			events: []string{"headers 1 end=false", "reset 1 PROTOCOL_ERROR"},
		},
		{
			name: "peer RST_STREAM",
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteRSTStream(1, http2.ErrCodeCancel)
				cl.fr.WriteRSTStream(1, http2.ErrCodeCancel) // closed: ignored
				cl.fr.WriteWindowUpdate(1, 5)                // closed: ignored
			},
			events: []string{"headers 1 end=false", "reset 1 CANCEL"},
			check: func(t *testing.T, c *Conn, r *recorder) {
				if c.Stats().ResetsReceived != 1 {
					t.Errorf("ResetsReceived = %d", c.Stats().ResetsReceived)
				}
			},
		},
		{
			name: "WINDOW_UPDATE 0 on a stream",
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteWindowUpdate(1, 0)
			},
			frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
			events: []string{"headers 1 end=false", "reset 1 PROTOCOL_ERROR"},
		},
		{
			name: "stream send window overflow",
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteWindowUpdate(1, 1<<31-1)
			},
			frames: []string{"RST_STREAM 1 FLOW_CONTROL_ERROR"},
			events: []string{"headers 1 end=false", "reset 1 FLOW_CONTROL_ERROR"},
		},
		{
			name: "PRIORITY self-dependency",
			send: func(cl *client) {
				cl.fr.WritePriority(3, http2.PriorityParam{StreamDep: 3, Weight: 1})
			},
			frames: []string{"RST_STREAM 3 PROTOCOL_ERROR"},
		},
		{
			name: "PRIORITY ignored",
			send: func(cl *client) {
				cl.fr.WritePriority(3, http2.PriorityParam{StreamDep: 1, Weight: 1})
				cl.headers(3, true, get("/")...)
			},
			events: []string{"headers 3 end=true"},
		},
		{
			name: "HEADERS priority self-dependency",
			send: func(cl *client) {
				cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.block(get("/")...), EndStream: true, EndHeaders: true,
					Priority: http2.PriorityParam{StreamDep: 1, Weight: 1}})
				cl.headers(3, true, get("/")...)
			},
			frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
			events: []string{"headers 3 end=true"},
		},
		{
			name: "too many streams", cfg: Config{MaxConcurrentStreams: 1},
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.headers(3, true, get("/")...)
			},
			frames: []string{"RST_STREAM 3 REFUSED_STREAM"},
			events: []string{"headers 1 end=false"},
			check: func(t *testing.T, c *Conn, r *recorder) {
				if c.Stats().RefusedStreams != 1 {
					t.Errorf("RefusedStreams = %d", c.Stats().RefusedStreams)
				}
			},
		},
		{
			name: "DATA beyond the stream window", cfg: Config{InitialWindow: 16},
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.fr.WriteData(1, false, make([]byte, 10))
				cl.fr.WriteData(1, false, make([]byte, 10))
			},
			frames: []string{"RST_STREAM 1 FLOW_CONTROL_ERROR"},
			events: []string{"headers 1 end=false", "data 1 10 end=false", "reset 1 FLOW_CONTROL_ERROR"},
		},
		{
			name: "DATA beyond the connection window", cfg: Config{ConnWindow: 65535, InitialWindow: 1 << 20},
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				for range 4 {
					cl.fr.WriteData(1, false, make([]byte, 16384))
				}
			},
			frames: []string{"GOAWAY 1 FLOW_CONTROL_ERROR"},
			events: []string{"headers 1 end=false", "data 1 16384 end=false", "data 1 16384 end=false", "data 1 16384 end=false", "closed FLOW_CONTROL_ERROR"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runInput(t, tc) })
	}
}

// TestMalformedRequests: every malformed header list gets
// RST_STREAM(PROTOCOL_ERROR) and no event (RFC 9113 §8.1.1).
func TestMalformedRequests(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
	}{
		{"upper-case name", append(get("/"), "Accept", "x")},
		{"connection field", append(get("/"), "connection", "keep-alive")},
		{"transfer-encoding", append(get("/"), "transfer-encoding", "chunked")},
		{"te gzip", append(get("/"), "te", "gzip")},
		{"pseudo after regular", []string{":method", "GET", "accept", "x", ":scheme", "https", ":path", "/"}},
		{"no :path", []string{":method", "GET", ":scheme", "https"}},
		{"no :method", []string{":scheme", "https", ":path", "/"}},
		{"empty :path", []string{":method", "GET", ":scheme", "https", ":path", ""}},
		{"unknown pseudo", append(get("/"), ":foo", "x")},
		{"repeated :method", append([]string{":method", "GET"}, get("/")...)},
		{"CONNECT with :path", []string{":method", "CONNECT", ":authority", "a:1", ":path", "/"}},
		{"CR in a value", append(get("/"), "x", "a\rb")},
		{"NUL in a pseudo value", []string{":method", "GET", ":scheme", "https", ":path", "/\x00"}},
		{"bad name", append(get("/"), "a b", "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runInput(t, inputCase{
				send:   func(cl *client) { cl.headers(1, true, tt.kv...); cl.headers(3, true, get("/ok")...) },
				frames: []string{"RST_STREAM 1 PROTOCOL_ERROR"},
				events: []string{"headers 3 end=true"},
			})
		})
	}
	runInput(t, inputCase{name: "te trailers", send: func(cl *client) { cl.headers(1, true, append(get("/"), "te", "trailers")...) },
		events: []string{"headers 1 end=true"}})
}
