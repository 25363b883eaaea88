package cgi

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// LocalRedirect is returned by Output.Write when the script's head is a
// local redirect (RFC 3875 §6.2.2): nothing was sent to the client, and
// the caller re-dispatches the request as a GET of Path (with Query).
type LocalRedirect struct {
	Path  string // the absolute path of the Location, without the query
	Query string // the query of the Location, without '?'
}

// Error implements error.
func (r *LocalRedirect) Error() string { return "cgi: local redirect to " + r.Path }

// HeadError is returned by Output.Write and Output.Close when the
// script's output has no valid head: Output has answered the client with
// Status (502) already.
type HeadError struct {
	Status int
	Err    error
}

// Error implements error.
func (e *HeadError) Error() string {
	return fmt.Sprintf("cgi: bad response head (%d): %v", e.Status, e.Err)
}

// Unwrap returns the cause.
func (e *HeadError) Unwrap() error { return e.Err }

// ErrOutputDone is returned by Output.Write after the output ended (Close,
// a failure, or a redirect).
var ErrOutputDone = errors.New("cgi: output already ended")

// OutputConfig configures an Output.
type OutputConfig struct {
	// Server and Client are the HTTP server and the connection whose
	// current request the output answers.
	Server *http.Server
	Client netserver.ClientNum
	// Head is set for a HEAD request: the body is read and discarded.
	Head bool
	// HTTP10 is set for an HTTP/1.0 request: a body of unknown length is
	// delimited by closing the connection instead of chunked.
	HTTP10 bool
	// NPH passes the output through unparsed (a non-parsed-header script
	// writes the status line and head itself); the connection closes
	// after it.
	NPH bool
	// Release gets back each buffer given to Write that Write kept, once
	// the server is done with it (sent or failed); the source reads into
	// it again. It runs on the client's loop.
	Release func(buf []byte)
}

// Output turns the output of a CGI script, or the FCGI_STDOUT stream of a
// FastCGI application, into the HTTP response to one request. Feed it the
// bytes in order with Write, end it with Close; forward the HTTPWrite
// callbacks of its client to HTTPWrite. Every method must be called on
// the client's loop, and none blocks.
//
// Body bytes are not copied: Write queues a buffer to the client and keeps
// it until the write completes (Release). So a source with a fixed set of
// buffers, that reads only into free ones, is held back by a client that
// does not read: that is the backpressure. Only the head, the chunk
// framing and the body bytes that shared a buffer with the head are
// copied.
type Output struct {
	cfg      OutputConfig
	state    outState
	hbuf     []byte // the head so far (at most MaxHeadBytes)
	scan     int    // where the current line of hbuf starts
	chunked  bool
	closeDlm bool     // the body ends when the connection closes
	remain   int64    // body bytes still expected (-1: unknown)
	inflight [][]byte // buffers queued with Write, oldest first
	status   int
	sent     int64 // body bytes queued to the client
	scratch  []byte
	// endPending: Close came while buffers were pending; EndResponse
	// waits for the last one.
	endPending bool
}

type outState uint8

const (
	outHead    outState = iota // reading the head
	outBody                    // head sent, streaming the body
	outDiscard                 // head sent, body not wanted (HEAD, 204, 304, length reached)
	outDone                    // ended: Close, failure or redirect
)

// NewOutput returns an Output for the current request of cfg.Client.
func NewOutput(cfg OutputConfig) *Output {
	return &Output{cfg: cfg, remain: -1}
}

// HeadSent reports whether the response head went out (after which a
// failure can only abort the connection).
func (o *Output) HeadSent() bool {
	return o.state == outBody || o.state == outDiscard || o.state == outDone && o.status != 0
}

// Status returns the status of the response sent, 0 before the head.
func (o *Output) Status() int { return o.status }

// Pending returns how many buffers Write kept that were not released yet.
func (o *Output) Pending() int { return len(o.inflight) }

// BodyBytes returns how many body bytes were queued to the client.
func (o *Output) BodyBytes() int64 { return o.sent }

