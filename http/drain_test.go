package http

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// drainChunk and drainChunks make /stream's body: drainChunks pieces of
// drainChunk bytes, each a different letter.
const (
	drainChunk  = 4 << 10
	drainChunks = 20
)

// drainBody is /stream's body.
func drainBody() []byte {
	var b bytes.Buffer
	for i := range drainChunks {
		b.Write(bytes.Repeat([]byte{byte('a' + i%26)}, drainChunk))
	}
	return b.Bytes()
}

// drainHandler serves the drain tests:
//
//	/plain    a small response, on the loop
//	/stream   drainBody, a piece every gap from a goroutine (Send, then
//	          EndResponse); with hold set, it waits for hold to close
//	          after the first piece
//	/big.bin  a large file (SendFile)
//	/upgrade  101, then Detach to an echoing netserver.Handler
type drainHandler struct {
	NopHTTPHandler
	s       *Server
	gap     time.Duration
	hold    chan struct{}
	started chan struct{} // a send per /stream that began
	wg      sync.WaitGroup
}

func (h *drainHandler) HTTPRead(req *Request, c netserver.ClientNum, failed bool) {
	switch string(req.Path) {
	case "/plain":
		h.s.Respond(c, 200, "text/plain", []byte("plain"))
	case "/stream":
		body := drainBody()
		h.s.Send(c, h.s.AppendHead(nil, c, 200, "application/octet-stream", int64(len(body))))
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if h.started != nil {
				h.started <- struct{}{}
			}
			for i := range drainChunks {
				if i > 0 {
					time.Sleep(h.gap)
				}
				if i == 1 && h.hold != nil {
					<-h.hold
				}
				if h.s.Send(c, body[i*drainChunk:(i+1)*drainChunk]) != nil {
					return // closed
				}
			}
			h.s.EndResponse(c)
		}()
	case "/upgrade":
		h.s.Send(c, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"))
		if err := h.s.Detach(c, echoHandler{ns: h.s.Net()}); err != nil {
			panic(err)
		}
	default:
		h.s.SendFile(req, c, "")
	}
}

// echoHandler is a detached connection's handler: it echoes what it reads.
type echoHandler struct {
	netserver.NopHandler
	ns *netserver.Server
}

func (e echoHandler) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	if !failed {
		e.ns.Send(c, data)
	}
}

// bigFile is the size of /big.bin.
const bigFile = 8 << 20

// startDrain starts a server with h on backend kind (see startHTTPOn) and
// a root holding /big.bin; at cleanup it closes the server and checks
// that Serve ended well.
func startDrain(t *testing.T, kind string, cfg Config, h *drainHandler) *Server {
	t.Helper()
	return startDrainWith(t, kind, cfg, h, h)
}

// startDrainWith is startDrain with hh as the server's handler: one that
// wraps h.
func startDrainWith(t *testing.T, kind string, cfg Config, h *drainHandler, hh HTTPHandler) *Server {
	t.Helper()
	root := t.TempDir()
	big := make([]byte, bigFile)
	for i := range big {
		big[i] = byte(i * 7 >> 8)
	}
	if err := os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Root = root
	cfg.Net.Backend = kind
	cfg.Net.Addrs = []string{"127.0.0.1:0"}
	cfg.Net.Logger = testLog()
	if cfg.Net.Loops == 0 {
		cfg.Net.Loops = 1
	}
	if h.gap == 0 {
		h.gap = 50 * time.Millisecond
	}
	s, err := NewServer(cfg, hh)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if h.hold != nil {
			select {
			case <-h.hold:
			default:
				close(h.hold)
			}
		}
		h.wg.Wait()
		if st := s.Stats(); st.TasksInFlight != 0 || st.Stale != 0 || st.Panics != 0 {
			t.Errorf("after close: %s", st)
		}
	})
	return s
}

// drainConn is a client connection of the drain tests.
type drainConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialDrain(t *testing.T, s *Server) *drainConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &drainConn{t: t, c: c, r: bufio.NewReader(c)}
}

func (d *drainConn) send(req string) {
	d.t.Helper()
	if _, err := d.c.Write([]byte(req)); err != nil {
		d.t.Fatalf("write: %v", err)
	}
}

// response reads a response head.
func (d *drainConn) response() *nethttp.Response {
	d.t.Helper()
	resp, err := nethttp.ReadResponse(d.r, nil)
	if err != nil {
		d.t.Fatalf("reading a response: %v", err)
	}
	return resp
}

