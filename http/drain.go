package http

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// drainPoll is how often Drain looks whether connections remain.
const drainPoll = 10 * time.Millisecond

// Drain stops the server gracefully, the way an old process hands over to
// a new one in a zero-downtime upgrade: it stops accepting (the listeners
// are closed, see netserver.Server.StopAccepting), and from then on every
// response closes its connection (Connection: close, whatever method
// writes its head; the handler sees Request.KeepAlive false). Requests in
// flight are served to the end, streams and files included; a keep-alive
// connection that waits for its next request gets Config.DrainIdleTimeout
// for it (its answer closes it), after which it is closed the polite way,
// as after Connection: close, and counted in Counters.DrainClosed. A
// partial request head still has Config.HeaderTimeout to complete.
//
// Connections still in their TLS handshake count as HTTP connections
// (HandshakeTimeout bounds them): once it ends, their first answer
// closes them.
//
// Drain returns nil once no HTTP connection remains, or ctx.Err() when
// ctx ends first; either way the server still runs: Shutdown or Close
// ends it and whatever is left. Connections handed over with Detach
// (WebSocket) do not keep Drain waiting: their new owner closes them
// (websocket.Server.Shutdown). Drain may be called more than once, and
// after Shutdown or Close, when it returns as soon as the connections are
// closed; before Serve, it returns at once, and Serve closes the listeners
// as soon as its loops are ready.
func (s *Server) Drain(ctx context.Context) error {
	s.drainStart.CompareAndSwap(0, time.Now().UnixNano())
	s.draining.Store(true)
	if err := s.ns.StopAccepting(); err != nil && !errors.Is(err, netserver.ErrNotServing) {
		return fmt.Errorf("http: drain: %w", err)
	}
	// The connections idle for longer than the limit go now, not at the
	// next tick. As each loop's pass runs after its StopAccepting, the
	// count below is final once every pass has run.
	passes := make(chan struct{}, len(s.loops))
	pending := 0
	for i := range s.loops {
		err := s.ns.RunOnLoop(i, func() {
			s.drainLoop(i)
			passes <- struct{}{}
		})
		switch {
		case err == nil:
			pending++
		case !errors.Is(err, netserver.ErrNotServing):
			return fmt.Errorf("http: drain: loop %d: %w", i, err)
		}
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	// Connections in their TLS handshake are not open yet: they are
	// waited for too (HandshakeTimeout bounds them), and served once open.
	// The handshakes are read first (netserver leaves them after Accept).
	for pending > 0 || s.ns.TLSHandshaking() > 0 || s.open.Load() > 0 {
		select {
		case <-passes:
			pending--
		case <-s.ended:
			pending = 0 // the loops are gone, their connections closed
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Draining reports whether Drain has begun (a readiness check can fail
// from then on, so that the load balancer sends no more requests).
func (s *Server) Draining() bool { return s.draining.Load() }

// drainLoop closes the idle connections of loop that waited past the
// drain's limit. It runs on that loop.
func (s *Server) drainLoop(loop int) {
	ls := &s.loops[loop]
	s.conns.ForEach(loop, func(c netserver.ClientNum, cn *conn) {
		s.drainIdle(ls, cn, s.ns.Now(c).UnixNano())
	})
}

// drainIdle closes cn, during a drain, when it is a keep-alive connection
// waiting for its next request (nothing in progress, nothing buffered)
// for longer than DrainIdleTimeout at t (unix nanos). It reports whether
// it did. It runs on cn's loop.
func (s *Server) drainIdle(ls *loopState, cn *conn, t int64) bool {
	if cn.responding || cn.inBody || cn.headWait || cn.lingering || cn.congested ||
		cn.inHandler || cn.detached != nil || len(cn.buf) > 0 || s.ns.Sending(cn.c) {
		return false
	}
	if d := s.set.drainIdle; d > 0 && t-cn.since <= int64(d) {
		return false
	}
	s.cnt.drainClosed.Add(1)
	s.linger(ls, cn)
	return true
}

// closeDue reports whether, during a drain, c's response must close it:
// at once without Config.DrainSpread, else from a moment within the
// spread that c's number picks (a multiplicative hash, so that
// neighbouring slots are far apart).
func (s *Server) closeDue(c netserver.ClientNum) bool {
	spread := s.cfg.DrainSpread
	if spread <= 0 {
		return true
	}
	return time.Duration(s.ns.Now(c).UnixNano()-s.drainStart.Load()) >= spreadAt(c, spread)
}

// spreadAt is when, after a drain's start, c is told to close, within
// spread (> 0).
func spreadAt(c netserver.ClientNum, spread time.Duration) time.Duration {
	return time.Duration((uint64(c) * 0x9E3779B97F4A7C15 >> 32) % uint64(spread))
}
