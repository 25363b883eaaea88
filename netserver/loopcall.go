package netserver

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// RunOnLoop runs f on the goroutine of loop number loop (0 <= loop <
// Loops()): at once when the caller is already there, otherwise through the
// loop's command queue, after the commands posted before it. f must not
// block; like a callback, a panic in f is recovered, logged and counted.
// It returns ErrNotServing when the server has stopped, and f is then not
// run. This is how work for many clients of one loop (a broadcast, a
// sweep) is handed over in one go instead of once per client.
func (s *Server) RunOnLoop(loop int, f func()) error {
	if loop < 0 || loop >= len(s.loops) {
		return fmt.Errorf("netserver: RunOnLoop(%d): %d loops", loop, len(s.loops))
	}
	l := s.loops[loop]
	if l.onLoop() {
		l.runFunc(f)
		return nil
	}
	if s.state.Load() != stateServing {
		return ErrNotServing
	}
	l.post(command{op: cmdFunc, fn: f})
	return nil
}

// AddTicker adds t to the tickers called on every loop each
// Config.TickInterval (after the Handler's own Tick, when it has one). It
// is how a layer above the Handler (a protocol taken over with a detach)
// gets its own periodic call. Ticks happen only when Config.TickInterval is
// positive. Safe from any goroutine.
func (s *Server) AddTicker(t Ticker) {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	var ts []Ticker
	if old := s.tickers.Load(); old != nil {
		ts = append(ts, *old...)
	}
	ts = append(ts, t)
	s.tickers.Store(&ts)
}

// Queued returns the bytes written to c (RawWrite, RawWritev, Send) that
// the kernel has not yet taken, or -1 when c is not an open client of the
// calling loop. It is only meaningful on c's loop (from a callback, a
// Tick or RunOnLoop), where it costs a table lookup; anywhere else it
// returns -1. Use it to bound what a slow reader can make the server hold.
func (s *Server) Queued(c ClientNum) int {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return -1
	}
	cl := l.client(c)
	if cl == nil || cl.state != stOpen {
		return -1
	}
	return cl.queued
}

// Sending reports whether c has output the kernel has not taken yet:
// writes, or custom operations (a file being sent), queued or in flight.
// Like Queued it is only meaningful on c's loop; anywhere else, and for a
// client that is not open, it returns false.
func (s *Server) Sending(c ClientNum) bool {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return false
	}
	cl := l.client(c)
	return cl != nil && cl.state == stOpen && (cl.sending || len(cl.outq) > 0)
}

// Unsent returns the bytes c's socket holds that the peer has not yet
// acknowledged (SIOCOUTQ): output the kernel took but has not delivered.
// It is a system call: use it before giving up on a client, not on every
// tick. Like Queued it is only meaningful on c's loop; elsewhere, and for
// a client that is not an open socket, it returns -1. A stream answers for
// its parent.
func (s *Server) Unsent(c ClientNum) int {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return -1
	}
	_, cl := l.peer(c, l.client(c))
	if cl == nil || cl.state != stOpen || !cl.socket {
		return -1
	}
	n, err := unix.IoctlGetInt(int(cl.fd), unix.SIOCOUTQ)
	if err != nil {
		return -1
	}
	return n
}

// Handoff tells c's loop that a callback handed work to another goroutine
// (a net/http handler, say): before the loop next blocks waiting for
// completions, it yields to the Go scheduler once, so that goroutine runs
// at once even with GOMAXPROCS=1, instead of waiting for the runtime to
// take the processor from a thread blocked in the kernel. Call it on c's
// loop; elsewhere it does nothing.
func (s *Server) Handoff(c ClientNum) {
	if l, err := s.loopOf(c); err == nil && l.onLoop() {
		l.handedOff = true
	}
}

// maxHandoffRounds bounds the times one loop turn yields to the goroutines
// readied by Handoff before it goes to the kernel.
const maxHandoffRounds = 16

// Cork holds c's sends until the end of the loop's turn: the answers that
// goroutines readied with Handoff post during the turn (a net/http
// handler's response to the next pipelined request) then go out with
// them in one send instead of one each. Call it on c's loop; elsewhere
// it does nothing. Cork on a stream corks its parent.
func (s *Server) Cork(c ClientNum) {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return
	}
	if c, cl := l.peer(c, l.client(c)); cl != nil && cl.state == stOpen && !cl.corked {
		cl.corked = true
		l.corked = append(l.corked, c)
	}
}

// uncork lets the corked clients' sends go.
func (l *loop) uncork() {
	for _, c := range l.corked {
		if cl := l.client(c); cl != nil && cl.corked {
			cl.corked = false
			l.markDirty(c, cl)
		}
	}
	clear(l.corked)
	l.corked = l.corked[:0]
}