// Write takes the next bytes of the script's output. It reports whether
// it kept buf (to be given back through Release), and an error:
// *LocalRedirect (nothing sent; re-dispatch), *HeadError (502 sent),
// ErrOutputDone, or a failure to write to the client (the client is
// gone). After an error the caller stops feeding the Output.
func (o *Output) Write(buf []byte) (kept bool, err error) {
	switch o.state {
	case outDone:
		return false, ErrOutputDone
	case outDiscard:
		return false, nil
	case outBody:
		return o.body(buf)
	}
	if o.cfg.NPH {
		o.startNPH(buf)
		o.state = outBody
		return o.body(buf)
	}
	o.hbuf = append(o.hbuf, buf...)
	e := -1
	for e < 0 {
		j := bytes.IndexByte(o.hbuf[o.scan:], '\n')
		if j < 0 {
			break
		}
		line := o.hbuf[o.scan : o.scan+j]
		o.scan += j + 1
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			e = o.scan
		}
	}
	if e < 0 || e > MaxHeadBytes {
		if e > MaxHeadBytes || len(o.hbuf) > MaxHeadBytes {
			return false, o.fail(fmt.Errorf("%w: longer than %d bytes", ErrBadHead, MaxHeadBytes))
		}
		return false, nil
	}
	h, perr := ParseHead(o.hbuf[:e])
	if perr != nil {
		return false, o.fail(perr)
	}
	if h.IsLocalRedirect() {
		o.state = outDone
		o.hbuf = nil
		r := &LocalRedirect{Path: h.Location}
		if i := bytes.IndexByte([]byte(r.Path), '?'); i >= 0 {
			r.Path, r.Query = h.Location[:i], h.Location[i+1:]
		}
		return false, r
	}
	rest := o.hbuf[e:]
	if err := o.sendHead(h); err != nil {
		return false, err
	}
	if len(rest) > 0 && o.state == outBody {
		// Copied: buf goes back to the source at once.
		if err := o.send(o.frame(rest)); err != nil {
			return false, err
		}
	}
	o.hbuf = nil
	if o.state == outBody && o.remain == 0 {
		o.state = outDiscard
	}
	return false, nil
}

// frame clamps p to the body's remaining length and counts it.
func (o *Output) frame(p []byte) []byte {
	if o.remain >= 0 {
		if int64(len(p)) > o.remain {
			p = p[:o.remain]
		}
		o.remain -= int64(len(p))
	}
	o.sent += int64(len(p))
	if o.chunked && len(p) > 0 {
		o.scratch = strconv.AppendInt(o.scratch[:0], int64(len(p)), 16)
		o.scratch = append(o.scratch, "\r\n"...)
		o.scratch = append(o.scratch, p...)
		o.scratch = append(o.scratch, "\r\n"...)
		return o.scratch
	}
	return p
}

// send copies b to the client.
func (o *Output) send(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := o.cfg.Server.Send(o.cfg.Client, b); err != nil {
		o.state = outDone
		return fmt.Errorf("cgi: writing to the client: %w", err)
	}
	return nil
}

// body queues buf (a part of the body) to the client.
func (o *Output) body(buf []byte) (bool, error) {
	p := buf
	if o.remain >= 0 && int64(len(p)) > o.remain {
		p = p[:o.remain]
	}
	if len(p) == 0 {
		if o.remain == 0 {
			o.state = outDiscard
		}
		return false, nil
	}
	if o.remain >= 0 {
		o.remain -= int64(len(p))
	}
	o.sent += int64(len(p))
	srv, c := o.cfg.Server, o.cfg.Client
	if o.chunked {
		o.scratch = strconv.AppendInt(o.scratch[:0], int64(len(p)), 16)
		o.scratch = append(o.scratch, "\r\n"...)
		if err := o.send(o.scratch); err != nil {
			return false, err
		}
	}
	if err := srv.Write(c, p); err != nil {
		o.state = outDone
		return false, fmt.Errorf("cgi: writing to the client: %w", err)
	}
	o.inflight = append(o.inflight, buf)
	if o.chunked {
		if err := o.send([]byte("\r\n")); err != nil {
			return true, err
		}
	}
	if o.remain == 0 {
		o.state = outDiscard
	}
	return true, nil
}

// HTTPWrite is to be called with the HTTPWrite callbacks of the client
// while the Output has buffers pending: it releases the oldest. It
// reports whether the callback was the Output's.
func (o *Output) HTTPWrite(data []byte, failed bool) bool {
	if len(o.inflight) == 0 {
		return false
	}
	buf := o.inflight[0]
	o.inflight[0] = nil
	o.inflight = o.inflight[1:]
	if failed {
		o.state = outDone
	}
	if o.cfg.Release != nil {
		o.cfg.Release(buf)
	}
	if len(o.inflight) == 0 && o.endPending {
		o.endPending = false
		o.cfg.Server.EndResponse(o.cfg.Client)
	}
	return true
}

