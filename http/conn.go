package http

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/h2"
	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/net/http2/hpack"
)

// loopState is what one event loop keeps for its connections. Only that
// loop touches it.
type loopState struct {
	req   Request // the request being parsed (fields reference the input)
	date  DateCache
	out   []byte   // response scratch
	bufs  [][]byte // pooled input buffers
	colls []*BodyCollector
	entry AccessEntry // the access log's entry, reused

	// HTTP/2 (h2*.go), made at the loop's first HTTP/2 connection.
	h2        *h2.Loop
	h2conns   map[netserver.ClientNum]*h2conn
	h2free    []*h2stream
	h2in      []byte              // a preface and what followed it, for the engine
	h2req     []byte              // a request head or body piece fed to a stream
	h2fields  []hpack.HeaderField // a response head being framed
	h2names   []byte              // its lower-cased names
	h2file    []byte              // file data being framed, read with pread
	h2bufs    [][]byte            // h2FileOp's pool of read buffers (at most h2FileBuffers)
	h2bufsOut int                 // pool buffers lent now
}

// conn is the HTTP state of one connection, kept small.
type conn struct {
	c            netserver.ClientNum
	buf          []byte // unconsumed input (pooled), nil when empty
	since        int64  // unix nanos: start of the current wait (idle, head, linger)
	remaining    int64  // body bytes still expected (BodyLength)
	bodySince    int64  // unix nanos: when the body was first wanted
	bodyRead     int64  // body bytes received since bodySince
	pausedAt     int64  // unix nanos: when PauseBody stopped the body clock
	logLine      []byte // method then target of the current request (access log)
	logMethod    int    // length of the method in logLine
	dec          *ChunkedDecoder
	coll         *BodyCollector
	detached     netserver.Handler
	h2           *h2stream  // an HTTP/2 stream's conn: its stream (nil on HTTP/1.1)
	h2up         *h2Upgrade // an Upgrade: h2c accepted, for h2Start
	bodyMode     BodyMode
	headWait     bool // a partial head is buffered: the header timeout runs
	responding   bool // the current request waits for its response to end
	inBody       bool // the current request's body is still arriving
	keepAlive    bool
	head         bool // the current request is HEAD
	http10       bool
	expect100    bool
	continued    bool // 100 Continue sent (or not needed)
	holdContinue bool // the handler sends 100 Continue itself (DeferContinue)
	headOut      bool // the current response's head went out: no 100 Continue after it
	bodyPaused   bool // the handler paused the body (PauseBody): its clock stops
	bufPaused    bool // pipelined input waits for a response: reading pauses
	readPaused   bool // netserver's PauseRead is in effect (either reason)
	lingering    bool // closing: input is discarded until EOF or the linger timeout
	inHandler    bool // the input loop runs (no recursion from callbacks)
	congested    bool // pipelined input waits for the output backlog to drain (RawDrained)
	logged       bool // the access log has the current request
	served       bool // a request was read: no HTTP/2 preface may follow
	h2pre        bool // the HTTP/2 preface came: the connection turns HTTP/2
}

// pauseBuffered is the input a connection buffers behind a request being
// answered before reading from it pauses.
const pauseBuffered = 64 << 10

// syncPause pauses or resumes reading cn as its reasons (PauseBody,
// pipelined input waiting) say.
func (s *Server) syncPause(cn *conn) {
	want := cn.bodyPaused || cn.bufPaused
	if want == cn.readPaused {
		return
	}
	cn.readPaused = want
	if cn.h2 != nil {
		if want { // held input is delivered by h2Sync, never from inside input
			cn.h2.hc.conn.Pause(cn.h2.id)
		}
		return
	}
	if want {
		s.ns.PauseRead(cn.c)
	} else {
		s.ns.ResumeRead(cn.c)
	}
}

// bodyPiece is the most body data handed to HTTPBody at once while the
// body streams, so that the output the handler makes of it stays near
// the client's backlog limit.
const bodyPiece = 16 << 10

// rawHandler is the Server seen as a netserver.Handler.
type rawHandler Server

// conn returns the state of client c, or nil.
func (s *Server) conn(c netserver.ClientNum) (*loopState, *conn) {
	if c.Loop() >= len(s.loops) {
		return nil, nil
	}
	return &s.loops[c.Loop()], s.conns.Get(c)
}

