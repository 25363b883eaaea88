package h2

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func status(s string, kv ...string) []hpack.HeaderField {
	fs := []hpack.HeaderField{{Name: ":status", Value: s}}
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

// session is a Conn past its handshake, with the frames it wrote since.
type session struct {
	t    *testing.T
	c    *Conn
	r    *recorder
	cl   *client
	clk  *clock
	seen int
}

func newSession(t *testing.T, cfg Config, settings ...http2.Setting) *session {
	clk := newClock()
	cfg.Now = clk.now
	c, r := newConn(cfg)
	s := &session{t: t, c: c, r: r, cl: newClient().start(settings...), clk: clk}
	s.send()
	after(t, s.frames())
	return s
}

// send feeds what the client wrote since the last send.
func (s *session) send() {
	s.t.Helper()
	b := s.cl.buf.Bytes()
	s.cl.buf.Reset()
	if err := s.c.Input(b); err != nil {
		s.t.Fatalf("Input: %v", err)
	}
}

// frames returns the frames written since the last call.
func (s *session) frames() []string {
	s.t.Helper()
	all := frames(s.t, s.r.out.Bytes())
	got := all[s.seen:]
	s.seen = len(all)
	return got
}

func (s *session) expect(want ...string) {
	s.t.Helper()
	if got := s.frames(); !slices.Equal(got, want) {
		s.t.Fatalf("frames:\n got %q\nwant %q", got, want)
	}
}

func (s *session) write(id uint32, n int, end bool) int {
	s.t.Helper()
	w, err := s.c.WriteData(id, make([]byte, n), end)
	if err != nil {
		s.t.Fatalf("WriteData: %v", err)
	}
	return w
}

func TestWriteResponse(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, true, get("/")...)
	s.send()
	if err := s.c.WriteHeaders(1, status("200", "content-type", "text/plain"), false); err != nil {
		t.Fatal(err)
	}
	if n := s.write(1, 5, true); n != 5 {
		t.Fatalf("wrote %d", n)
	}
	s.expect("HEADERS 1 end=false :status=200 content-type=text/plain", "DATA 1 5 end=true")
	if _, err := s.c.WriteData(1, []byte("x"), false); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("WriteData after the end: %v", err)
	}
	if err := s.c.WriteHeaders(1, status("200"), true); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("WriteHeaders after the end: %v", err)
	}
	if s.c.Streams() != 0 {
		t.Fatalf("%d streams left", s.c.Streams())
	}
}

func TestWriteHeadersContinuation(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, true, get("/")...)
	s.send()
	long := strings.Repeat("a", 40000)
	if err := s.c.WriteHeaders(1, status("200", "x-long", long), true); err != nil {
		t.Fatal(err)
	}
	got := s.frames()
	if len(got) != 2 || !strings.HasPrefix(got[0], "HEADERS 1 end=true") || got[1] != "CONTINUATION" {
		t.Fatalf("frames %.80q", got)
	}
}

func TestWriteTrailers(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, true, get("/")...)
	s.send()
	s.c.WriteHeaders(1, status("200"), false)
	s.write(1, 3, false)
	s.c.WriteHeaders(1, status("")[1:], true)
	s.expect("HEADERS 1 end=false :status=200", "DATA 1 3 end=false", "HEADERS 1 end=true ")
}

func TestWriteDataWindows(t *testing.T) {
	// The peer's INITIAL_WINDOW_SIZE of 10 and MAX_FRAME_SIZE of 16384.
	s := newSession(t, Config{}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
	s.cl.headers(1, true, get("/")...)
	s.send()
	s.c.WriteHeaders(1, status("200"), false)
	if n := s.write(1, 25, true); n != 10 {
		t.Fatalf("wrote %d, want 10", n)
	}
	if n := s.write(1, 15, true); n != 0 {
		t.Fatalf("wrote %d at a zero window", n)
	}
	s.expect("HEADERS 1 end=false :status=200", "DATA 1 10 end=false")

	// WINDOW_UPDATE reopens it.
	s.cl.fr.WriteWindowUpdate(1, 5)
	s.send()
	if !slices.Equal(s.r.events, []string{"headers 1 end=true", "window 1"}) {
		t.Fatalf("events %q", s.r.events)
	}
	if n := s.write(1, 15, true); n != 5 {
		t.Fatalf("wrote %d, want 5", n)
	}
	// SETTINGS raising INITIAL_WINDOW_SIZE moves the window by the delta.
	s.cl.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 30})
	s.send()
	if n := s.write(1, 10, true); n != 10 {
		t.Fatalf("wrote %d, want 10", n)
	}
	s.expect("DATA 1 5 end=false", "SETTINGS ACK", "DATA 1 10 end=true")
	if got := s.r.events[len(s.r.events)-1]; got != "window 1" {
		t.Fatalf("last event %q", got)
	}
}

