package http

// The HTTP/2 defences of issue 15 (docs/design/http2.md §4, §7), each
// attacked end to end: a raw TCP connection to a real server sends the
// client preface and a frame sequence built with x/net/http2's Framer, then
// reads until the GOAWAY or RST_STREAM the defence owes it, with the right
// error code. The engine's counters reach Counters().HTTP2 when the
// connection ends, so each case then waits for that, and checks that an
// honest client on a second connection is still served.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/h2"
	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2raw is a hand-driven HTTP/2 client connection.
type h2raw struct {
	t   testing.TB
	c   net.Conn
	bw  *bufio.Writer
	w   *http2.Framer // writes to bw: AllowIllegalWrites, for the malformed cases
	r   *http2.Framer // reads from c, header blocks decoded
	enc *hpack.Encoder
	hb  bytes.Buffer
}

// dialH2Raw connects to addr and writes the preface and a SETTINGS frame
// with settings (not flushed: the first flush sends them with what
// follows).
func dialH2Raw(t testing.TB, addr string, settings ...http2.Setting) *h2raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := &h2raw{t: t, c: c, bw: bufio.NewWriterSize(c, 64<<10)}
	h.w = http2.NewFramer(h.bw, nil)
	h.w.AllowIllegalWrites = true
	h.r = http2.NewFramer(nil, c)
	h.r.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.r.MaxHeaderListSize = 1 << 20
	h.enc = hpack.NewEncoder(&h.hb)
	h.bw.WriteString(http2.ClientPreface)
	h.w.WriteSettings(settings...)
	return h
}

// flush sends what was written. An error is ignored: a server that has
// given up on the connection may have closed it while the flood went on,
// and what counts is what it answered.
func (h *h2raw) flush() { h.bw.Flush() }

func (h *h2raw) close() { h.c.Close() }

// block encodes a header list with the connection's encoder.
func (h *h2raw) block(fields ...string) []byte {
	h.hb.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		h.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(h.hb.Bytes())
}

// request writes HEADERS for method path on stream id, with END_STREAM
// when end is set.
func (h *h2raw) request(id uint32, method, path string, end bool) {
	h.w.WriteHeaders(http2.HeadersFrameParam{
		StreamID:      id,
		BlockFragment: h.block(":method", method, ":scheme", "http", ":authority", "x", ":path", path),
		EndStream:     end,
		EndHeaders:    true,
	})
}

// next reads a frame, failing the test after the deadline or at the end
// of the connection. SETTINGS are acknowledged.
func (h *h2raw) next(deadline time.Time) http2.Frame {
	h.t.Helper()
	h.c.SetReadDeadline(deadline)
	f, err := h.r.ReadFrame()
	if err != nil {
		h.t.Fatalf("reading frames: %v", err)
	}
	if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
		h.w.WriteSettingsAck()
		h.flush()
	}
	return f
}

// goAway reads until a GOAWAY and checks its code.
func (h *h2raw) goAway(code http2.ErrCode) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ga, ok := h.next(deadline).(*http2.GoAwayFrame); ok {
			if ga.ErrCode != code {
				h.t.Fatalf("GOAWAY(%v) %q, want %v", ga.ErrCode, ga.DebugData(), code)
			}
			return
		}
	}
}

// reset reads until a RST_STREAM on stream id and checks its code; a
// GOAWAY instead fails the test.
func (h *h2raw) reset(id uint32, code http2.ErrCode) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		switch f := h.next(deadline).(type) {
		case *http2.RSTStreamFrame:
			if f.StreamID != id {
				continue
			}
			if f.ErrCode != code {
				h.t.Fatalf("RST_STREAM(%v) on stream %d, want %v", f.ErrCode, id, code)
			}
			return
		case *http2.GoAwayFrame:
			h.t.Fatalf("GOAWAY(%v) %q waiting for RST_STREAM(%v) on stream %d", f.ErrCode, f.DebugData(), code, id)
		}
	}
}

