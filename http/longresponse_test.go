package http

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"syscall"
	"testing"
	"time"

	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/sys/unix"
)

// A response that "ended" for http once its file was queued (SendFile)
// may still be going out long after, to a client that reads slowly. The
// idle, linger and drain clocks must not run while it does: they used to,
// and cut the file at IdleTimeout (or LingerTimeout, or DrainIdleTimeout)
// after the transfer was queued. These tests fetch /big.bin (bigFile
// bytes, see startDrain) at longChunk bytes every longGap, which takes
// longer than longMinTransfer, many times the timeouts they set.
//
// What the kernel has taken is out as far as the server knows: the clocks
// start once the socket's send buffer has the rest. So that this does not
// depend on the host's TCP buffer sizes (autotuned up to tcp_wmem's
// maximum, 4 MiB or more), the server's send buffer is set to longSndBuf
// and the client's receive buffer to longRcvBuf, and the client reads the
// last longTail bytes (far more than both buffers hold) at once.
const (
	longTimeout     = 200 * time.Millisecond // IdleTimeout, LingerTimeout
	longChunk       = 64 << 10
	longGap         = 20 * time.Millisecond
	longMinTransfer = 7 * longTimeout
	longSndBuf      = 64 << 10 // the server's send buffer (the kernel doubles it)
	longRcvBuf      = 64 << 10 // the client's receive buffer (likewise)
	longTail        = 1 << 20
)

// longBody is /big.bin's content (as startDrain writes it).
var longBody = func() []byte {
	b := make([]byte, bigFile)
	for i := range b {
		b[i] = byte(i * 7 >> 8)
	}
	return b
}()

// longHandler is a drainHandler that sets the socket's send buffer to
// longSndBuf before it sends /big.bin.
type longHandler struct{ *drainHandler }

func (h longHandler) HTTPRead(req *Request, c netserver.ClientNum, failed bool) {
	if string(req.Path) == "/big.bin" {
		if err := h.s.Net().QueueOp(c, sndBufOp{}); err != nil {
			panic(err)
		}
	}
	h.drainHandler.HTTPRead(req, c, failed)
}

// sndBufOp sets its client's SO_SNDBUF to longSndBuf; the client is
// closed if that fails.
type sndBufOp struct{}

func (sndBufOp) Start(x *netserver.OpContext) {
	err := unix.SetsockoptInt(x.Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF, longSndBuf)
	x.Finish(err != nil)
}

func (sndBufOp) Complete(*netserver.OpContext, uint64, int32) {}
func (sndBufOp) Cancel(netserver.ClientNum)                   {}

// startLong starts a drain-test server (startDrain: /big.bin, /plain)
// with a longHandler on backend kind with cfg, whose stall timeout
// (Net.IdleTimeout) is set well beyond any transfer here: only the HTTP
// clocks could cut it.
func startLong(t *testing.T, kind string, cfg Config) *Server {
	t.Helper()
	cfg.Net.IdleTimeout = time.Minute
	h := &drainHandler{}
	return startDrainWith(t, kind, cfg, h, longHandler{h})
}

// dialSlow connects to s with a small receive buffer, set before the
// handshake, so that the kernel cannot take in the whole file at once and
// the server's output stays queued while the client reads slowly.
func dialSlow(t *testing.T, s *Server) *drainConn {
	t.Helper()
	dialer := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, longRcvBuf)
		}); err != nil {
			return err
		}
		return serr
	}}
	c, err := dialer.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.(*net.TCPConn).SetReadBuffer(longRcvBuf); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return &drainConn{t: t, c: c, r: bufio.NewReader(c)}
}

// readSlowly reads resp's body, longChunk bytes every longGap but the
// last longTail bytes, read at once, calling check after each chunk. It
// checks that the body is /big.bin byte for byte, and that the slow part
// took at least longMinTransfer (the premise of these tests, not a speed:
// the gaps alone take that long).
func readSlowly(t *testing.T, resp *nethttp.Response, check func(got int)) {
	t.Helper()
	if resp.StatusCode != 200 || resp.ContentLength != bigFile {
		t.Fatalf("status %d, Content-Length %d; want 200, %d", resp.StatusCode, resp.ContentLength, bigFile)
	}
	start := time.Now()
	var slow time.Duration
	got := make([]byte, 0, bigFile)
	for len(got) < bigFile {
		end := len(got) + longChunk
		if len(got) >= bigFile-longTail {
			if slow == 0 {
				slow = time.Since(start)
			}
			end = bigFile
		} else {
			time.Sleep(longGap)
		}
		n, err := io.ReadFull(resp.Body, got[len(got):min(end, bigFile)])
		got = got[:len(got)+n]
		if err != nil {
			t.Fatalf("after %d of %d bytes (%v): %v", len(got), bigFile, time.Since(start).Round(time.Millisecond), err)
		}
		check(len(got))
	}
	if n, err := resp.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the body: %d bytes, %v; want the body's end", n, err)
	}
	if !bytes.Equal(got, longBody) {
		i := 0
		for i < len(got) && got[i] == longBody[i] {
			i++
		}
		t.Fatalf("the body differs from the file at byte %d", i)
	}
	if slow < longMinTransfer {
		t.Fatalf("the slow part of the transfer took %v, under %v: it does not outlast the timeouts", slow, longMinTransfer)
	}
}

