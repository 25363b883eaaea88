package netserver

import "golang.org/x/sys/unix"

// Backpressure: what a client can make the server hold is bounded.
//
// Every write queued for a client is charged its real cost: the bytes it
// keeps alive (a pooled copy buffer counts its whole capacity), plus
// itemCost for the bookkeeping, and a custom Op (an open file, a splice
// pipe) counts opCost. When a client's backlog reaches Config.MaxQueued it
// becomes congested: the loop stops delivering its reads (the recv is
// cancelled; bytes already read are held and delivered later) until the
// backlog has drained to half, when the Handler's RawDrained (Drainer) is
// called and reads resume. Layers that produce output from input they
// buffer themselves (pipelined requests) check Congested and wait for
// RawDrained.
//
// Each loop also has a share of Config.MaxMemory (the backlogs of all its
// clients). Past it the loop delivers no new reads at all until the
// backlogs fall to three quarters of the share. Input that arrives while
// reads wait is held (copied out of the provided buffer, so the buffer ring
// never runs dry because of a paused client). A multishot recv keeps
// bringing buffers until its cancellation takes effect at the next
// io_uring_enter, and once re-armed it drains the whole socket receive
// buffer (megabytes) in one go, faster than congestion can stop it; so a
// client that has been congested or paused once reads single-shot from
// then on, one buffer per recv, and what it can have held is one buffer. Held input
// does not count against the budget, so that it can never keep the loop
// over budget by itself (HeldBytes in Stats shows it).

const (
	// itemCost is the bookkeeping charged per queued write.
	itemCost = 128
	// opCost is charged per queued custom Op: it may hold an open file
	// and a pipe.
	opCost = 16 << 10
	// congestedRcvBuf is the socket receive buffer a client keeps once
	// it has been congested (the kernel doubles it for bookkeeping).
	congestedRcvBuf = 64 << 10
)

// Drainer is implemented by a Handler that wants to know when a congested
// client (see Server.Congested) can take output again.
type Drainer interface {
	// RawDrained is called on c's loop when c's backlog has drained to
	// half of Config.MaxQueued after it was congested. Reads from c resume
	// after it returns.
	RawDrained(c ClientNum)
}

// itemCharge returns what a queued write costs.
func itemCharge(it *writeItem) int {
	switch {
	case it.cb == cbOp:
		return opCost
	case it.pooled:
		return itemCost + max(cap(it.data), it.size)
	}
	return itemCost + it.size
}

// charge adds d (possibly negative) to c's backlog and the loop's memory
// use, and starts or ends c's congestion.
func (l *loop) charge(c ClientNum, cl *client, d int) {
	cl.cost += d
	l.mem += int64(d)
	limit := l.s.cfg.MaxQueued
	if cl.kind == kindStream {
		limit = l.s.cfg.StreamMaxQueued
	}
	if limit > 0 {
		switch {
		case d > 0 && !cl.congested && cl.cost >= limit:
			cl.congested = true
			l.readSingleShot(cl, true)
			l.cnt.congestions++
			l.congested++
			l.stopReading(c, cl)
		case d < 0 && cl.congested && cl.cost <= limit/2:
			cl.congested = false
			l.congested--
			cl.drained = true
			l.markDirty(c, cl)
		}
	}
	l.checkBudget()
}

// readSingleShot makes a client that had to be stopped once read one
// buffer per recv from then on: what a stop can leave us holding is one
// buffer. shrink also stops its receive buffer from growing (a client
// that does not read its responses): what it can push at us while we
// wait is then what the kernel holds. A paused upload keeps its window,
// or every later upload on the connection would crawl over a long path.
func (l *loop) readSingleShot(cl *client, shrink bool) {
	if cl.socket && !cl.singleShot {
		cl.singleShot = true
	}
	if cl.socket && shrink && !cl.shrunk {
		cl.shrunk = true
		unix.SetsockoptInt(int(cl.fd), unix.SOL_SOCKET, unix.SO_RCVBUF, congestedRcvBuf)
	}
}

// checkBudget starts or ends the loop's over-budget state.
func (l *loop) checkBudget() {
	budget := l.budget
	if budget <= 0 {
		return
	}
	switch {
	case !l.overBudget && l.mem > budget:
		l.overBudget = true
		l.cnt.budgetPauses++
	case l.overBudget && l.mem <= budget/4*3:
		l.overBudget = false
		for _, c := range l.waiting {
			if cl := l.client(c); cl != nil {
				cl.waiting = false
				l.markDirty(c, cl)
			}
		}
		clear(l.waiting)
		l.waiting = l.waiting[:0]
	}
}