// get sends a GET for path and reads the whole response.
func (d *drainConn) get(path string) (*nethttp.Response, []byte) {
	d.t.Helper()
	d.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
	resp := d.response()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("reading %s: %v", path, err)
	}
	return resp, body
}

// eof checks that the server closed the connection (an end of file,
// nothing before it), then closes the client's side, which ends the
// server's lingering.
func (d *drainConn) eof() {
	d.t.Helper()
	rest, err := io.ReadAll(d.r)
	d.c.Close()
	if err != nil || len(rest) > 0 {
		d.t.Fatalf("after the last response: %q, %v; want an end of file", rest, err)
	}
}

// startDrainCall runs s.Drain in a goroutine and returns its result's
// channel; it returns once Drain has begun.
func startDrainCall(s *Server, ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Drain(ctx) }()
	for !s.Draining() {
		time.Sleep(time.Millisecond)
	}
	return done
}

// drained waits for Drain's result.
func drained(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Drain did not return")
		return nil
	}
}

// waitAccepted waits until the server has accepted n connections.
func waitAccepted(t *testing.T, s *Server, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Accepted < n {
		if time.Now().After(deadline) {
			t.Fatalf("accepted %d connections, want %d", s.Stats().Accepted, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// During a drain, a keep-alive connection's next request is answered in
// full, with Connection: close, and the connection closes after it; Drain
// returns then. Whatever the connection was doing when the drain began:
// waiting after a keep-alive response, halfway through a request head, or
// nothing yet.
func TestDrainNextRequest(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		for _, tc := range []struct {
			name   string
			before func(d *drainConn) // before the drain
			after  string             // the request's rest, sent during the drain
		}{
			{"after a keep-alive response", func(d *drainConn) {
				resp, body := d.get("/plain")
				if resp.Close || string(body) != "plain" {
					d.t.Fatalf("before the drain: close %v, %q", resp.Close, body)
				}
			}, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"},
			{"partial head", func(d *drainConn) {
				d.send("GET /plain HTTP/1.1\r\nHo")
			}, "st: x\r\n\r\n"},
			{"fresh connection", func(d *drainConn) {}, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"},
			{"HTTP/1.0 keep-alive", func(d *drainConn) {
				d.send("GET /plain HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
				resp := d.response()
				body, _ := io.ReadAll(resp.Body)
				if resp.Close || string(body) != "plain" {
					d.t.Fatalf("before the drain: close %v, %q", resp.Close, body)
				}
			}, "GET /plain HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := startDrain(t, kind, Config{DrainIdleTimeout: time.Minute}, &drainHandler{})
				d := dialDrain(t, s)
				waitAccepted(t, s, 1)
				tc.before(d)
				done := startDrainCall(s, context.Background())
				d.send(tc.after)
				resp := d.response()
				body, err := io.ReadAll(resp.Body)
				if err != nil || string(body) != "plain" {
					t.Fatalf("during the drain: %q, %v", body, err)
				}
				if !resp.Close { // ReadResponse takes Connection: close out of Header
					t.Error("during the drain: no Connection: close")
				}
				d.eof()
				if err := drained(t, done); err != nil {
					t.Fatalf("Drain: %v", err)
				}
				if c := s.Counters(); c.DrainClosed != 0 || c.IdleTimeouts != 0 || c.HeaderTimeouts != 0 {
					t.Errorf("counters %+v: the connection closed after its response, not for idleness", c)
				}
			})
		}
	})
}

// A keep-alive connection that sends nothing is closed by the drain after
// DrainIdleTimeout (at once when it is negative), the polite way (an end
// of file, no reset), and counted in DrainClosed, not IdleTimeouts.
func TestDrainIdle(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		for _, tc := range []struct {
			name  string
			idle  time.Duration
			get   bool // a request before the drain
			loops int
		}{
			{"100ms after a response", 100 * time.Millisecond, true, 1},
			{"at once after a response", -1, true, 1},
			{"100ms, no request", 100 * time.Millisecond, false, 1},
			{"at once, 3 loops", -1, true, 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := Config{DrainIdleTimeout: tc.idle}
				cfg.Net.Loops = tc.loops
				s := startDrain(t, kind, cfg, &drainHandler{})
				var ds []*drainConn
				for range 3 {
					d := dialDrain(t, s)
					if tc.get {
						if _, body := d.get("/plain"); string(body) != "plain" {
							t.Fatalf("before the drain: %q", body)
						}
					}
					ds = append(ds, d)
				}
				waitAccepted(t, s, 3)
				done := startDrainCall(s, context.Background())
				for _, d := range ds {
					d.eof()
				}
				if err := drained(t, done); err != nil {
					t.Fatalf("Drain: %v", err)
				}
				if c := s.Counters(); c.DrainClosed != 3 || c.IdleTimeouts != 0 {
					t.Errorf("counters %+v, want DrainClosed 3, no IdleTimeouts", c)
				}
			})
		}
	})
}

// A response in flight when the drain begins, streamed by a goroutine or
// spliced from a file to a client that reads slowly, goes out whole; Drain
// returns only after it.
func TestDrainInFlight(t *testing.T) {
	big, streamed := bytes.Buffer{}, drainBody()
	for i := range bigFile {
		big.WriteByte(byte(i * 7 >> 8))
	}
	onBackends(t, func(t *testing.T, kind string) {
		for _, tc := range []struct {
			path string
			want []byte
			slow bool // the client reads slowly
		}{
			{"/stream", streamed, false},
			{"/big.bin", big.Bytes(), true},
		} {
			t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
				// A long LingerTimeout: the slow reader has all the time it
				// needs for what the kernel holds when the response ends.
				cfg := Config{DrainIdleTimeout: 100 * time.Millisecond, LingerTimeout: time.Minute}
				s := startDrain(t, kind, cfg, &drainHandler{})
				d := dialDrain(t, s)
				d.send("GET " + tc.path + " HTTP/1.1\r\nHost: x\r\n\r\n")
				resp := d.response()
				done := startDrainCall(s, context.Background())
				var got bytes.Buffer
				buf := make([]byte, 32<<10)
				for {
					n, err := resp.Body.Read(buf)
					got.Write(buf[:n])
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("after %d bytes: %v", got.Len(), err)
					}
					if got.Len() < len(tc.want) {
						select {
						case err := <-done:
							t.Fatalf("Drain returned (%v) with %d of %d bytes sent", err, got.Len(), len(tc.want))
						default:
						}
					}
					if tc.slow {
						time.Sleep(2 * time.Millisecond)
					}
				}
				if !bytes.Equal(got.Bytes(), tc.want) {
					t.Fatalf("body: %d bytes, want %d, or they differ", got.Len(), len(tc.want))
				}
				d.eof()
				if err := drained(t, done); err != nil {
					t.Fatalf("Drain: %v", err)
				}
			})
		}
	})
}

