package http

import (
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// AccessLogger is told the outcome of every request (Config.AccessLog).
// Both methods run on an event loop and must not block or keep the slices
// they are given: a logger appends what it needs to a per-loop buffer and
// writes it elsewhere.
type AccessLogger interface {
	// LogAccess records one request, on e.Client's loop, when its status
	// is known: when the response head is made, when the parser rejects
	// the request (400, 413, 414, 431, ...), when a timeout answers it
	// (408), or with Status 0 when the connection closed before any
	// response.
	LogAccess(e *AccessEntry)
	// FlushAccess runs on every loop at each timeout tick (at least once
	// a second), for loggers that batch their writes.
	FlushAccess(loop int, now time.Time)
}

// AccessEntry is one request as the access log sees it. Its slices are
// valid during the LogAccess call only.
type AccessEntry struct {
	// Time is the loop's clock when the status was known.
	Time time.Time
	// Client is the connection.
	Client netserver.ClientNum
	// Method and Target are the request's method and target as received;
	// both are empty when the parser rejected the request head.
	Method, Target []byte
	// Status is the response status; 0 when there was none (the
	// connection closed first), 101 for a protocol switch (Detach).
	Status int
}

// noteRequest keeps what the access log needs of req while it is
// answered: its method and target, copied into the connection's buffer.
func (s *Server) noteRequest(cn *conn, req *Request) {
	cn.logged = false
	if s.cfg.AccessLog == nil {
		return
	}
	cn.logLine = append(append(cn.logLine[:0], req.Method...), req.Target...)
	cn.logMethod = len(req.Method)
}

// logStatus tells the access log the status of cn's current request, once.
func (s *Server) logStatus(ls *loopState, cn *conn, status int) {
	if s.cfg.AccessLog == nil || cn.logged {
		return
	}
	s.logStatusAt(ls, cn, status, s.ns.Now(cn.c))
}

// logStatusAt is logStatus with the loop's clock already read.
func (s *Server) logStatusAt(ls *loopState, cn *conn, status int, now time.Time) {
	if s.cfg.AccessLog == nil || cn.logged {
		return
	}
	cn.logged = true
	ls.entry = AccessEntry{Time: now, Client: cn.c, Method: cn.logLine[:cn.logMethod],
		Target: cn.logLine[cn.logMethod:], Status: status}
	s.cfg.AccessLog.LogAccess(&ls.entry)
	ls.entry = AccessEntry{}
}

// logRejected tells the access log about a request head the parser
// refused: no method or target.
func (s *Server) logRejected(ls *loopState, cn *conn, status int) {
	if s.cfg.AccessLog == nil {
		return
	}
	cn.logLine, cn.logMethod, cn.logged = cn.logLine[:0], 0, false
	s.logStatus(ls, cn, status)
}

// statusLine starts a response head in ls.out: it tells the access log
// the status and returns ls.out[:0] with the status line appended.
func (s *Server) statusLine(ls *loopState, cn *conn, status int) []byte {
	s.logStatus(ls, cn, status)
	return AppendStatusLine(ls.out[:0], status)
}