func (r *rawHandler) Accept(c netserver.ClientNum) {
	cn := r.conns.New(c) // a reused conn keeps its decoder and log line
	*cn = conn{c: c, since: (*Server)(r).ns.Now(c).UnixNano(), logLine: cn.logLine[:0], dec: cn.dec}
	r.open.Add(1)
	s := (*Server)(r)
	if s.cfg.Net.TLS != nil && !s.cfg.HTTP2.Disable {
		if st, ok, _ := s.ns.TLSState(c); ok && st.NegotiatedProtocol == "h2" {
			s.h2cnt.alpn.Add(1)
			if hc := s.h2Begin(&s.loops[c.Loop()], cn); hc != nil {
				hc.conn.Start()
			}
		}
	}
}

// release drops c's HTTP state: it was closed, or detached.
func (s *Server) release(ls *loopState, cn *conn) {
	s.dropBuf(ls, cn)
	s.releaseColl(ls, cn)
	c := cn.c
	if cn.h2 != nil {
		s.h2Release(ls, cn)
	} else {
		s.open.Add(-1)
	}
	*cn = conn{dec: cn.dec, logLine: cn.logLine[:0]}
	s.conns.Delete(c)
}

func (r *rawHandler) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	s := (*Server)(r)
	ls, cn := s.conn(c)
	if cn == nil {
		return
	}
	if failed || cn.lingering {
		return
	}
	if len(cn.buf) == 0 {
		s.input(ls, cn, data, false)
		return
	}
	cn.buf = append(cn.buf, data...)
	s.input(ls, cn, cn.buf, true)
}

// input consumes in: request heads, bodies; what cannot be consumed yet
// (a partial head, or requests pipelined behind one not yet answered) is
// kept in cn.buf. buffered says in is cn.buf itself.
func (s *Server) input(ls *loopState, cn *conn, in []byte, buffered bool) {
	if cn.inHandler {
		return
	}
	cn.inHandler = true
	rest := s.consume(ls, cn, in)
	cn.inHandler = false
	if ls2, cn2 := s.conn(cn.c); cn2 != cn || ls2 != ls {
		return // closed during a callback
	}
	if cn.h2pre {
		s.h2Start(ls, cn, rest)
		return
	}
	if h := cn.detached; h != nil {
		// The connection belongs to h now (netserver routes its callbacks
		// there); it gets the bytes that followed the upgrade request.
		c := cn.c
		if len(rest) > 0 {
			rest = append([]byte(nil), rest...)
		}
		s.release(ls, cn)
		if len(rest) > 0 {
			h.RawRead(rest, c, false)
		}
		return
	}
	if cn.lingering {
		if buffered {
			s.dropBuf(ls, cn)
		}
		return
	}
	if !cn.responding && !cn.inBody && !cn.congested && len(rest) > 0 && !cn.headWait {
		cn.headWait = true
		cn.since = s.ns.Now(cn.c).UnixNano()
	}
	// Input pipelined behind a request being answered waits in the
	// kernel past pauseBuffered, rather than filling MaxBuffered.
	cn.bufPaused = cn.responding && !cn.inBody && len(rest) > pauseBuffered
	s.syncPause(cn)
	if len(rest) > s.set.maxBuffered && !cn.congested {
		// More input than a connection may hold while its requests wait
		// for a slow answer. (While the client is congested, netserver
		// reads no more from it: what is left is bounded by what was
		// already read.)
		s.ns.Abort(cn.c)
		return
	}
	switch {
	case len(rest) == 0:
		if buffered {
			s.dropBuf(ls, cn)
		}
	case buffered:
		n := copy(cn.buf, rest)
		cn.buf = cn.buf[:n]
	default:
		cn.buf = append(s.getBuf(ls), rest...)
	}
}

func (s *Server) getBuf(ls *loopState) []byte {
	if n := len(ls.bufs); n > 0 {
		b := ls.bufs[n-1]
		ls.bufs = ls.bufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, 4096)
}

func (s *Server) dropBuf(ls *loopState, cn *conn) {
	if cn.buf != nil && cap(cn.buf) <= 64<<10 && len(ls.bufs) < 1024 {
		ls.bufs = append(ls.bufs, cn.buf[:0])
	}
	cn.buf = nil
}