// response reads stream id's response: its status and its body up to
// END_STREAM.
func (h *h2raw) response(id uint32) (string, []byte) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var status string
	var body []byte
	for {
		switch f := h.next(deadline).(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID != id {
				continue
			}
			if status == "" {
				status = f.PseudoValue("status")
			}
			if f.StreamEnded() {
				return status, body
			}
		case *http2.DataFrame:
			if f.StreamID != id {
				continue
			}
			body = append(body, f.Data()...)
			if n := uint32(len(f.Data())); n > 0 {
				h.w.WriteWindowUpdate(0, n)
				h.w.WriteWindowUpdate(id, n)
				h.flush()
			}
			if f.StreamEnded() {
				return status, body
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				h.t.Fatalf("stream %d reset: %v", id, f.ErrCode)
			}
		case *http2.GoAwayFrame:
			h.t.Fatalf("GOAWAY(%v) %q waiting for stream %d", f.ErrCode, f.DebugData(), id)
		}
	}
}

// drain reads until the server closes the connection (after a GOAWAY),
// bounded, so that the connection has ended on the server before its
// counters are read.
func (h *h2raw) drain() {
	h.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, h.c)
}

// waitH2Counters polls s's HTTP/2 counters until ok holds (5 s at most)
// and returns the last read.
func waitH2Counters(t testing.TB, s *Server, ok func(H2Counters) bool) H2Counters {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := s.Counters().HTTP2
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTP/2 counters: %+v", c)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// h2Honest checks that a well-behaved client on a new connection is
// served.
func h2Honest(t *testing.T, s *Server) {
	t.Helper()
	cl := h2cClient()
	defer cl.CloseIdleConnections()
	status, body := h2GetProto(t, cl, "http://"+s.Addr().String()+"/plaintext")
	if status != 200 || !bytes.Equal(body, helloBody) {
		t.Fatalf("honest GET /plaintext: %d %q", status, body)
	}
}

func TestH2Attack(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  HTTP2Config
		// attack writes the frames (after the preface and SETTINGS, which
		// it may replace with its own by dialling itself) and reads the
		// answer it expects.
		attack func(t *testing.T, s *Server, h *h2raw)
		// done tells the counters of the attack once its connection ended.
		done func(c H2Counters) bool
	}{
		{
			// CVE-2023-44487: streams opened and reset at once, their
			// responses never ending (POST /stream waits for its body).
			name: "RapidReset",
			cfg:  HTTP2Config{ResetRate: 10},
			attack: func(t *testing.T, s *Server, h *h2raw) {
				for i := range 100 {
					id := uint32(2*i + 1)
					h.request(id, "POST", "/stream", false)
					h.w.WriteRSTStream(id, http2.ErrCodeCancel)
				}
				h.flush()
				h.goAway(http2.ErrCodeEnhanceYourCalm)
			},
			done: func(c H2Counters) bool { return c.RapidResets == 1 },
		},
		{
			// CVE-2024-27316: a header block that never ends, in 1-byte and
			// empty CONTINUATION frames.
			name: "ContinuationFlood",
			attack: func(t *testing.T, s *Server, h *h2raw) {
				blk := h.block(":method", "GET", ":scheme", "http", ":authority", "x", ":path", "/plaintext")
				h.w.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:1], EndStream: true})
				for i := range 1000 {
					var p []byte
					if i%2 == 0 {
						p = []byte{'x'}
					}
					h.w.WriteContinuation(1, false, p)
				}
				h.flush()
				h.goAway(http2.ErrCodeEnhanceYourCalm)
			},
			done: func(c H2Counters) bool { return c.ContinuationFloods == 1 },
		},
		{
			// The same, in full frames: the block's bytes (MaxHeaderBlock,
			// 64 KiB) give out before its frame count.
			name: "ContinuationBytes",
			attack: func(t *testing.T, s *Server, h *h2raw) {
				blk := h.block(":method", "GET", ":scheme", "http", ":authority", "x", ":path", "/plaintext")
				h.w.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:1], EndStream: true})
				for range 10 {
					h.w.WriteContinuation(1, false, make([]byte, 16384))
				}
				h.flush()
				h.goAway(http2.ErrCodeEnhanceYourCalm)
			},
			done: func(c H2Counters) bool { return c.ContinuationFloods == 1 },
		},
		{
			// An HPACK bomb: a 4 KiB field put in the dynamic table, then
			// named a thousand times by its index (1 byte each, 4 MiB
			// decoded). The request gets 431, and the connection, whose
			// table stayed in step, serves the next one.
			name: "HPACKBomb",
			attack: func(t *testing.T, s *Server, h *h2raw) {
				big := strings.Repeat("a", 4000)
				fields := []string{":method", "GET", ":scheme", "http", ":authority", "x", ":path", "/plaintext"}
				for range 1000 {
					fields = append(fields, "x-bomb", big)
				}
				blk := h.block(fields...)
				if len(blk) > 16384 {
					t.Fatalf("bomb block of %d bytes", len(blk))
				}
				h.w.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk, EndStream: true, EndHeaders: true})
				h.flush()
				if status, _ := h.response(1); status != "431" {
					t.Fatalf("bomb: status %q, want 431", status)
				}
				h.request(3, "GET", "/plaintext", true)
				h.flush()
				if status, body := h.response(3); status != "200" || !bytes.Equal(body, helloBody) {
					t.Fatalf("after the bomb: %q %q", status, body)
				}
				h.close()
			},
			done: func(c H2Counters) bool { return c.HeaderListTooLarge == 1 && c.GoAwaySent == 0 },
		},
		{
			// A dynamic table size update above SETTINGS_HEADER_TABLE_SIZE
			// (4096): 8192, by hand (RFC 7541 §6.3, 5-bit prefix).
			name: "HPACKTableSize",
			attack: func(t *testing.T, s *Server, h *h2raw) {
				blk := append([]byte{0x3f, 0xe1, 0x3f}, h.block(":method", "GET", ":scheme", "http", ":authority", "x", ":path", "/plaintext")...)
				h.w.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk, EndStream: true, EndHeaders: true})
				h.flush()
				h.goAway(http2.ErrCodeCompression)
			},
			done: func(c H2Counters) bool { return c.HPACKErrors == 1 },
		},
		{
			name: "SettingsFlood",
			cfg:  HTTP2Config{SettingsRate: 5},
			attack: func(t *testing.T, s *Server, h *h2raw) {
				for range 100 {
					h.w.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0})
				}
				h.flush()
				h.goAway(http2.ErrCodeEnhanceYourCalm)
			},
			done: func(c H2Counters) bool { return c.SettingsFloods == 1 },
		},
		{
			name: "PingFlood",
			cfg:  HTTP2Config{PingRate: 5},
			attack: func(t *testing.T, s *Server, h *h2raw) {
				for i := range 100 {
					h.w.WritePing(false, [8]byte{byte(i)})
				}
				h.flush()
				h.goAway(http2.ErrCodeEnhanceYourCalm)
			},
			done: func(c H2Counters) bool { return c.PingFloods == 1 },
		},
		{
			// CVE-2019-9518: DATA frames with nothing in them, on a stream
			// waiting for its body.
			name: "EmptyDataFlood",
			cfg:  HTTP2Config{EmptyFrameRate: 10},
			attack: func(t *testing.T, s *Server, h *h2raw) {
				h.request(1, "POST", "/stream", false)
				for range 200 {
					h.w.WriteData(1, false, nil)
				}
				h.flush()
				h.goAway(http2.ErrCodeEnhanceYourCalm)
			},
			done: func(c H2Counters) bool { return c.EmptyFrameFloods == 1 },
		},
		{
			// A zero-window stall: the client gives no stream window and
			// never credits one; the 3 MiB response waits, and the stream is
			// reset after WindowTimeout. The connection itself lives on.
			name: "ZeroWindowStall",
			cfg:  HTTP2Config{WindowTimeout: 100 * time.Millisecond},
			attack: func(t *testing.T, s *Server, h *h2raw) {
				h.close()
				h = dialH2Raw(t, s.Addr().String(), http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
				defer h.close()
				h.request(1, "GET", "/big.bin", true)
				h.flush()
				start := time.Now()
				h.reset(1, http2.ErrCodeCancel)
				if d := time.Since(start); d < 100*time.Millisecond {
					t.Errorf("reset after %v, before WindowTimeout", d)
				}
				waitH2Counters(t, s, func(c H2Counters) bool { return c.StreamsOpen == 0 && c.ConnsOpen == 1 })
				// The connection still serves a request (with window).
				h.w.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535})
				h.request(3, "GET", "/plaintext", true)
				h.flush()
				if status, body := h.response(3); status != "200" || !bytes.Equal(body, helloBody) {
					t.Fatalf("after the stall: %q %q", status, body)
				}
			},
			done: func(c H2Counters) bool { return c.StallResets == 1 && c.GoAwaySent == 0 },
		},
		{
			// More streams than SETTINGS_MAX_CONCURRENT_STREAMS, the first
			// four waiting for their bodies.
			name: "TooManyStreams",
			cfg:  HTTP2Config{MaxConcurrentStreams: 4},
			attack: func(t *testing.T, s *Server, h *h2raw) {
				for i := range 6 {
					h.request(uint32(2*i+1), "POST", "/stream", false)
				}
				h.flush()
				h.reset(9, http2.ErrCodeRefusedStream)
				h.reset(11, http2.ErrCodeRefusedStream)
				// Ending a waiting stream frees a slot for a new one.
				h.w.WriteData(1, true, []byte("body"))
				h.flush()
				if status, body := h.response(1); status != "200" || string(body) != "body" {
					t.Fatalf("stream 1: %q %q", status, body)
				}
				h.request(13, "GET", "/plaintext", true)
				h.flush()
				if status, body := h.response(13); status != "200" || !bytes.Equal(body, helloBody) {
					t.Fatalf("stream 13: %q %q", status, body)
				}
				h.close()
			},
			done: func(c H2Counters) bool { return c.RefusedStreams == 2 && c.GoAwaySent == 0 },
		},
		{
			// A frame over SETTINGS_MAX_FRAME_SIZE (16,384).
			name: "OversizeFrame",
			attack: func(t *testing.T, s *Server, h *h2raw) {
				h.request(1, "POST", "/stream", false)
				h.w.WriteData(1, false, make([]byte, 16385))
				h.flush()
				h.goAway(http2.ErrCodeFrameSize)
			},
			done: func(c H2Counters) bool { return c.ProtocolErrors == 1 && c.GoAwaySent == 1 },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := startHTTP(t, Config{HTTP2: tc.cfg})
			h := dialH2Raw(t, s.Addr().String())
			tc.attack(t, s, h)
			h.drain()
			h.close()
			c := waitH2Counters(t, s, func(c H2Counters) bool {
				return c.ConnsOpen == 0 && c.StreamsOpen == 0 && tc.done(c)
			})
			t.Logf("%+v", c)
			h2Honest(t, s)
			if st := s.Stats(); st.Panics != 0 {
				t.Errorf("panics: %s", st)
			}
		})
	}
}