// sendHead sends the response head for h.
func (o *Output) sendHead(h *Head) error {
	srv, c := o.cfg.Server, o.cfg.Client
	status := h.Status
	if status == 0 {
		status = http.StatusOK
		if h.Location != "" {
			status = http.StatusFound
		}
	}
	noBody := o.cfg.Head || status == http.StatusNoContent || status == http.StatusNotModified
	o.closeDlm = false
	switch {
	case noBody:
	case h.ContentLength >= 0:
		o.remain = h.ContentLength
	case o.cfg.HTTP10:
		o.closeDlm = true
	default:
		o.chunked = true
	}
	b := srv.AppendHeadStart(nil, c, status, true)
	if h.ContentType != "" {
		b = http.AppendHeader(b, "Content-Type", h.ContentType)
	}
	if h.Location != "" {
		b = http.AppendHeader(b, "Location", h.Location)
	}
	for _, f := range h.Fields {
		b = http.AppendHeader(b, f[0], f[1])
	}
	switch {
	case h.ContentLength >= 0 && status != http.StatusNoContent && status != http.StatusNotModified:
		b = http.AppendContentLength(b, h.ContentLength)
	case o.chunked:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	b = srv.AppendHeadEnd(b, c, o.closeDlm)
	o.status = status
	if err := o.send(b); err != nil {
		return err
	}
	if noBody {
		o.state = outDiscard
	} else {
		o.state = outBody
	}
	return nil
}

// startNPH records the status of a non-parsed-header script's status line
// (for the access log) and makes the connection close after it.
func (o *Output) startNPH(buf []byte) {
	status := http.StatusOK
	if len(buf) >= 12 && bytes.HasPrefix(buf, []byte("HTTP/1.")) {
		if n, err := strconv.Atoi(string(buf[9:12])); err == nil && n >= 100 && n < 600 {
			status = n
		}
	}
	o.status = status
	srv, c := o.cfg.Server, o.cfg.Client
	srv.AppendHeadStart(nil, c, status, false)
	srv.AppendHeadEnd(nil, c, true)
}

// fail answers 502 for a bad head.
func (o *Output) fail(err error) error {
	o.state = outDone
	o.hbuf = nil
	he := &HeadError{Status: http.StatusBadGateway, Err: err}
	o.cfg.Server.RespondError(o.cfg.Client, he.Status)
	return he
}

// Close ends the output (the script's stdout reached end of file): the
// response ends (last chunk, or the connection closes for a close-delimited
// body or an NPH script). A head that never completed is answered with
// 502 (*HeadError); a body shorter than its Content-Length aborts the
// connection. Buffers still pending are released by HTTPWrite as usual.
func (o *Output) Close() error {
	srv, c := o.cfg.Server, o.cfg.Client
	switch o.state {
	case outDone:
		return nil
	case outHead:
		if o.cfg.NPH {
			o.state = outDone
			return srv.CloseClient(c)
		}
		return o.fail(fmt.Errorf("%w: output ended before the head did", ErrBadHead))
	}
	o.state = outDone
	if o.remain > 0 && !o.cfg.Head {
		srv.Net().Abort(c)
		return fmt.Errorf("cgi: output ended %d bytes short of its Content-Length", o.remain)
	}
	if o.chunked {
		if err := o.send([]byte("0\r\n\r\n")); err != nil {
			return err
		}
	}
	if len(o.inflight) > 0 {
		// The response ends when the last buffer was sent (HTTPWrite), so
		// that the next request's callbacks cannot be mistaken for ours.
		o.endPending = true
		return nil
	}
	if err := srv.EndResponse(c); err != nil {
		return fmt.Errorf("cgi: ending the response: %w", err)
	}
	return nil
}

// Abort ends the output after a failure of the source (a timeout, say):
// before the head, the client is answered with status through the error
// pages; after it, the connection is aborted, since the response cannot be
// completed.
func (o *Output) Abort(status int) {
	if o.state == outDone {
		return
	}
	headSent := o.state != outHead
	o.state = outDone
	o.hbuf = nil
	if headSent || o.cfg.NPH && o.sent > 0 {
		o.cfg.Server.Net().Abort(o.cfg.Client)
		return
	}
	o.cfg.Server.RespondError(o.cfg.Client, status)
}