// consume handles as much of in as it can and returns the rest.
func (s *Server) consume(ls *loopState, cn *conn, in []byte) []byte {
	for len(in) > 0 {
		if cn.detached != nil || cn.lingering || cn.h2pre {
			return in
		}
		if cn.inBody {
			piece := in
			if cn.responding && cn.coll == nil {
				// The handler may answer each piece with output: hand it
				// over in pieces, and none while the client is not
				// reading.
				if s.ns.Congested(cn.c) {
					cn.congested = true
					return in
				}
				piece = in[:min(len(in), bodyPiece)]
			}
			n, ok := s.body(ls, cn, piece)
			if !ok {
				return nil
			}
			cn.bodyRead += int64(n)
			in = in[n:]
			continue
		}
		if cn.responding {
			return in
		}
		if s.ns.Congested(cn.c) {
			// The client is not reading its responses: answer no more of
			// its pipelined requests until the backlog drains.
			cn.congested = true
			return in
		}
		if in[0] == 'P' && !cn.served && s.h2Cleartext() {
			if ok, full := isPreface(in); ok {
				if !full {
					return in // the rest of the preface is to come
				}
				s.h2cnt.prior.Add(1)
				cn.h2pre = true
				return in
			}
		}
		req := &ls.req
		n, err := Parse(in, req, &s.lim)
		if err != nil {
			status := StatusBadRequest
			var e *Error
			if errors.As(err, &e) {
				status = e.Status
			}
			s.cnt.rejected.Add(1)
			if !cn.served && s.h2Cleartext() && notHTTP(in) {
				// Not an HTTP/1 client (a broken HTTP/2 preface, say):
				// closed without an answer it could not read.
				s.log.Debug("http: not an HTTP request line; closing", "client", cn.c.String())
				s.ns.Abort(cn.c)
				return nil
			}
			s.logRejected(ls, cn, status)
			s.fail(ls, cn, status)
			return nil
		}
		if n == 0 {
			return in
		}
		in = in[n:]
		s.request(ls, cn, req)
	}
	return in
}

// request starts serving a parsed request head.
func (s *Server) request(ls *loopState, cn *conn, req *Request) {
	s.cnt.reqs.Add(1)
	s.noteRequest(cn, req)
	cn.headWait = false
	cn.responding = true
	if s.draining.Load() && s.closeDue(cn.c) {
		// Draining: this response closes its connection, whatever head
		// it goes out with (the handler sees it in req.KeepAlive).
		req.KeepAlive = false
	}
	cn.keepAlive = req.KeepAlive
	cn.served = true
	if cn.h2 != nil {
		req.Major, req.Minor = 2, 0
	}
	cn.head = req.IsHead()
	cn.http10 = req.Major == 1 && req.Minor == 0
	cn.expect100 = req.Expect100
	cn.continued = !req.Expect100
	cn.holdContinue, cn.bodyPaused, cn.headOut = false, false, false
	s.syncPause(cn)
	cn.bodyMode = req.Body
	cn.inBody = req.Body != BodyNone
	cn.remaining = req.ContentLength
	cn.bodySince, cn.bodyRead = s.ns.Now(cn.c).UnixNano(), 0
	if req.Body == BodyChunked {
		if cn.dec == nil {
			cn.dec = new(ChunkedDecoder)
		}
		cn.dec.Reset(s.lim.MaxBodyBytes)
	}
	if req.Form == FormAsterisk && string(req.Method) == "OPTIONS" {
		out := s.statusLine(ls, cn, StatusOK)
		out = ls.date.Append(out, s.ns.Now(cn.c))
		out = append(out, "Allow: GET, HEAD, POST, OPTIONS\r\nContent-Length: 0\r\n"...)
		ls.out = appendConnection(out, cn)
		s.ns.Send(cn.c, ls.out)
		s.endResponse(ls, cn)
		return
	}
	if s.maybeH2Upgrade(cn, req) {
		return
	}
	s.h.HTTPRead(req, cn.c, false)
	if _, cn2 := s.conn(cn.c); cn2 != cn || cn.detached != nil {
		return
	}
	if cn.responding && cn.inBody && !cn.holdContinue {
		s.sendContinue(cn)
	}
	if cn.coll != nil && !cn.inBody && cn.responding {
		s.deliverCollected(ls, cn)
	}
}

// sendContinue sends 100 Continue once, when the body is wanted.
func (s *Server) sendContinue(cn *conn) {
	if cn.continued {
		return
	}
	cn.continued = true
	if cn.headOut {
		return // the final response started: a 100 after it would corrupt it
	}
	if cn.inBody {
		// The client waited for this: the body clock starts now.
		cn.bodySince, cn.bodyRead = s.ns.Now(cn.c).UnixNano(), 0
		s.ns.Send(cn.c, AppendContinue(nil))
	}
}

