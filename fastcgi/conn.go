package fastcgi

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

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
	hc      netserver.ClientNum
	ls      *loopState
	conn    *appConn
	waiting bool
	head    bool // a HEAD request: no body goes to the client
	http10  bool

	held        []byte // records written before a connection was found
	stdinQueued int    // record bytes toward the application not yet sent
	bodyDone    bool   // the empty STDIN record is written or held
	bodyPaused  bool

	hbuf     []byte // the CGI response head while it is incomplete
	headSent bool
	chunked  bool
	noBody   bool  // 204, 304 or HEAD: the body is dropped
	left     int64 // Content-Length bytes still due, -1 when unframed by length
	rawClose bool  // HTTP/1.0 without Content-Length: the body ends with the connection

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
	if !r.headSent {
		c.log.Warn("fastcgi: the application ended a request without a complete response head", "client", r.hc)
		c.closeConn(ac)
		c.fail(r, http.StatusBadGateway)
		return
	}
	r.finished = true
	delete(ls.reqs, r.hc)
	switch {
	case r.left > 0 && !r.noBody:
		// Short of its Content-Length: the client must see it cut.
		c.ns.Abort(r.hc)
		clean = false
	case r.chunked && !r.noBody:
		c.writeClient(r, []byte("0\r\n\r\n"))
		c.srv.EndResponse(r.hc)
	default:
		c.srv.EndResponse(r.hc)
	}
	r.conn = nil
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

// stdout handles a piece of STDOUT: the CGI head, then the body. It
// returns false when the application connection must close.
func (c *Client) stdout(r *request, p []byte) bool {
	if r.finished {
		return false
	}
	if r.headSent {
		c.body(r, p)
		return true
	}
	r.hbuf = append(r.hbuf, p...)
	end, bodyAt := headEnd(r.hbuf)
	if end < 0 {
		if len(r.hbuf) > c.cfg.MaxHead {
			c.log.Warn("fastcgi: response head over the limit", "limit", c.cfg.MaxHead)
			c.fail(r, http.StatusBadGateway)
			return false
		}
		return true
	}
	if end > c.cfg.MaxHead {
		c.fail(r, http.StatusBadGateway)
		return false
	}
	head, err := c.responseHead(r, r.hbuf[:end])
	if err != nil {
		c.log.Warn("fastcgi: bad response head from the application", "err", err)
		c.fail(r, http.StatusBadGateway)
		return false
	}
	rest := r.hbuf[bodyAt:]
	r.hbuf = nil
	r.headSent = true
	c.writeClient(r, head)
	c.body(r, rest)
	return true
}

// headEnd finds the end of a CGI head ("\n\n" or "\r\n\r\n"): the end of
// the fields and the start of the body, or -1.
func headEnd(b []byte) (end, body int) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i == 0 {
			return 0, 1
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 1, i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 1, i + 3
		}
	}
	return -1, -1
}

// hopByHop lists the CGI header fields not passed on to the HTTP client.
func skipField(name []byte) bool {
	for _, s := range []string{"Status", "Connection", "Transfer-Encoding", "Keep-Alive", "Content-Length",
		"Proxy-Connection", "Upgrade", "Trailer", "TE", "Date"} {
		if bytes.EqualFold(name, []byte(s)) {
			return true
		}
	}
	return false
}

// validName reports whether b is a header field name token.
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, ch := range b {
		if ch <= ' ' || ch >= 0x7f || bytes.IndexByte([]byte("\"(),/:;<=>?@[\\]{}"), ch) >= 0 {
			return false
		}
	}
	return true
}

// responseHead turns a CGI head (RFC 3875 §6) into an HTTP response head
// and sets r's body framing.
func (c *Client) responseHead(r *request, h []byte) ([]byte, error) {
	status, cl, haveLocation, haveType := 0, int64(-1), false, false
	var fields []byte
	for len(h) > 0 {
		line := h
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("fastcgi: head line without a field: %.64q", line)
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		if !validName(name) || bytes.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("fastcgi: bad head field %.64q", line)
		}
		switch {
		case bytes.EqualFold(name, []byte("Status")):
			if len(value) < 3 {
				return nil, fmt.Errorf("fastcgi: bad Status %q", value)
			}
			n, err := strconv.Atoi(string(value[:3]))
			if err != nil || n < 200 || n > 999 {
				return nil, fmt.Errorf("fastcgi: bad Status %q", value)
			}
			status = n
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("fastcgi: bad Content-Length %q", value)
			}
			cl = n
		case bytes.EqualFold(name, []byte("Location")):
			haveLocation = true
		case bytes.EqualFold(name, []byte("Content-Type")):
			haveType = true
		}
		if !skipField(name) {
			fields = append(fields, name...)
			fields = append(fields, ": "...)
			fields = append(fields, value...)
			fields = append(fields, "\r\n"...)
		}
	}
	if status == 0 {
		status = http.StatusOK
		if haveLocation {
			status = http.StatusFound
		}
	}
	_ = haveType
	r.noBody = r.head || status == http.StatusNoContent || status == http.StatusNotModified
	closeConn := false
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified:
		r.left = -1
	case cl >= 0:
		fields = http.AppendContentLength(fields, cl)
		r.left = cl
	case r.head:
		r.left = -1
	case r.http10:
		r.left, r.rawClose, closeConn = -1, true, true
	default:
		fields = append(fields, "Transfer-Encoding: chunked\r\n"...)
		r.left, r.chunked = -1, true
	}
	out := c.srv.AppendHeadStart(nil, r.hc, status, true)
	out = append(out, fields...)
	return c.srv.AppendHeadEnd(out, r.hc, closeConn), nil
}

// body sends a piece of the response body to the HTTP client.
func (c *Client) body(r *request, p []byte) {
	if len(p) == 0 || r.noBody {
		return
	}
	if r.left >= 0 {
		if int64(len(p)) > r.left {
			p = p[:r.left] // more than its Content-Length: the excess is dropped
		}
		r.left -= int64(len(p))
		if len(p) == 0 {
			return
		}
	}
	var b []byte
	if r.chunked {
		b = strconv.AppendUint(make([]byte, 0, len(p)+16), uint64(len(p)), 16)
		b = append(b, "\r\n"...)
		b = append(b, p...)
		b = append(b, "\r\n"...)
	} else {
		b = append([]byte(nil), p...)
	}
	c.writeClient(r, b)
}

// writeClient writes b to r's HTTP client (Write: HTTPWrite comes back),
// and stops reading the application while too much is queued.
func (c *Client) writeClient(r *request, b []byte) {
	ls := r.ls
	o := ls.out[r.hc]
	if o == nil {
		o = &outState{}
		ls.out[r.hc] = o
	}
	if err := c.srv.Write(r.hc, b); err != nil {
		return
	}
	o.writes++
	o.bytes += len(b)
	if o.bytes > c.cfg.MaxQueued && !r.outPaused && !r.finished {
		r.outPaused = true
		c.cnt.outputPauses.Add(1)
	}
}