// noIdleTimeouts is a readSlowly check: no connection closed for
// idleness.
func noIdleTimeouts(t *testing.T, s *Server) func(int) {
	return func(got int) {
		t.Helper()
		if c := s.Counters(); c.IdleTimeouts != 0 {
			t.Fatalf("IdleTimeouts = %d with %d of %d bytes read", c.IdleTimeouts, got, bigFile)
		}
	}
}

// A keep-alive download that outlasts IdleTimeout many times over
// arrives whole, and the connection then serves another request.
func TestLongResponseKeepAlive(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		s := startLong(t, kind, Config{IdleTimeout: longTimeout})
		d := dialSlow(t, s)
		// The next request is pipelined behind the download: the
		// connection serves it once the download is out, with no idle
		// wait that a slow reader of the tail (a busy machine) could run
		// past IdleTimeout.
		d.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
		resp := d.response()
		if resp.Close {
			t.Fatal("the response closes the connection")
		}
		readSlowly(t, resp, noIdleTimeouts(t, s))
		resp = d.response()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("reading /plain: %v", err)
		}
		if resp.StatusCode != 200 || string(body) != "plain" || resp.Close {
			t.Fatalf("the next request: %d %q, close %v", resp.StatusCode, body, resp.Close)
		}
		// (No check of IdleTimeouts from here: the connection is idle now,
		// and on a busy machine its timeout may rightly have fired.)
	})
}

// A download with Connection: close that outlasts LingerTimeout (and
// IdleTimeout) many times over arrives whole, then the end of file.
func TestLongResponseLinger(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		s := startLong(t, kind, Config{IdleTimeout: longTimeout, LingerTimeout: longTimeout})
		d := dialSlow(t, s)
		d.send("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp := d.response()
		if !resp.Close {
			t.Fatal("no Connection: close in the response")
		}
		readSlowly(t, resp, noIdleTimeouts(t, s))
		d.eof()
	})
}

// A slow download in flight when Drain begins outlasts DrainIdleTimeout
// (and LingerTimeout) many times over and arrives whole; Drain returns
// nil, and only after it. Whether the drain gives idle connections time
// (its clock must wait like the idle one) or closes them at once (the
// polite close, queued behind the file, must not linger out before it).
func TestLongResponseDrain(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		for _, tc := range []struct {
			name string
			idle time.Duration
		}{
			{"100ms", longTimeout / 2},
			{"at once", -1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := startLong(t, kind, Config{DrainIdleTimeout: tc.idle, LingerTimeout: longTimeout})
				d := dialSlow(t, s)
				d.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
				resp := d.response()
				done := startDrainCall(s, context.Background())
				readSlowly(t, resp, func(got int) {
					t.Helper()
					if got == bigFile {
						return
					}
					select {
					case err := <-done:
						t.Fatalf("Drain returned (%v) with %d of %d bytes read", err, got, bigFile)
					default:
					}
				})
				d.eof()
				if err := drained(t, done); err != nil {
					t.Fatalf("Drain: %v", err)
				}
				if c := s.Counters(); c.IdleTimeouts != 0 {
					t.Errorf("IdleTimeouts = %d", c.IdleTimeouts)
				}
			})
		}
	})
}

// Once a slow download is out and read, the idle clock runs again: a
// client that then sends nothing is closed after about IdleTimeout, and
// counted in IdleTimeouts.
func TestLongResponseIdleAfter(t *testing.T) {
	const bound = 5 * time.Second // generous: IdleTimeout is longTimeout
	onBackends(t, func(t *testing.T, kind string) {
		s := startLong(t, kind, Config{IdleTimeout: longTimeout})
		d := dialSlow(t, s)
		d.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
		readSlowly(t, d.response(), noIdleTimeouts(t, s))
		d.c.SetReadDeadline(time.Now().Add(bound))
		n, err := d.r.Read(make([]byte, 1))
		var ne net.Error
		switch {
		case n != 0:
			t.Fatalf("%d bytes after the response", n)
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("the idle connection is still open %v after the download", bound)
		case err == nil:
			t.Fatal("no error reading a closed connection")
		}
		// The counter is raised before the close is queued.
		deadline := time.Now().Add(bound)
		for s.Counters().IdleTimeouts == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if c := s.Counters(); c.IdleTimeouts != 1 {
			t.Errorf("IdleTimeouts = %d, want 1", c.IdleTimeouts)
		}
	})
}

// TestLongResponseKernelHeld: with the host's own socket buffers (no
// SO_SNDBUF set), the end of the file sits in the kernel's send buffer,
// not in the server's queue, while the client reads it slowly for many
// idle timeouts. The idle clock must not cut it there either: before the
// timeout fires, the server asks the socket what it still holds
// (netserver.Server.Unsent, SIOCOUTQ).
func TestLongResponseKernelHeld(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		cfg := Config{IdleTimeout: longTimeout}
		cfg.Net.IdleTimeout = time.Minute
		h := &drainHandler{}
		s := startDrainWith(t, kind, cfg, h, h)
		d := dialSlow(t, s)
		d.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
		// The tail is read at once: once the rest of the file fits in
		// the client's buffers the response is out, and an idle
		// timeout while this process is descheduled would be right.
		readSlowly(t, d.response(), noIdleTimeouts(t, s))
	})
}
