package stdhttp

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

const (
	// smallBody is what is buffered before the head goes out: a response
	// that ends within it gets a Content-Length (net/http's 2 KiB).
	smallBody = 2 << 10
	// pieceSize is what is buffered per write once the head is out.
	pieceSize = 32 << 10
)

// response is the http.ResponseWriter of a call. Its methods run on the
// handler's goroutine (and whatever goroutines the handler hands it to,
// as net/http allows for none: one at a time).
type response struct {
	cl        *call
	header    http.Header
	snap      http.Header // the header as at WriteHeader, once the handler may change it
	hi        headInfo
	status    int
	head      bool // HEAD request
	http10    bool
	keepAlive bool // the request allows keep-alive

	wroteHeader bool
	headSent    bool
	f           framing
	buf         *[]byte // body not yet sent
	written     int64   // body bytes written by the handler
	err         error   // sticky write error
	detached    bool    // hijacked or taken over
	ended       bool

	inflight bool      // a piece is on its way
	sending  *[]byte   // its pooled buffer, back to the pool once it is done
	done     chan bool // its completion: failed
	deadline time.Time // the write deadline (WriteTimeout, SetWriteDeadline)
}

func (w *response) init(cl *call, req *uhttp.Request) {
	w.cl = cl
	w.header = make(http.Header)
	w.head = req.IsHead()
	w.http10 = req.Major == 1 && req.Minor == 0
	w.keepAlive = req.KeepAlive
	w.done = make(chan bool, 1)
	if d := cl.a.opt.WriteTimeout; d > 0 {
		w.deadline = time.Now().Add(d)
	}
}

// Header returns the header map the response will carry. Changes made
// after WriteHeader do not reach the head (only trailers), as in
// net/http: the first call after WriteHeader keeps a copy for the head.
func (w *response) Header() http.Header {
	if w.wroteHeader && !w.headSent && w.snap == nil {
		w.snap = w.header.Clone()
	}
	return w.header
}

// headHeader returns the fields the head carries.
func (w *response) headHeader() http.Header {
	if w.snap != nil {
		return w.snap
	}
	return w.header
}

// WriteHeader sends an informational (1xx) head at once, or records the
// final status.
func (w *response) WriteHeader(code int) {
	if w.detached || w.wroteHeader {
		if !w.detached {
			w.cl.a.log.Warn("stdhttp: superfluous WriteHeader", "status", code, "uri", w.cl.req.RequestURI)
		}
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.interim(code)
		return
	}
	w.wroteHeader = true
	w.status = code
	w.hi = readHead(w.header)
}

// interim sends a 1xx head with the current header fields.
func (w *response) interim(code int) {
	if w.http10 {
		return // HTTP/1.0 clients do not expect 1xx responses
	}
	if code == http.StatusContinue {
		w.cl.a.srv.Continue(w.cl.c)
		if w.cl.body != nil {
			w.cl.body.noExpect()
		}
		return
	}
	line := uhttp.AppendStatusLine(nil, code)
	for _, k := range sortedKeys(w.header) {
		if k == "Content-Length" || k == "Transfer-Encoding" {
			continue
		}
		for _, v := range w.header[k] {
			line = appendField(line, k, v)
		}
	}
	line = append(line, "\r\n"...)
	w.cl.a.queue(w.cl.c, func() { w.cl.a.ns.Send(w.cl.c, line) })
}

