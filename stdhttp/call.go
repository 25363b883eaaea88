package stdhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"sync/atomic"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// call is one request on its way through a handler: made on the loop by
// HTTPRead, run on a goroutine, finished on the loop.
type call struct {
	a      *Handler
	c      netserver.ClientNum
	req    *http.Request
	cancel context.CancelFunc
	body   *body // nil without a body
	w      response
	closed atomic.Bool // the connection is gone
	left   atomic.Bool // the handler gave up its slot (Hijack, TakeOver)

	prev, next *call // in slots.calls (under slots.mu)

	// Loop-only.
	pauses uint8 // why the connection is not read (pauseWaiting, pauseBody)
}

// Reasons a call keeps its connection from being read.
const (
	pauseWaiting uint8 = 1 << iota // waits for a handler slot
	pauseBody                      // the body buffer is full
)

func newCall(a *Handler, c netserver.ClientNum, req *uhttp.Request, remote string) *call {
	cl := &call{a: a, c: c}
	ctx, cancel := context.WithCancel(a.base)
	cl.cancel = cancel
	cl.req = newRequest(ctx, req, remote)
	if req.Body != uhttp.BodyNone {
		cl.body = newBody(cl, req.Expect100)
		cl.req.Body = cl.body
	}
	cl.w.init(cl, req)
	return cl
}

// run calls the handler and ends the response, whatever the handler did.
func (cl *call) run() {
	defer cl.cancel()
	defer func() {
		if v := recover(); v != nil {
			cl.panicked(v)
		}
	}()
	cl.a.h.ServeHTTP(&cl.w, cl.req)
	cl.w.finish()
}

// panicked answers a handler's panic: 500 when nothing was sent yet, else
// the connection is closed; logged unless it is http.ErrAbortHandler.
func (cl *call) panicked(v any) {
	if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		cl.a.cnt.aborts.Add(1)
		cl.w.abort()
		return
	}
	cl.a.cnt.panics.Add(1)
	cl.a.log.Error("stdhttp: handler panicked", "client", cl.c.String(), "method", cl.req.Method,
		"uri", cl.req.RequestURI, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if !cl.w.failWith500() {
		cl.w.abort()
	}
}

// pause stops reading the connection for why (on the loop).
func (cl *call) pause(why uint8) {
	if cl.pauses == 0 {
		cl.a.srv.PauseBody(cl.c)
	}
	cl.pauses |= why
}

// resume lifts one reason for not reading (on the loop).
func (cl *call) resume(why uint8) {
	if cl.pauses&why == 0 {
		return
	}
	cl.pauses &^= why
	if cl.pauses == 0 {
		cl.a.srv.ResumeBody(cl.c)
	}
}

// resumeFromGoroutine lifts why from the call's loop.
func (cl *call) resumeFromGoroutine(why uint8) {
	cl.a.ns.RunOnLoop(cl.c.Loop(), func() { cl.resume(why) })
}

// gone runs on the loop when the connection closed: the context is
// cancelled, the body and writes fail.
func (cl *call) gone() {
	cl.closed.Store(true)
	cl.cancel()
	if cl.body != nil {
		cl.body.fail(io.ErrUnexpectedEOF) // as net/http's body cut short
	}
	cl.w.pieceDone(true)
}

func (cl *call) isGone() bool { return cl.closed.Load() }

// current reports, on the loop, whether the call's connection still waits
// for its response.
func (cl *call) current() bool {
	cs := cl.a.conns.Get(cl.c)
	return cs != nil && cs.cur == cl
}

// errClientGone is what a body read or a write returns once the client
// closed the connection.
var errClientGone = errors.New("stdhttp: client disconnected")
