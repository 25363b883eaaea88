package fastcgi

import (
	"bytes"
	"errors"
	"time"

	"github.com/uringnet/uringnet/cgi"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// appConn is a connection to the application, owned by one loop.
type appConn struct {
	c         netserver.ClientNum
	buf       []byte   // the read buffer (one read armed at a time)
	dec       Decoder  // records of the current request
	req       *request // the request it answers, nil when idle
	reading   bool     // a RawRead is armed
	closing   bool     // Abort was asked for (or it is closed)
	writes    int      // RawWrites not yet completed
	idleSince int64    // when it went back to the pool (UnixNano)
}

// request is one HTTP request handed to the application.
type request struct {
	hc netserver.ClientNum
	ls *loopState
	// orig is a Clone of the HTTP request when Config.Dispatch is set (a
	// local redirect re-dispatches it), else nil; redirects is its
	// Redirects count.
	orig      *http.Request
	redirects int
	conn      *appConn
	waiting   bool

	held        []byte // records written before a connection was found
	stdinQueued int    // record bytes toward the application not yet sent
	bodyDone    bool   // the empty STDIN record is written or held
	bodyPaused  bool

	out    *cgi.Output // the response: CGI head parsing, framing
	queued int         // body bytes the Output holds (not yet sent)

	outPaused bool
	deadline  int64 // UnixNano; 0: none
	finished  bool
}

// connHandler receives the callbacks of the application connections.
type connHandler struct {
	netserver.NopHandler
	c *Client
}

// RawWrite ends a write of records to the application.
func (h *connHandler) RawWrite(data []byte, n netserver.ClientNum, failed bool) {
	c := h.c
	ac := c.loops[n.Loop()].conns[n]
	if ac == nil {
		return
	}
	ac.writes--
	if failed {
		c.closeConn(ac)
		return
	}
	if r := ac.req; r != nil {
		r.stdinQueued -= len(data)
		if r.bodyPaused && r.stdinQueued <= c.cfg.MaxStdin/2 {
			r.bodyPaused = false
			c.srv.ResumeBody(r.hc)
		}
	}
}

// RawClose forgets a closed application connection.
func (h *connHandler) RawClose(n netserver.ClientNum, cause error) {
	if ac := h.c.loops[n.Loop()].conns[n]; ac != nil {
		h.c.connClosed(ac, cause)
	}
}

// RawRead takes the application's records.
func (h *connHandler) RawRead(data []byte, n netserver.ClientNum, failed bool) {
	c := h.c
	ls := c.loops[n.Loop()]
	ac := ls.conns[n]
	if ac == nil {
		return
	}
	ac.reading = false
	if failed || len(data) == 0 || ac.closing {
		c.closeConn(ac)
		return
	}
	for len(data) > 0 {
		r := ac.req
		if r == nil { // bytes from an idle connection, or after END_REQUEST
			c.closeConn(ac)
			return
		}
		hd, piece, _, used, ok, err := ac.dec.Next(data)
		data = data[used:]
		if err != nil {
			c.log.Warn("fastcgi: bad record from the application", "err", err)
			c.closeConn(ac)
			c.fail(r, http.StatusBadGateway)
			return
		}
		if !ok {
			continue
		}
		if hd.ID != requestID {
			continue // management records (GET_VALUES_RESULT, UNKNOWN_TYPE)
		}
		switch hd.Type {
		case TypeStdout:
			r.deadline = c.deadline(r.hc)
			if !c.stdout(r, piece) {
				c.closeConn(ac)
				return
			}
		case TypeStderr:
			c.stderr(piece)
		case TypeEndRequest:
			_, proto, err := ParseEndRequest(piece)
			c.end(ls, ac, r, err == nil && proto == StatusRequestComplete)
		}
	}
	if ac.req != nil || ls.conns[n] == ac {
		c.armRead(ac)
	}
}

// end finishes r after its END_REQUEST: the response ends and the
// connection goes back to the pool when clean.
func (c *Client) end(ls *loopState, ac *appConn, r *request, clean bool) {
	c.cnt.completed.Add(1)
	r.finished = true
	c.unpauseBody(r)
	if ls.reqs[r.hc] == r {
		delete(ls.reqs, r.hc)
	}
	r.conn = nil
	if err := r.out.Close(); err != nil {
		var he *cgi.HeadError
		if errors.As(err, &he) {
			c.cnt.badGateway.Add(1)
			c.log.Warn("fastcgi: bad response from the application", "client", r.hc, "err", err)
		}
		clean = false
	}
	if !clean || !r.bodyDone {
		ac.req = nil
		c.closeConn(ac)
		return
	}
	c.release(ls, ac)
}

// stderr logs (rate-limited) and counts what the application wrote to
// STDERR.
func (c *Client) stderr(p []byte) {
	c.cnt.stderrBytes.Add(uint64(len(p)))
	p = bytes.TrimSpace(p)
	if len(p) == 0 {
		return
	}
	sec := time.Now().Unix()
	if old := c.errSec.Load(); old != sec && c.errSec.CompareAndSwap(old, sec) {
		c.errLines.Store(0)
	}
	if c.errLines.Add(1) > int64(c.cfg.StderrRate) {
		c.cnt.stderrDropped.Add(1)
		return
	}
	if len(p) > 1024 {
		p = p[:1024]
	}
	c.log.Warn("fastcgi: application stderr", "addr", c.cfg.Addr, "line", string(p))
}

// stdout hands a piece of STDOUT to r's Output (a copy: the Output keeps
// body buffers until they are sent, and the read buffer is reused). It
// returns false when the application connection must close.
func (c *Client) stdout(r *request, p []byte) bool {
	if r.finished || len(p) == 0 {
		return !r.finished
	}
	b := append([]byte(nil), p...)
	kept, err := r.out.Write(b)
	if kept {
		r.queued += len(b)
		if r.queued > c.cfg.MaxQueued && !r.outPaused {
			r.outPaused = true
			c.cnt.outputPauses.Add(1)
		}
	}
	if err == nil {
		return true
	}
	var he *cgi.HeadError
	var lr *cgi.LocalRedirect
	switch {
	case errors.As(err, &he):
		c.cnt.badGateway.Add(1)
		c.log.Warn("fastcgi: bad response head from the application", "client", r.hc, "err", err)
	case errors.As(err, &lr):
		// A local redirect (RFC 3875 §6.2.2): r is over (its application
		// connection closes, mid-response); the new request may come back
		// here through Dispatch.
		c.drop(r.ls, r)
		orig := r.orig
		if orig == nil { // no Dispatch: only the count matters (a 302 or a 502)
			orig = &http.Request{Redirects: r.redirects}
		}
		if cgi.Follow(c.srv, r.hc, orig, lr, c.cfg.MaxRedirects, c.cfg.Dispatch) {
			c.cnt.redirects.Add(1)
		} else {
			c.cnt.badGateway.Add(1)
			c.log.Warn("fastcgi: too many local redirects", "client", r.hc, "location", lr.Target())
		}
		return false
	default: // the HTTP client is gone
		c.cnt.clientAborts.Add(1)
	}
	c.drop(r.ls, r)
	return false
}

// released gets back a body buffer r's Output has sent: reading the
// application resumes when enough went out.
func (c *Client) released(r *request, buf []byte) {
	r.queued -= len(buf)
	if r.outPaused && r.queued <= c.cfg.MaxQueued/2 {
		r.outPaused = false
		if r.finished {
			return
		}
		r.deadline = c.deadline(r.hc)
		if r.conn != nil {
			c.armRead(r.conn)
		}
	}
}