func TestWriteDataNegativeWindow(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, true, get("/")...)
	s.send()
	s.write(1, 60000, false)
	s.cl.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1000})
	s.send()
	if n := s.write(1, 10, false); n != 0 {
		t.Fatalf("wrote %d at a negative window", n)
	}
	s.cl.fr.WriteWindowUpdate(1, 59000) // back to 0: still closed
	s.send()
	s.cl.fr.WriteWindowUpdate(1, 1)
	s.send()
	if n := s.write(1, 10, false); n != 1 {
		t.Fatalf("wrote %d, want 1", n)
	}
}

func TestWriteDataFrameSizeAndConnWindow(t *testing.T) {
	s := newSession(t, Config{}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20},
		http2.Setting{ID: http2.SettingMaxFrameSize, Val: 20000})
	s.cl.headers(1, true, get("/")...)
	s.cl.headers(3, true, get("/")...)
	s.send()
	if n := s.write(1, 50000, false); n != 50000 {
		t.Fatalf("wrote %d", n)
	}
	if n := s.write(3, 50000, false); n != 65535-50000 {
		t.Fatalf("wrote %d, want the connection window's rest", n)
	}
	s.expect("DATA 1 20000 end=false", "DATA 1 20000 end=false", "DATA 1 10000 end=false", "DATA 3 15535 end=false")
	s.cl.fr.WriteWindowUpdate(0, 100)
	s.send()
	if got := s.r.events[len(s.r.events)-1]; got != "window 3" {
		t.Fatalf("events %q", s.r.events)
	}
}

func TestWriteReset(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, false, post("/")...)
	s.send()
	if err := s.c.WriteReset(1, http2.ErrCodeCancel); err != nil {
		t.Fatal(err)
	}
	if err := s.c.WriteReset(1, http2.ErrCodeCancel); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("second WriteReset: %v", err)
	}
	s.expect("RST_STREAM 1 CANCEL")
	if s.c.Stats().ResetsSent != 1 {
		t.Fatalf("ResetsSent = %d", s.c.Stats().ResetsSent)
	}
}

// Shutdown in two steps: GOAWAY(2^31-1) and a PING; a stream opened
// before the PING's ACK is served; the ACK brings the final GOAWAY naming
// it, and a stream above it is ignored.
func TestShutdown(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, false, post("/")...)
	s.send()
	s.c.Shutdown()
	s.c.Shutdown() // once
	if !s.c.ShuttingDown() {
		t.Fatal("ShuttingDown = false")
	}
	s.expect("GOAWAY 2147483647 NO_ERROR", "PING ack=false shutdown")
	s.cl.headers(3, true, get("/meanwhile")...) // before the ACK: served
	s.cl.fr.WritePing(true, shutdownPing)
	s.cl.headers(5, false, get("/late")...) // above the final GOAWAY: ignored
	s.cl.fr.WriteData(5, true, []byte("x"))
	s.cl.fr.WriteData(1, true, []byte("body"))
	s.send()
	s.expect("GOAWAY 3 NO_ERROR")
	s.c.WriteHeaders(3, status("200"), true)
	s.c.WriteHeaders(1, status("200"), true)
	s.expect("HEADERS 3 end=true :status=200", "HEADERS 1 end=true :status=200")
	want := []string{"headers 1 end=false", "headers 3 end=true", "data 1 4 end=true", "closed <nil>"}
	if !slices.Equal(s.r.events, want) {
		t.Fatalf("events %q, want %q", s.r.events, want)
	}
	if err := s.c.Input([]byte("x")); err != nil {
		t.Fatalf("Input after a graceful end: %v", err)
	}
	if _, err := s.c.WriteData(1, nil, true); !errors.Is(err, ErrConnClosed) {
		t.Fatalf("WriteData after the end: %v", err)
	}
	if got := s.c.Stats().GoAwaySent; got != 2 {
		t.Fatalf("GoAwaySent = %d, want 2", got)
	}
}

