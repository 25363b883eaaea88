package http

import (
	"os"

	"github.com/uringnet/uringnet/netserver"
)

// Methods for a handler that answers from other goroutines and streams
// request bodies at its own pace: the net/http adapter (package stdhttp)
// is built on them. They change nothing for handlers that do not call
// them.

// AppendHeadStart appends the start of a response head for c's current
// request to dst: the status line, and Date when date is set. The caller
// appends its header fields (complete "Name: value\r\n" lines, which it
// has checked; the body's framing among them) and ends the head with
// AppendHeadEnd. It tells the access log the status. Call it on c's loop.
func (s *Server) AppendHeadStart(dst []byte, c netserver.ClientNum, status int, date bool) []byte {
	ls, cn := s.conn(c)
	if cn == nil || !cn.responding {
		return dst
	}
	cn.headOut = cn.headOut || status >= 200
	now := s.ns.Now(c)
	s.logStatusAt(ls, cn, status, now)
	dst = AppendStatusLine(dst, status)
	if date {
		dst = ls.date.Append(dst, now)
	}
	return dst
}

// AppendHeadEnd ends a head begun with AppendHeadStart: the Connection
// field the request calls for, and the empty line. close makes the
// connection close after this response. Call it on c's loop.
func (s *Server) AppendHeadEnd(dst []byte, c netserver.ClientNum, close bool) []byte {
	_, cn := s.conn(c)
	if cn == nil || !cn.responding {
		return dst
	}
	if close {
		cn.keepAlive = false
	}
	return appendConnection(dst, cn)
}

// DeferContinue, called from HTTPRead for a request that expects
// 100 Continue, keeps the server from sending it when HTTPRead returns:
// it goes out when Continue is called, or never, if the response ends
// first (the connection then closes after the response, as the client may
// still send the body). The body timeout starts with the 100 Continue.
func (s *Server) DeferContinue(c netserver.ClientNum) {
	if _, cn := s.conn(c); cn != nil && s.ns.OnLoop(c) && cn.responding && !cn.continued {
		cn.holdContinue = true
	}
}

// Continue sends c's deferred 100 Continue (see DeferContinue), if the
// request still waits for it. Safe from any goroutine.
func (s *Server) Continue(c netserver.ClientNum) error {
	return s.onLoop(c, func() {
		if _, cn := s.conn(c); cn != nil && cn.responding && cn.holdContinue {
			cn.holdContinue = false
			s.sendContinue(cn)
		}
	})
}

// PauseBody stops reading c while the handler cannot take more of its
// request body (netserver's PauseRead), and stops the body timeout: only
// the time spent waiting for the client counts. Call it on c's loop.
func (s *Server) PauseBody(c netserver.ClientNum) {
	_, cn := s.conn(c)
	if cn == nil || cn.bodyPaused || !s.ns.OnLoop(c) {
		return
	}
	cn.bodyPaused = true
	cn.pausedAt = s.ns.Now(c).UnixNano()
	s.syncPause(cn)
}

// ResumeBody undoes PauseBody: reading and the body clock resume. Safe
// from any goroutine.
func (s *Server) ResumeBody(c netserver.ClientNum) error {
	return s.ns.RunOnLoop(c.Loop(), func() {
		_, cn := s.conn(c)
		if cn == nil || !cn.bodyPaused {
			return
		}
		cn.bodyPaused = false
		cn.bodySince += s.ns.Now(c).UnixNano() - cn.pausedAt
		s.syncPause(cn)
		if cn.h2 != nil {
			s.h2Sync(&s.loops[c.Loop()], cn)
		}
	})
}

// bodyClockRuns reports whether cn's body timeout is counting: the body
// was asked for and reading is not paused by the handler.
func (cn *conn) bodyClockRuns() bool { return cn.continued && !cn.bodyPaused }

// FileOp returns an Op that sends head, then n bytes of f from offset off,
// on the sendfile package's path (splice, or sendfile(2) on the epoll
// backend), and then calls done. Queue it on c's output stream with
// netserver's QueueOp.
func (s *Server) FileOp(head []byte, f *os.File, off, n int64, done func(failed bool)) netserver.Op {
	return &fileOpSwitch{s: s, head: head, f: f, off: off, n: n, done: done}
}