// TestH2AttackClosesAfterGoAway sends, after its own GOAWAY, an unknown
// frame, a PING and DATA on an idle (even) stream: GOAWAY(PROTOCOL_ERROR),
// and the server closes the socket at once (drain returns at the close,
// not at its deadline), so that the counters the other cases wait for come
// soon.
func TestH2AttackClosesAfterGoAway(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	h := dialH2Raw(t, s.Addr().String())
	defer h.close()
	h.w.WriteGoAway(0, http2.ErrCodeNo, nil)
	h.w.WriteRawFrame(0xff, 0, 0, nil)
	h.w.WritePing(false, [8]byte{})
	h.w.WriteData(2, false, nil) // DATA on an idle, even stream
	h.flush()
	h.goAway(http2.ErrCodeProtocol)
	start := time.Now()
	h.drain()
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("server kept the connection %v after GOAWAY", d)
	}
	var ne net.Error
	if _, err := h.c.Read(make([]byte, 1)); errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection still open")
	}
}

// TestH2AttackFileCut cuts a stream whose file response waits for window
// (the client gave none), by RST_STREAM and by closing the connection:
// the file must be closed and the stream gone (the fix in h2Sink.StreamEnd;
// startHTTP's cleanup checks the fds too).
func TestH2AttackFileCut(t *testing.T) {
	for _, how := range []string{"reset", "close"} {
		t.Run(how, func(t *testing.T) {
			s, _, _ := startHTTP(t, Config{})
			h := dialH2Raw(t, s.Addr().String(), http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			defer h.close()
			h.request(1, "GET", "/big.bin", true)
			h.flush()
			h.response1Head(1)
			if !strings.Contains(fdList(), "big.bin") {
				t.Fatal("big.bin is not open while its response waits")
			}
			if how == "reset" {
				h.w.WriteRSTStream(1, http2.ErrCodeCancel)
				h.flush()
				waitH2Counters(t, s, func(c H2Counters) bool { return c.StreamsOpen == 0 && c.ConnsOpen == 1 })
			} else {
				h.close()
				waitH2Counters(t, s, func(c H2Counters) bool { return c.StreamsOpen == 0 && c.ConnsOpen == 0 })
			}
			deadline := time.Now().Add(5 * time.Second)
			for strings.Contains(fdList(), "big.bin") && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if l := fdList(); strings.Contains(l, "big.bin") {
				t.Fatalf("the file is still open after its stream was cut:%s", l)
			}
			h.close()
			h2Honest(t, s)
		})
	}
}

// TestH2AttackPausedBodies opens streams whose handlers pause their
// bodies and sends all the flow control lets it: what the server holds for
// them is bounded by the connection window (1 MiB), not by the streams'
// windows (8 x 256 KiB), because a stream gives the connection's credit
// back only as its handler takes the bytes. Resetting the streams frees
// what they held, and the credit comes back; the resets are counted while
// the connection is still open.
func TestH2AttackPausedBodies(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	h := dialH2Raw(t, s.Addr().String())
	defer h.close()
	const streams = 8
	for i := range streams {
		h.request(uint32(2*i+1), "POST", "/pause", false)
	}
	h.flush()
	// The framer reuses its frames: the reader passes on what matters.
	type frame struct {
		typ      http2.FrameType
		stream   uint32
		val      uint32 // a WINDOW_UPDATE's increment; SETTINGS' initial window + 1
		settings bool   // a SETTINGS frame to acknowledge
	}
	frames := make(chan frame, 64)
	go func() {
		defer close(frames)
		h.c.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			f, err := h.r.ReadFrame()
			if err != nil {
				return
			}
			fr := frame{typ: f.Header().Type, stream: f.Header().StreamID}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				fr.settings = !f.IsAck()
				if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
					fr.val = v + 1
				}
			case *http2.WindowUpdateFrame:
				fr.val = f.Increment
			}
			frames <- fr
		}
	}()
	connWin, initial := int64(65535), int64(65535)
	sent := make([]int64, streams)
	stream := make([]int64, streams) // credit beyond the initial window
	var total int64
	chunk := make([]byte, 16384)
	// take applies a frame from the server.
	take := func(f frame, ok bool) {
		switch {
		case !ok:
			t.Fatal("the server closed the connection")
		case f.settings:
			if f.val > 0 {
				initial = int64(f.val - 1)
			}
			h.w.WriteSettingsAck()
		case f.typ == http2.FrameWindowUpdate && f.stream == 0:
			connWin += int64(f.val)
		case f.typ == http2.FrameWindowUpdate:
			if i := int(f.stream-1) / 2; i < streams {
				stream[i] += int64(f.val)
			}
		case f.typ == http2.FrameRSTStream || f.typ == http2.FrameGoAway:
			t.Fatalf("the server answered %v on stream %d", f.typ, f.stream)
		}
	}
	for quiet := 0; quiet < 3; {
		select {
		case f, ok := <-frames:
			take(f, ok)
			quiet = 0
		case <-time.After(200 * time.Millisecond):
			quiet++
		}
		for i := range streams {
			for {
				n := min(connWin, initial+stream[i]-sent[i], int64(len(chunk)))
				if n <= 0 {
					break
				}
				h.w.WriteData(uint32(2*i+1), false, chunk[:n])
				connWin -= n
				sent[i] += n
				total += n
			}
		}
		h.flush()
	}
	if total > h2.DefaultConnWindow || total < h2.DefaultConnWindow/2 {
		t.Fatalf("sent %d bytes to paused streams: the server held more than its connection window (%d), or took too little", total, h2.DefaultConnWindow)
	}
	// The connection still serves a request without a body.
	h.request(2*streams+1, "GET", "/plaintext", true)
	h.flush()
	got := false
	deadline := time.After(10 * time.Second)
	for !got {
		select {
		case f, ok := <-frames:
			if f.typ == http2.FrameHeaders && f.stream == 2*streams+1 {
				got = true
			} else {
				take(f, ok)
			}
		case <-deadline:
			t.Fatal("no answer to a GET beside the paused streams")
		}
	}
	// Resetting the paused streams gives their credit back.
	before := connWin
	for i := range streams {
		h.w.WriteRSTStream(uint32(2*i+1), http2.ErrCodeCancel)
	}
	h.flush()
	for connWin-before < total/2 {
		select {
		case f, ok := <-frames:
			take(f, ok)
		case <-deadline:
			t.Fatalf("credit back after the resets: %d of %d", connWin-before, total)
		}
	}
	// The engine's counters are live: the connection is still open.
	waitH2Counters(t, s, func(c H2Counters) bool {
		return c.StreamsOpen == 0 && c.ResetsReceived == streams && c.ConnsOpen == 1
	})
}