// An idle connection's Shutdown ends at the PING's ACK, or at
// ShutdownTimeout without one; a negative ShutdownTimeout sends a single
// GOAWAY and ends at once.
func TestShutdownIdle(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		ack     bool
		before  []string // frames after Shutdown
		after   []string // frames after the ACK or the timeout
	}{
		{"ack", 0, true, []string{"GOAWAY 2147483647 NO_ERROR", "PING ack=false shutdown"}, []string{"GOAWAY 0 NO_ERROR"}},
		{"timeout", 0, false, []string{"GOAWAY 2147483647 NO_ERROR", "PING ack=false shutdown"}, []string{"GOAWAY 0 NO_ERROR"}},
		{"one step", -1, false, []string{"GOAWAY 0 NO_ERROR"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{ShutdownTimeout: tc.timeout})
			s.c.Shutdown()
			s.expect(tc.before...)
			if tc.timeout < 0 {
				if !slices.Equal(s.r.events, []string{"closed <nil>"}) {
					t.Fatalf("events %q", s.r.events)
				}
				return
			}
			s.c.Tick(s.clk.t.Add(DefaultShutdownTimeout / 2))
			s.cl.fr.WritePing(true, [8]byte{'o', 't', 'h', 'e', 'r'}) // not ours
			s.send()
			if len(s.r.events) != 0 {
				t.Fatalf("ended early: %q", s.r.events)
			}
			if tc.ack {
				s.cl.fr.WritePing(true, shutdownPing)
				s.send()
			} else {
				s.c.Tick(s.clk.t.Add(DefaultShutdownTimeout + time.Millisecond))
			}
			s.expect(tc.after...)
			if !slices.Equal(s.r.events, []string{"closed <nil>"}) {
				t.Fatalf("events %q", s.r.events)
			}
		})
	}
}

func TestGoAway(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, true, get("/")...)
	s.send()
	s.c.GoAway(http2.ErrCodeInternal)
	s.c.GoAway(http2.ErrCodeInternal)
	s.expect("GOAWAY 1 INTERNAL_ERROR")
	if err := s.c.Input([]byte("x")); code(err) != "INTERNAL_ERROR" || s.r.closed != 1 {
		t.Fatalf("Input after GoAway: %v, closed %d", err, s.r.closed)
	}
	if err := s.c.WriteReset(1, http2.ErrCodeCancel); !errors.Is(err, ErrConnClosed) {
		t.Fatalf("WriteReset: %v", err)
	}
	if !strings.Contains(s.c.Err().Error(), "INTERNAL_ERROR") {
		t.Fatalf("Err %v", s.c.Err())
	}
}

func TestStallTimeout(t *testing.T) {
	s := newSession(t, Config{StallTimeout: time.Second}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	s.cl.headers(1, true, get("/")...)
	s.cl.headers(3, true, get("/")...)
	s.send()
	s.write(1, 10, true) // stalls
	s.write(3, 0, false) // wrote all it asked: no stall
	s.c.Tick(s.clk.t.Add(500 * time.Millisecond))
	s.expect()
	s.c.Tick(s.clk.t.Add(2 * time.Second))
	s.expect("RST_STREAM 1 CANCEL")
	if s.c.Stats().StallResets != 1 || s.r.events[len(s.r.events)-1] != "reset 1 CANCEL" {
		t.Fatalf("stats %+v, events %q", s.c.Stats(), s.r.events)
	}
}

func TestPauseResume(t *testing.T) {
	s := newSession(t, Config{InitialWindow: 100})
	s.cl.headers(1, false, post("/")...)
	s.cl.fr.WriteData(1, false, make([]byte, 60))
	s.send()
	s.c.Pause(1)
	s.c.Consumed(1, 60)
	s.expect()
	s.c.Resume(1)
	s.expect("WINDOW_UPDATE 1 60")
	s.c.Consumed(99, 10) // an unknown stream credits the connection only
	s.c.Consumed(1, 0)
	s.expect()
}

func TestConfigDefaults(t *testing.T) {
	cfg := Config{MaxFrameSize: 1, InitialWindow: 1 << 31}.withDefaults()
	if cfg.MaxFrameSize != 16384 || cfg.InitialWindow != maxWindow || cfg.MaxConcurrentStreams != 128 ||
		cfg.ResetBurst != 200 || cfg.Now == nil || cfg.StallTimeout != DefaultStallTimeout {
		t.Fatalf("%+v", cfg)
	}
}

func TestStreamState(t *testing.T) {
	for _, tt := range []struct {
		st   stream
		want string
	}{
		{stream{}, "open"},
		{stream{remoteDone: true}, "half-closed (remote)"},
		{stream{localDone: true}, "half-closed (local)"},
		{stream{remoteDone: true, localDone: true}, "closed"},
	} {
		if got := tt.st.state(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.st, got, tt.want)
		}
	}
}

func TestSettingsTimeout(t *testing.T) {
	s := newSession(t, Config{})
	s.c.Tick(s.clk.t.Add(5 * time.Second))
	s.expect()
	s.c.Tick(s.clk.t.Add(11 * time.Second))
	s.expect("GOAWAY 0 SETTINGS_TIMEOUT")
	if code(s.c.Err()) != "SETTINGS_TIMEOUT" || s.r.closed != 1 {
		t.Fatalf("Err %v, closed %d", s.c.Err(), s.r.closed)
	}
	s.c.Tick(s.clk.t.Add(time.Hour)) // nothing more
	s.expect()

	acked := newSession(t, Config{})
	acked.cl.fr.WriteSettingsAck()
	acked.send()
	acked.c.Tick(acked.clk.t.Add(time.Hour))
	acked.expect()
}