// body consumes body bytes from in. ok is false when the connection
// failed.
func (s *Server) body(ls *loopState, cn *conn, in []byte) (n int, ok bool) {
	deliver := cn.responding && cn.detached == nil
	if cn.coll != nil {
		n, done, err := cn.coll.Feed(in)
		if err != nil {
			s.bodyError(ls, cn, err)
			return 0, false
		}
		if done {
			cn.inBody = false
			if deliver {
				s.deliverCollected(ls, cn)
			} else {
				s.releaseColl(ls, cn)
			}
			s.maybeDone(ls, cn)
		}
		return n, true
	}
	if cn.bodyMode == BodyLength {
		k := min(int64(len(in)), cn.remaining)
		cn.remaining -= k
		last := cn.remaining == 0
		if last {
			cn.inBody = false
		}
		if deliver {
			s.h.HTTPBody(in[:k], cn.c, last)
		}
		if last {
			s.maybeDone(ls, cn)
		}
		return int(k), true
	}
	for n < len(in) {
		data, k, fin, err := cn.dec.Next(in[n:])
		n += k
		if err != nil {
			s.bodyError(ls, cn, err)
			return 0, false
		}
		if fin {
			cn.inBody = false
		}
		if deliver && (len(data) > 0 || fin) {
			s.h.HTTPBody(data, cn.c, fin)
			if _, cn2 := s.conn(cn.c); cn2 != cn {
				return 0, false
			}
			deliver = cn.responding
		}
		if fin {
			s.maybeDone(ls, cn)
			return n, true
		}
		if k == 0 {
			break
		}
	}
	return n, true
}

func (s *Server) deliverCollected(ls *loopState, cn *conn) {
	coll := cn.coll
	s.h.HTTPBody(coll.Bytes(), cn.c, true)
	if _, cn2 := s.conn(cn.c); cn2 == cn {
		s.releaseColl(ls, cn)
	}
}

func (s *Server) releaseColl(ls *loopState, cn *conn) {
	if cn.coll != nil {
		if cap(cn.coll.Bytes()) > 1<<20 {
			cn.coll.SetBuffer(nil)
		}
		ls.colls = append(ls.colls, cn.coll)
		cn.coll = nil
	}
}

func (s *Server) bodyError(ls *loopState, cn *conn, err error) {
	status := StatusBadRequest
	var e *Error
	if errors.As(err, &e) {
		status = e.Status
	}
	if !cn.responding {
		s.linger(ls, cn)
		return
	}
	s.fail(ls, cn, status)
}

// fail answers status with its error page and closes the connection.
func (s *Server) fail(ls *loopState, cn *conn, status int) {
	s.logStatus(ls, cn, status)
	cn.keepAlive = false
	ls.out = s.cfg.ErrorPages.AppendResponse(ls.out[:0], status, &ls.date, s.ns.Now(cn.c), cn.responding && cn.head)
	s.ns.Send(cn.c, ls.out)
	cn.responding = false
	s.linger(ls, cn)
}

// endResponse ends the current response.
func (s *Server) endResponse(ls *loopState, cn *conn) {
	cn.responding = false
	if cn.bodyPaused {
		// What is left of the body is read and discarded now.
		cn.bodyPaused = false
		s.syncPause(cn)
	}
	if cn.inBody && (!cn.continued || !cn.keepAlive || cn.h2 != nil) {
		// The body was never asked for, or the connection closes anyway:
		// do not wait for it.
		cn.keepAlive = false
		cn.inBody = false
	}
	if cn.coll != nil && cn.inBody {
		s.releaseColl(ls, cn)
	}
	s.maybeDone(ls, cn)
	if !cn.inHandler && !cn.lingering && len(cn.buf) > 0 {
		s.input(ls, cn, cn.buf, true)
	}
}

// maybeDone finishes a request whose response ended and whose body was
// read: the connection waits for the next request or closes.
func (s *Server) maybeDone(ls *loopState, cn *conn) {
	if cn.responding || cn.inBody || cn.lingering {
		return
	}
	if cn.coll != nil {
		s.releaseColl(ls, cn)
	}
	if !cn.keepAlive || cn.h2 != nil {
		s.linger(ls, cn) // a stream ends with its response
		return
	}
	cn.since = s.ns.Now(cn.c).UnixNano()
}

// linger closes the connection the polite way: once the responses are
// out, the write side is shut down and input is discarded until the
// client closes or the linger timeout passes.
func (s *Server) linger(ls *loopState, cn *conn) {
	if cn.lingering {
		return
	}
	cn.lingering = true
	cn.responding = false
	cn.inBody = false
	cn.bodyPaused, cn.bufPaused = false, false
	s.syncPause(cn) // lingering reads and discards until EOF
	cn.since = s.ns.Now(cn.c).UnixNano()
	s.dropBuf(ls, cn)
	if s.set.lingerTimeout == 0 || cn.h2 != nil {
		s.ns.RawClose(cn.c)
		return
	}
	if err := s.ns.ShutdownWrite(cn.c); err != nil {
		s.ns.RawClose(cn.c)
	}
}