// response1Head reads until stream id's response HEADERS.
func (h *h2raw) response1Head(id uint32) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if f, ok := h.next(deadline).(*http2.MetaHeadersFrame); ok && f.StreamID == id {
			return
		}
	}
}

// fdList names the process's open fds.
func fdList() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	var b strings.Builder
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fmt.Fprintf(&b, " %s=%s", e.Name(), l)
	}
	return b.String()
}

// TestH2FilePool opens more file streams at once than a loop lends read
// buffers (h2FileBuffers), with every window shut (SETTINGS_INITIAL_
// WINDOW_SIZE 0): the first ones hold a buffer read ahead, the others are
// read with pread once their window opens. Every body arrives whole, and
// the pool gets every buffer back.
func TestH2FilePool(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		s, _ := startHTTPOn(t, kind, Config{Net: netserver.Config{Loops: 1}})
		h := dialH2Raw(t, s.Addr().String(), http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		defer h.close()
		const streams = h2FileBuffers + 8
		const size = 200000
		for i := range streams {
			h.w.WriteHeaders(http2.HeadersFrameParam{
				StreamID: uint32(2*i + 1),
				BlockFragment: h.block(":method", "GET", ":scheme", "http", ":authority", "x",
					":path", "/big.bin", "range", fmt.Sprintf("bytes=%d-%d", i, i+size-1)),
				EndStream: true, EndHeaders: true,
			})
		}
		h.flush()
		bodies := make([][]byte, streams)
		heads, ended := 0, 0
		deadline := time.Now().Add(30 * time.Second)
		for ended < streams {
			switch f := h.next(deadline).(type) {
			case *http2.MetaHeadersFrame:
				if st := f.PseudoValue("status"); st != "206" {
					t.Fatalf("stream %d: status %s", f.StreamID, st)
				}
				if heads++; heads == streams { // every stream waits: open the windows
					waitFor(t, "the pool lent out", func() bool { return h2PoolOut(t, s) == h2FileBuffers }, s)
					h.w.WriteWindowUpdate(0, 1<<30)
					for i := range streams {
						h.w.WriteWindowUpdate(uint32(2*i+1), 1<<30)
					}
					h.flush()
				}
			case *http2.DataFrame:
				i := int(f.StreamID-1) / 2
				bodies[i] = append(bodies[i], f.Data()...)
				if f.StreamEnded() {
					ended++
				}
			case *http2.RSTStreamFrame, *http2.GoAwayFrame:
				t.Fatalf("the server answered %v", f)
			}
		}
		for i, b := range bodies {
			if !bytes.Equal(b, bigContent[i:i+size]) {
				t.Fatalf("stream %d: %d bytes, not the file's", 2*i+1, len(b))
			}
		}
		waitFor(t, "the pool back", func() bool { return h2PoolOut(t, s) == 0 }, s)
	})
}

// h2PoolOut returns the read buffers loop 0 has lent.
func h2PoolOut(t *testing.T, s *Server) int {
	t.Helper()
	res := make(chan int, 1)
	if err := s.ns.RunOnLoop(0, func() { res <- s.loops[0].h2bufsOut }); err != nil {
		t.Fatal(err)
	}
	return <-res
}