// Write buffers p, sending pieces as the buffer fills.
func (w *response) Write(p []byte) (int, error) {
	if w.detached {
		return 0, http.ErrHijacked
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.hi.contentLength >= 0 && w.written+int64(len(p)) > w.hi.contentLength {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.headSent && w.head {
		return len(p), nil
	}
	n := len(p)
	limit := w.limit()
	for len(p) > 0 {
		if w.buf == nil || len(*w.buf) == 0 {
			if len(p) >= limit && w.headSent {
				// A large write goes out as it is (it stays unchanged
				// while the piece is on its way: the write waits for it).
				if err := w.sendPiece(p, true); err != nil {
					return n - len(p), err
				}
				return n, nil
			}
			if w.buf == nil {
				w.buf = w.cl.a.getBuf(limit > smallBody)
			}
		}
		k := min(len(p), limit-len(*w.buf))
		*w.buf = append(*w.buf, p[:k]...)
		p = p[k:]
		if len(*w.buf) >= limit {
			if err := w.flushBuf(); err != nil {
				return n - len(p), err
			}
			limit = pieceSize
		}
	}
	return n, nil
}

// limit is what the body buffer holds before it goes out: a piece once
// the head is out; before, smallBody (a response that ends within it gets
// a Content-Length), or the whole body when the handler's Content-Length
// says it fits a piece (there is no framing left to decide: head and body
// go out together when the handler returns).
func (w *response) limit() int {
	switch {
	case w.headSent:
		return pieceSize
	case w.hi.contentLength >= 0 && w.hi.contentLength <= pieceSize:
		return pieceSize
	}
	return smallBody
}

// WriteString is Write for a string, without converting it when it fits
// the buffer.
func (w *response) WriteString(s string) (int, error) {
	if w.wroteHeader && w.err == nil && !w.detached && bodyAllowed(w.status) && !(w.headSent && w.head) &&
		(w.hi.contentLength < 0 || w.written+int64(len(s)) <= w.hi.contentLength) {
		limit := w.limit()
		if w.buf == nil {
			w.buf = w.cl.a.getBuf(limit > smallBody)
		}
		if len(*w.buf)+len(s) < limit {
			*w.buf = append(*w.buf, s...)
			w.written += int64(len(s))
			return len(s), nil
		}
	}
	return w.Write([]byte(s))
}

// flushBuf sends the buffered body as a piece (the head first, if it has
// not gone out).
func (w *response) flushBuf() error {
	if w.buf == nil || len(*w.buf) == 0 {
		if !w.headSent {
			return w.sendPiece(nil, false)
		}
		return nil
	}
	data := *w.buf
	w.buf = nil
	return w.sendPiece(data, false)
}

// sendPiece sends data (after the head, if not yet sent) and waits for
// the piece before it. borrowed says data is the handler's: the call
// waits for this piece too, so that the handler may reuse it.
func (w *response) sendPiece(data []byte, borrowed bool) error {
	if err := w.waitPiece(); err != nil {
		return err
	}
	if !w.deadline.IsZero() && !time.Now().Before(w.deadline) {
		// Past the write deadline nothing more goes out, as in net/http.
		w.err = os.ErrDeadlineExceeded
		w.cl.a.ns.Abort(w.cl.c)
		return w.err
	}
	var head []byte
	withHead := !w.headSent
	if withHead {
		w.f = w.decide(data, false)
		head = w.appendFields(nil, &w.f)
		w.headSent = true
	}
	if w.head {
		data = nil
	}
	cl, f, status, hi := w.cl, w.f, w.status, w.hi
	w.inflight = true
	if !borrowed && data != nil {
		w.sending = &data
	}
	err := cl.a.queue(cl.c, func() {
		var frame []byte
		if withHead {
			frame = cl.a.srv.AppendHeadStart(frame, cl.c, status, !hi.haveDate)
			frame = append(frame, head...)
			frame = cl.a.srv.AppendHeadEnd(frame, cl.c, f.close)
		}
		if f.chunked && len(data) > 0 {
			frame = strconv.AppendUint(frame, uint64(len(data)), 16)
			frame = append(frame, "\r\n"...)
		}
		bufs := [][]byte{frame, data}
		if f.chunked && len(data) > 0 {
			bufs = append(bufs, crlf)
		}
		if err := cl.a.ns.RawWritev(cl.c, bufs); err != nil {
			w.pieceDone(true)
		}
	})
	if err != nil {
		w.pieceDone(true)
	}
	if borrowed {
		return w.waitPiece()
	}
	return nil
}

var crlf = []byte("\r\n")

// waitPiece waits for the piece on its way, up to the write deadline.
func (w *response) waitPiece() error {
	if !w.inflight {
		return w.err
	}
	var timeout <-chan time.Time
	if !w.deadline.IsZero() {
		d := time.Until(w.deadline)
		if d <= 0 {
			d = time.Nanosecond
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	failed := true
	select {
	case failed = <-w.done:
		if failed && w.err == nil {
			w.err = errClientGone
		}
	case <-timeout:
		w.cl.a.ns.Abort(w.cl.c)
		<-w.done // the abort fails the piece
		w.err = os.ErrDeadlineExceeded
	}
	w.inflight = false
	if w.sending != nil && !failed {
		// Sent: the loop is done with it. A failed piece's buffer may
		// still be read by a write the loop has yet to run: the GC takes
		// it.
		w.cl.a.putBuf(w.sending)
	}
	w.sending = nil
	return w.err
}

// pieceDone is called on the loop when a piece was sent or failed.
func (w *response) pieceDone(failed bool) {
	select {
	case w.done <- failed:
	default:
	}
}

// Flush sends what is buffered (http.Flusher).
func (w *response) Flush() { w.FlushError() }

// FlushError sends what is buffered and reports a write error
// (http.ResponseController).
func (w *response) FlushError() error {
	if w.detached {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	return w.flushBuf()
}

// finish ends the response after the handler returned: what is left
// goes out from the loop (finishOp), the head too when it has not gone
// out yet, built there without copying the body or the header.
func (w *response) finish() {
	if w.detached || w.ended {
		return
	}
	w.ended = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.waitPiece(); err != nil {
		w.releaseBuf()
		w.cl.a.ns.RawClose(w.cl.c)
		return
	}
	if err := w.cl.a.queue(w.cl.c, w.finishOnLoop); err != nil {
		w.releaseBuf()
	}
}

// finishOnLoop sends the head (if not sent yet), what is buffered, and the
// end of a chunked body, then ends the response; it runs on the loop after
// the handler returned, when the response is the loop's.
func (w *response) finishOnLoop() {
	cl := w.cl
	if !cl.current() {
		w.releaseBuf()
		return
	}
	var data []byte
	if w.buf != nil {
		data = *w.buf
	}
	ls := cl.a.scratch(cl.c)
	out := (*ls)[:0]
	short := w.hi.contentLength >= 0 && w.written < w.hi.contentLength && !w.head && bodyAllowed(w.status)
	if !w.headSent {
		w.f = w.decide(data, true)
		w.headSent = true
		out = cl.a.srv.AppendHeadStart(out, cl.c, w.status, !w.hi.haveDate)
		out = w.appendFields(out, &w.f)
		out = cl.a.srv.AppendHeadEnd(out, cl.c, w.f.close)
	}
	if w.head || !bodyAllowed(w.status) {
		data = nil
	}
	if w.f.chunked {
		if len(data) > 0 {
			out = strconv.AppendUint(out, uint64(len(data)), 16)
			out = append(out, "\r\n"...)
			out = append(out, data...)
			out = append(out, "\r\n"...)
		}
		out = append(out, "0\r\n"...)
		out = w.appendTrailers(out)
	} else {
		out = append(out, data...)
	}
	*ls = out
	cl.a.ns.Send(cl.c, out)
	w.releaseBuf()
	if short {
		cl.a.ns.RawClose(cl.c) // the promised length never came
	}
	cl.a.srv.EndResponse(cl.c)
	cl.a.ended(cl)
	if cs := cl.a.conns.Get(cl.c); cs != nil && cs.cur != nil && cs.cur != cl {
		// The next pipelined request started at once: its answer is
		// likely posted within this loop turn, so this one waits to go
		// out with it.
		cl.a.ns.Cork(cl.c)
	}
}

// releaseBuf returns the buffer to the pool.
func (w *response) releaseBuf() {
	if w.buf != nil {
		w.cl.a.putBuf(w.buf)
		w.buf = nil
	}
}

func (a *Handler) putBuf(b *[]byte) {
	*b = (*b)[:0]
	switch cap(*b) {
	case smallBody:
		a.small.Put(b)
	case pieceSize:
		a.bufs.Put(b)
	}
}

// getBuf returns an empty buffer: small before the head went out (a
// response that ends within it gets a Content-Length), a piece's size
// after.
func (a *Handler) getBuf(headSent bool) *[]byte {
	if headSent {
		return a.bufs.Get().(*[]byte)
	}
	return a.small.Get().(*[]byte)
}

// failWith500 answers a panicked handler's request with 500 when nothing
// was sent yet; it reports whether it did.
func (w *response) failWith500() bool {
	if w.headSent || w.detached || w.ended {
		return false
	}
	w.ended = true
	w.releaseBuf()
	w.waitPiece()
	cl := w.cl
	cl.a.queue(cl.c, func() {
		if cl.current() {
			cl.a.srv.RespondError(cl.c, http.StatusInternalServerError)
			cl.a.ended(cl)
		}
	})
	return true
}

// abort closes the connection after what was sent (a panic after the head
// went out, http.ErrAbortHandler).
func (w *response) abort() {
	if w.detached {
		return
	}
	w.ended = true
	w.releaseBuf()
	w.cl.a.ns.RawClose(w.cl.c)
}

// SetReadDeadline sets the deadline for reading the request body
// (http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error {
	if w.cl.body != nil {
		w.cl.body.setDeadline(t)
	}
	return nil
}

// SetWriteDeadline sets the deadline for the response's writes
// (http.ResponseController).
func (w *response) SetWriteDeadline(t time.Time) error {
	w.deadline = t
	return nil
}

// EnableFullDuplex lets the handler read the body while writing the
// response (http.ResponseController); the adapter always allows it.
func (w *response) EnableFullDuplex() error { return nil }

// Hijack hands the connection over as a net.Conn on the ring
// (http.Hijacker).
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.detached {
		return nil, nil, http.ErrHijacked
	}
	if w.cl.req.ProtoMajor == 2 {
		return nil, nil, http.ErrNotSupported // as net/http's HTTP/2: a stream is no connection
	}
	if w.wroteHeader && !w.headSent {
		// net/http sends what was written before the hijack.
		if err := w.flushBuf(); err != nil {
			return nil, nil, err
		}
	}
	if err := w.waitPiece(); err != nil {
		return nil, nil, err
	}
	w.detached = true
	w.releaseBuf()
	hc, err := w.cl.hijack()
	if err != nil {
		return nil, nil, err
	}
	return hc, bufio.NewReadWriter(bufio.NewReader(hc), bufio.NewWriter(hc)), nil
}

// Unwrap is for http.ResponseController: the response implements what it
// supports itself.
func (w *response) Unwrap() http.ResponseWriter { return nil }

// queue runs f on c's loop, after what the caller queued before (and
// so after its writes, which f's own writes follow in c's output). It
// fails only when the server has stopped. f must check that c still
// waits for the call.
func (a *Handler) queue(c netserver.ClientNum, f func()) error {
	return a.ns.RunOnLoop(c.Loop(), f)
}

// sortedKeys returns h's keys in order.
func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