// RawDrained resumes the pipelined requests of a connection whose output
// backlog has drained (netserver.Drainer).
func (r *rawHandler) RawDrained(c netserver.ClientNum) {
	s := (*Server)(r)
	ls, cn := s.conn(c)
	if cn == nil || !cn.congested {
		return
	}
	cn.congested = false
	if cn.h2 != nil {
		s.h2Sync(ls, cn)
		return
	}
	if !cn.inHandler && !cn.lingering && len(cn.buf) > 0 {
		s.input(ls, cn, cn.buf, true)
	}
}

func (r *rawHandler) RawReadv([][]byte, netserver.ClientNum, bool) {}

func (r *rawHandler) RawWrite(data []byte, c netserver.ClientNum, failed bool) {
	r.h.HTTPWrite(data, c, failed)
}

func (r *rawHandler) RawWritev(bufs [][]byte, c netserver.ClientNum, failed bool) {
	r.h.HTTPWritev(bufs, c, failed)
}

func (r *rawHandler) RawClose(c netserver.ClientNum, cause error) {
	s := (*Server)(r)
	ls, cn := s.conn(c)
	if cn == nil {
		return
	}
	if cn.responding {
		s.logStatus(ls, cn, 0)
	}
	s.release(ls, cn)
	s.h.HTTPClose(c)
}

func (r *rawHandler) EventTrigger(c netserver.ClientNum, info uint64) {}

func (r *rawHandler) EventErrorClose(c netserver.ClientNum, info uint64) {}

// Tick enforces the header, body, idle and linger timeouts of loop's
// connections, closes the idle ones of a drain, and lets the access log
// flush.
func (r *rawHandler) Tick(loop int, now time.Time) {
	s := (*Server)(r)
	ls := &s.loops[loop]
	t := now.UnixNano()
	draining := s.draining.Load()
	s.conns.ForEach(loop, func(_ netserver.ClientNum, cn *conn) {
		if draining && s.drainIdle(ls, cn, t) {
			return
		}
		if cn.inBody {
			if cn.bodyClockRuns() && !cn.lingering && s.bodyLate(cn, t) {
				s.bodyTimeout(ls, cn)
			}
			return
		}
		if cn.responding || cn.congested {
			return // the stall timeout (Net.IdleTimeout) covers a client that stops reading
		}
		if s.ns.Sending(cn.c) {
			// The last response (a file, say) is still going out: the
			// idle, linger and drain clocks start once it has; the stall
			// timeout covers a client that stops reading.
			cn.since = t
			return
		}
		var limit time.Duration
		var cnt *atomic.Uint64
		switch {
		case cn.lingering:
			limit = s.set.lingerTimeout
		case cn.headWait:
			limit, cnt = s.set.headerTimeout, &s.cnt.headerTimeouts
		default:
			limit, cnt = s.set.idleTimeout, &s.cnt.idleTimeouts
		}
		if limit > 0 && t-cn.since > int64(limit) {
			if !cn.headWait && s.ns.Unsent(cn.c) > 0 {
				// The kernel still holds output the client has not taken
				// (the end of a file to a slow reader): not idle yet.
				cn.since = t
				return
			}
			if cnt != nil {
				cnt.Add(1)
			}
			s.ns.Abort(cn.c)
		}
	})
	if ls.h2 != nil {
		s.h2Tick(ls, now, draining)
	}
	if s.cfg.AccessLog != nil {
		s.cfg.AccessLog.FlushAccess(loop, now)
	}
}

// bodyLate tells whether cn's body is overdue at t (unix nanos):
// BodyTimeout after it was wanted, plus a second per MinBodyRate bytes
// received.
func (s *Server) bodyLate(cn *conn, t int64) bool {
	if s.set.bodyTimeout <= 0 {
		return false
	}
	allowed := int64(s.set.bodyTimeout)
	if s.set.minBodyRate > 0 {
		allowed += cn.bodyRead / s.set.minBodyRate * int64(time.Second)
	}
	return t-cn.bodySince > allowed
}

// bodyTimeout ends a request whose body is overdue: 408 when its response
// has not started, else the connection just closes.
func (s *Server) bodyTimeout(ls *loopState, cn *conn) {
	s.cnt.bodyTimeouts.Add(1)
	s.log.Debug("http: request body timeout", "client", cn.c.String(), "received", cn.bodyRead,
		"after", time.Duration(s.ns.Now(cn.c).UnixNano()-cn.bodySince).String())
	if cn.responding {
		s.fail(ls, cn, StatusRequestTimeout)
		return
	}
	s.linger(ls, cn)
}