// Once a drain has begun, new connections are refused: the server accepts
// none of them.
func TestDrainRefusesNew(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		s := startDrain(t, kind, Config{}, &drainHandler{})
		d := dialDrain(t, s)
		if _, body := d.get("/plain"); string(body) != "plain" {
			t.Fatalf("before the drain: %q", body)
		}
		done := startDrainCall(s, context.Background())
		// The listener closes on the loop, soon after Drain began.
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("still accepting 10 s after the drain began")
			}
			time.Sleep(5 * time.Millisecond)
		}
		accepted := s.Stats().Accepted
		for range 5 {
			if c, err := net.Dial("tcp", s.Addr().String()); err == nil {
				c.Write([]byte("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"))
				c.SetReadDeadline(time.Now().Add(time.Second))
				if n, _ := c.Read(make([]byte, 100)); n > 0 {
					t.Error("a connection made during the drain was answered")
				}
				c.Close()
			}
		}
		if got := s.Stats().Accepted; got != accepted {
			t.Errorf("Accepted went from %d to %d during the drain", accepted, got)
		}
		d.eof()
		if err := drained(t, done); err != nil {
			t.Fatalf("Drain: %v", err)
		}
	})
}

// Drain gives up when its context ends, leaving the rest to Shutdown,
// which then ends everything.
func TestDrainDeadline(t *testing.T) {
	h := &drainHandler{hold: make(chan struct{}), started: make(chan struct{}, 1)}
	s := startDrain(t, "", Config{}, h)
	d := dialDrain(t, s)
	d.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	resp := d.response()
	<-h.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain = %v, want %v", err, context.DeadlineExceeded)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	if err := s.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	close(h.hold)
	if n, _ := io.Copy(io.Discard, resp.Body); n >= drainChunk*drainChunks {
		t.Errorf("the held stream was sent whole (%d bytes)", n)
	}
	if _, err := d.r.ReadByte(); err == nil {
		t.Error("the connection is still open after Shutdown")
	}
	if s.open.Load() != 0 {
		t.Errorf("%d connections counted open after Shutdown", s.open.Load())
	}
}

