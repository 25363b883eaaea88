package echo

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// bufSize is the per-connection buffer of Server.
const bufSize = 32 << 10

// Server is a plain goroutine-per-connection echo server on package net: the baseline.
type Server struct {
	accepted atomic.Int64
	closed   atomic.Int64
	bytesIn  atomic.Int64
	bytesOut atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Serve accepts connections on ln until it is closed and echoes every byte on each. It
// returns nil when ln was closed.
func (s *Server) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("echo accept: %w", err)
		}
		s.accepted.Add(1)
		s.mu.Lock()
		if s.conns == nil {
			s.conns = make(map[net.Conn]struct{})
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.handle(c) })
	}
}

func (s *Server) handle(c net.Conn) {
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.closed.Add(1)
	}()
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			s.bytesIn.Add(int64(n))
			w, werr := c.Write(buf[:n])
			s.bytesOut.Add(int64(w))
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// CloseConns closes every open connection and waits for their goroutines to end. Call it
// after closing the listener.
func (s *Server) CloseConns() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// StatsLine returns the server's counters as a "stats key=value ..." line.
func (s *Server) StatsLine() string {
	return fmt.Sprintf("stats accepted=%d closed=%d bytes_in=%d bytes_out=%d",
		s.accepted.Load(), s.closed.Load(), s.bytesIn.Load(), s.bytesOut.Load())
}
