package netserver

import (
	"io"
	"net"
	"testing"
	"time"
)

// ShutdownWrite sends what was queued, then end of file; the client can
// still be read from. With FeatShutdown off (as before Linux 5.11) the loop
// calls shutdown(2) instead of submitting IORING_OP_SHUTDOWN, and the
// lingering close must stay graceful all the same.
func TestShutdownWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		disable Features
	}{
		{"default", 0},
		{"shutdown-syscall", FeatShutdown},
		{"linux-5.10", FeatAll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted := make(chan ClientNum, 1)
			h := &echoHandler{reads: make(chan readResult, 4)}
			s := startServer(t, Config{Loops: 1, Disable: tc.disable}, &acceptRecorder{echoHandler: h, ch: accepted})
			h.s = s
			if tc.disable&FeatShutdown != 0 && s.loops[0].opShutdown {
				t.Fatal("FeatShutdown disabled, yet the loop submits IORING_OP_SHUTDOWN")
			}
			conn := dial(t, s)
			c := <-accepted
			s.Send(c, []byte("last words"))
			if err := s.ShutdownWrite(c); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(conn)
			if err != nil || string(got) != "last words" {
				t.Fatalf("read %q, %v; want the bytes queued before the half-close, then EOF", got, err)
			}
			conn.Write([]byte("still reading"))
			select {
			case r := <-h.reads:
				if r.failed || r.data != "still reading" {
					t.Fatalf("after the half-close: %+v", r)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no read after the half-close")
			}
			h.mu.Lock()
			closed := h.closed[c]
			h.mu.Unlock()
			if closed {
				t.Fatal("the half-close closed the client")
			}
		})
	}
}

// StopAccepting closes the listeners on both backends, and returns only
// once they are closed: new connections are refused from then on, while
// the open ones are served on.
func TestBackendsStopAccepting(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		s := startOn(t, kind, Config{Loops: 2}, &echoHandler{})
		c := dial(t, s)
		if err := s.StopAccepting(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			nc, err := net.DialTimeout("tcp", s.Addr().String(), time.Second)
			if err == nil {
				nc.Close()
				t.Fatalf("dial %d after StopAccepting returned: connected", i)
			}
		}
		c.Write([]byte("still"))
		if got := readFull(t, c, 5); string(got) != "still" {
			t.Fatalf("open connection got %q", got)
		}
	})
}