// A connection detached from HTTP (a WebSocket) does not keep Drain
// waiting: it is its new owner's to close, and stays open and working.
func TestDrainDetached(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		s := startDrain(t, kind, Config{DrainIdleTimeout: 100 * time.Millisecond}, &drainHandler{})
		d := dialDrain(t, s)
		d.send("GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		if resp := d.response(); resp.StatusCode != 101 {
			t.Fatalf("status %d, want 101", resp.StatusCode)
		}
		idle := dialDrain(t, s)
		idle.get("/plain")
		done := startDrainCall(s, context.Background())
		idle.eof()
		if err := drained(t, done); err != nil {
			t.Fatalf("Drain: %v", err)
		}
		d.send("ping")
		buf := make([]byte, 4)
		if _, err := io.ReadFull(d.r, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("the detached connection after the drain: %q, %v", buf, err)
		}
	})
}

// Drain before Serve returns at once, and Serve then accepts nothing
// once ready; Drain after Shutdown returns at once too.
func TestDrainLifecycle(t *testing.T) {
	s, err := NewServer(Config{Net: netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, Logger: testLog()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Drain(ctx); err != nil {
		t.Fatalf("Drain before Serve: %v", err)
	}
	if !s.Draining() {
		t.Error("Draining() is false after Drain")
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	<-s.Ready()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("a server drained before Serve still accepts")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if err := s.Drain(ctx); err != nil {
		t.Fatalf("Drain after Shutdown: %v", err)
	}
}

// TestSpreadAt: the moments a drain tells connections to close cover
// the spread evenly, whatever the client numbers (consecutive slots of a
// loop, several loops, later generations).
func TestSpreadAt(t *testing.T) {
	const spread = time.Second
	for _, tt := range []struct {
		name string
		num  func(i int) netserver.ClientNum
	}{
		{"slots", func(i int) netserver.ClientNum { return netserver.ClientNum(uint64(1)<<32 | uint64(i)) }},
		{"loops", func(i int) netserver.ClientNum {
			return netserver.ClientNum(uint64(1)<<32 | uint64(i%4)<<24 | uint64(i/4))
		}},
		{"generations", func(i int) netserver.ClientNum { return netserver.ClientNum(uint64(i+1)<<32 | 7) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buckets [10]int
			const n = 1000
			for i := 0; i < n; i++ {
				at := spreadAt(tt.num(i), spread)
				if at < 0 || at >= spread {
					t.Fatalf("spreadAt = %v, outside [0, %v)", at, spread)
				}
				buckets[at*10/spread]++
			}
			for i, b := range buckets {
				if b < n/20 || b > n/5 {
					t.Errorf("tenth %d of the spread has %d of %d connections: %v", i, b, n, buckets)
				}
			}
		})
	}
}

// TestDrainSpread: with a spread, a busy keep-alive connection is told
// to close when its moment comes, not at the drain's start; without one,
// at once.
func TestDrainSpread(t *testing.T) {
	for _, tt := range []struct {
		name   string
		spread time.Duration
	}{{"none", 0}, {"spread", 400 * time.Millisecond}} {
		t.Run(tt.name, func(t *testing.T) {
			s := startDrain(t, "", Config{DrainSpread: tt.spread, DrainIdleTimeout: time.Minute}, &drainHandler{})
			d := dialDrain(t, s)
			if resp, _ := d.get("/plain"); resp.Close {
				t.Fatal("closes before the drain")
			}
			start := time.Now()
			go s.Drain(context.Background())
			for !s.Draining() {
				time.Sleep(time.Millisecond)
			}
			for {
				resp, _ := d.get("/plain")
				if resp.Close {
					break
				}
				if tt.spread == 0 {
					t.Fatal("a response after the drain began kept its connection")
				}
				if time.Since(start) > tt.spread+5*time.Second {
					t.Fatal("never told to close")
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("told to close %v after the drain began", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestDrainTLSHandshaking: a connection accepted but still in its TLS
// handshake when the drain starts keeps Drain waiting; once its handshake
// ends it is served, its answer closes it, and Drain returns.
func TestDrainTLSHandshaking(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{})
	raw, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	waitFor(t, "the handshake to begin", func() bool { return s.Net().TLSHandshaking() == 1 }, s)
	drained := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		drained <- s.Drain(ctx)
	}()
	waitFor(t, "the drain to start", s.Draining, s)
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) with a handshake in progress", err)
	case <-time.After(100 * time.Millisecond):
	}
	c := tls.Client(raw, testPair().ClientConfig())
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := nethttp.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != string(helloBody) || !resp.Close {
		t.Fatalf("%s %q close=%v", resp.Status, body, resp.Close)
	}
	c.Close() // as a client does after Connection: close
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
}