// readable reports whether c's reads may be delivered now.
func (l *loop) readable(cl *client) bool {
	return !cl.congested && !cl.paused && !l.overBudget
}

// stopReading cancels c's multishot recv, so that no more reads arrive
// until it is readable again. Bytes that still arrive are held.
func (l *loop) stopReading(c ClientNum, cl *client) {
	if l.overBudget && !cl.waiting {
		cl.waiting = true
		l.waiting = append(l.waiting, c)
	}
	if cl.recvID != 0 && l.multishotRecv && !cl.recvCancelled {
		cl.recvCancelled = true
		l.cancelTask(cl.recvID)
	}
}

// hold keeps data read from c while c is not readable.
func (l *loop) hold(c ClientNum, cl *client, data []byte) {
	cl.held = append(cl.held, data...)
	l.held += int64(len(data))
	l.stopReading(c, cl)
}

// resumeReading runs from flush, outside any callback: it reports a drain,
// delivers held input and re-arms the recv of a client that is readable
// again. It returns false when c was closed by a callback.
func (l *loop) resumeReading(c ClientNum, cl *client) bool {
	if cl.drained {
		cl.drained = false
		if d, ok := l.handler(c).(Drainer); ok {
			l.cbDrained(d, c)
			if cl = l.client(c); cl == nil || cl.state != stOpen {
				return false
			}
		}
	}
	if !l.readable(cl) {
		if len(cl.held) > 0 || cl.needRecv {
			l.stopReading(c, cl)
		}
		return true
	}
	if cl.tls != nil && !l.tlsResume(c, cl) {
		return false
	}
	// Held input goes out one buffer's worth at a time, as it came in, so
	// that a client congested again part-way keeps the rest: its backlog
	// passes MaxQueued by at most what one read makes.
	for len(cl.held) > 0 && l.readable(cl) {
		n := min(len(cl.held), l.s.cfg.BufferSize)
		data := cl.held[:n:n]
		if cl.held = cl.held[n:]; len(cl.held) == 0 {
			cl.held = nil
		}
		l.held -= int64(n)
		l.cbRead(data, c, false)
		if cl = l.client(c); cl == nil || cl.state != stOpen {
			return false
		}
	}
	if cl.heldEOF && len(cl.held) == 0 {
		cl.heldEOF = false
		l.closeGracefully(c, cl, ErrPeerClosed)
		return cl.state == stOpen
	}
	if cl.needRecv && len(cl.held) == 0 && l.readable(cl) {
		cl.needRecv = false
		l.armRecv(c, cl)
	}
	return true
}

// releaseCharges drops what a freed client still had charged.
func (l *loop) releaseCharges(cl *client) {
	l.mem -= int64(cl.cost)
	l.held -= int64(len(cl.held))
	if cl.congested {
		l.congested--
	}
	cl.cost = 0
	l.checkBudget()
}

// setPaused pauses or resumes c's reads (PauseRead, ResumeRead).
func (l *loop) setPaused(c ClientNum, cl *client, paused bool) {
	if cl.paused == paused || cl.kind == kindStream {
		return
	}
	cl.paused = paused
	if paused {
		l.readSingleShot(cl, false)
		l.stopReading(c, cl)
	} else {
		l.markDirty(c, cl)
	}
}

// Congested reports whether c's output backlog has reached
// Config.MaxQueued (Config.StreamMaxQueued for a stream, see NewStream):
// the server has stopped reading from c, and a layer that produces output from input it already holds (pipelined requests) should
// stop until the Handler's RawDrained (see Drainer). It is meaningful on
// c's loop only (from a callback, a Tick or RunOnLoop); anywhere else, and
// for a client that is not open, it returns false.
func (s *Server) Congested(c ClientNum) bool {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return false
	}
	cl := l.client(c)
	return cl != nil && cl.state == stOpen && cl.congested
}

// PauseRead stops delivering reads from c until ResumeRead: its recv is
// cancelled, and bytes that were already on their way are held and
// delivered after ResumeRead. On a stream (NewStream) it does nothing.
func (s *Server) PauseRead(c ClientNum) error {
	return s.do(c, command{op: cmdPauseRead, c: c})
}

// ResumeRead undoes PauseRead. Reads still wait while c is congested or
// the server is over its memory budget.
func (s *Server) ResumeRead(c ClientNum) error {
	return s.do(c, command{op: cmdResumeRead, c: c})
}
