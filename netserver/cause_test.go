package netserver

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// RawClose carries why each client ended.
func TestCloseCauses(t *testing.T) {
	protoErr := errors.New("bad frame")
	tests := []struct {
		name  string
		cfg   Config
		act   func(t *testing.T, s *Server, conn net.Conn, c ClientNum)
		check func(error) bool
	}{
		{"peer EOF", Config{}, func(t *testing.T, s *Server, conn net.Conn, c ClientNum) {
			conn.(*net.TCPConn).CloseWrite()
		}, func(err error) bool { return errors.Is(err, ErrPeerClosed) }},
		{"peer reset", Config{}, func(t *testing.T, s *Server, conn net.Conn, c ClientNum) {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}, func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{"idle timeout", Config{IdleTimeout: 50 * time.Millisecond}, func(t *testing.T, s *Server, conn net.Conn, c ClientNum) {
		}, func(err error) bool { return errors.Is(err, ErrIdleTimeout) }},
		{"abort", Config{}, func(t *testing.T, s *Server, conn net.Conn, c ClientNum) {
			s.Abort(c)
		}, func(err error) bool { return errors.Is(err, ErrLocalClose) }},
		{"recorded cause", Config{}, func(t *testing.T, s *Server, conn net.Conn, c ClientNum) {
			s.SetCloseCause(c, protoErr)
			s.SetCloseCause(c, ErrIdleTimeout) // the first cause wins
			s.RawClose(c)
		}, func(err error) bool { return err == protoErr }},
		{"shutdown", Config{}, func(t *testing.T, s *Server, conn net.Conn, c ClientNum) {
			go s.Shutdown(context.Background())
		}, func(err error) bool { return errors.Is(err, ErrShutdown) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accepted := make(chan ClientNum, 1)
			h := &acceptEcho{accepted: accepted}
			cfg := tt.cfg
			cfg.Loops = 1
			s := startServer(t, cfg, h)
			conn := dial(t, s)
			c := <-accepted
			tt.act(t, s, conn, c)
			var cause error
			waitFor(t, "the close", func() bool {
				var ok bool
				cause, ok = h.cause(c)
				return ok
			})
			if !tt.check(cause) {
				t.Fatalf("cause %v", cause)
			}
		})
	}
}

// countingHandler counts the callbacks it gets.
type countingHandler struct {
	NopHandler
	reads, closes atomic.Int64
}

func (h *countingHandler) RawRead(data []byte, c ClientNum, failed bool) {
	if !failed {
		h.reads.Add(1)
	}
}
func (h *countingHandler) RawClose(ClientNum, error) { h.closes.Add(1) }

// SetHandler takes a client over: later reads and its close go to the new
// handler, other clients stay with the server's.
func TestSetHandler(t *testing.T) {
	accepted := make(chan ClientNum, 2)
	h := &acceptEcho{accepted: accepted}
	s := startServer(t, Config{Loops: 1}, h)
	a, b := dial(t, s), dial(t, s)
	ca := <-accepted
	<-accepted
	over := &countingHandler{}
	if err := s.SetHandler(ca, over); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	s.RunOnLoop(0, func() { done <- true })
	<-done
	a.Write([]byte("to the new handler"))
	b.Write([]byte("echo"))
	if got := string(readFull(t, b, 4)); got != "echo" {
		t.Fatalf("b: %q", got)
	}
	waitFor(t, "the read taken over", func() bool { return over.reads.Load() == 1 })
	a.Close()
	waitFor(t, "the close taken over", func() bool { return over.closes.Load() == 1 })
	if _, ok := h.cause(ca); ok {
		t.Fatal("the server's handler saw the close of a client taken over")
	}
	errc := make(chan error)
	s.RunOnLoop(0, func() { errc <- s.SetHandler(ca, nil) })
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("SetHandler on a closed client, on the loop: %v, want ErrClosed", err)
	}
}