func TestInitialWindowOverflow(t *testing.T) {
	s := newSession(t, Config{})
	s.cl.headers(1, true, get("/")...)
	s.cl.fr.WriteWindowUpdate(1, 1<<31-1-65535)
	s.cl.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65536})
	b := s.cl.buf.Bytes()
	if err := s.c.Input(b); code(err) != "FLOW_CONTROL_ERROR" {
		t.Fatalf("Input: %v", err)
	}
	s.expect("GOAWAY 1 FLOW_CONTROL_ERROR")
}

func TestReentrantInput(t *testing.T) {
	s := newSession(t, Config{})
	var inner error
	other := s.c.loop.NewConn(Config{}, &recorder{})
	s.r.onHeaders = func(id uint32, end bool) { inner = other.Input([]byte("x")) }
	s.cl.headers(1, true, get("/")...)
	s.send()
	if inner == nil {
		t.Fatal("Input from an event accepted")
	}
}

func TestLargeOutputReleased(t *testing.T) {
	s := newSession(t, Config{}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	s.cl.fr.WriteWindowUpdate(0, 1<<20)
	s.cl.headers(1, true, get("/")...)
	s.send()
	if n := s.write(1, 200<<10, true); n != 200<<10 {
		t.Fatalf("wrote %d", n)
	}
	if s.c.out != nil {
		t.Fatalf("output buffer of %d bytes kept", s.c.out.Cap())
	}
	if s.c.loop.spare == nil || s.c.loop.spare.Cap() < 200<<10 {
		t.Fatal("the large buffer did not go to the Loop's spare")
	}
	s.c.Shutdown() // borrows the spare and gives it back
	if s.c.out != nil || s.c.loop.spare == nil {
		t.Fatal("the spare was not given back")
	}
	small := &bytes.Buffer{}
	s.c.loop.putSpare(small) // a smaller one does not replace it
	if s.c.loop.spare == small {
		t.Fatal("a small buffer replaced the spare")
	}
}

func TestConsumedOverCount(t *testing.T) {
	s := newSession(t, Config{InitialWindow: 100, ConnWindow: 65535})
	s.cl.headers(1, false, post("/")...)
	s.cl.fr.WriteData(1, false, make([]byte, 60))
	s.send()
	s.c.Consumed(1, 1<<30) // more than was delivered
	s.expect("WINDOW_UPDATE 1 60")
	s.c.Consumed(1, 1<<30)
	s.expect()
}

func TestPaddingCredited(t *testing.T) {
	s := newSession(t, Config{InitialWindow: 16})
	s.r.consume = true
	s.cl.headers(1, false, post("/")...)
	s.cl.fr.WriteDataPadded(1, false, []byte("a"), make([]byte, 6)) // 8 bytes of window
	s.send()
	s.expect("WINDOW_UPDATE 1 8")
	s.cl.fr.WriteDataPadded(1, false, []byte("a"), make([]byte, 14)) // the whole window
	s.send()
	s.expect("WINDOW_UPDATE 1 15") // the padding at once; the byte when half a window is owed
}

func TestHeaderTimeout(t *testing.T) {
	clk := newClock()
	c, r := newConn(Config{HeaderTimeout: time.Second, Now: clk.now})
	c.Input([]byte(ClientPreface[:5]))
	c.Tick(clk.t.Add(500 * time.Millisecond))
	c.Tick(clk.t.Add(2 * time.Second))
	if got := frames(t, r.out.Bytes()); !slices.Equal(got, []string{"GOAWAY 0 PROTOCOL_ERROR"}) || r.closed != 1 {
		t.Fatalf("preface timeout: frames %q, closed %d", got, r.closed)
	}

	s := newSession(t, Config{HeaderTimeout: time.Second})
	s.cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: s.cl.block(get("/")...)})
	s.send()
	s.c.Tick(s.clk.t.Add(500 * time.Millisecond))
	s.expect()
	s.c.Tick(s.clk.t.Add(2 * time.Second))
	s.expect("GOAWAY 0 PROTOCOL_ERROR")

	done := newSession(t, Config{HeaderTimeout: time.Second, SettingsTimeout: -1, StallTimeout: -1})
	b := done.cl.block(get("/")...)
	done.cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:2], EndStream: true})
	done.cl.fr.WriteContinuation(1, true, b[2:])
	done.send()
	done.c.Tick(done.clk.t.Add(time.Hour))
	done.expect()
}
