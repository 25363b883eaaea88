package stdhttp

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// DefaultMaxHandlers is the bound on handlers running at once when
// Options.MaxHandlers is zero.
const DefaultMaxHandlers = 1024

// Options configure a Handler.
type Options struct {
	// MaxHandlers bounds the handlers running at once; a request over the
	// bound waits, its connection unread, until one returns. Zero means
	// DefaultMaxHandlers.
	MaxHandlers int
	// WriteTimeout bounds the time a handler's write may wait for the
	// client to take the previous piece of the response; past it the
	// connection is closed and the write fails. Zero means none (the
	// loops' stall timeout still closes a client that takes nothing).
	WriteTimeout time.Duration
	// Logger receives panics and errors. Nil means slog.Default().
	Logger *slog.Logger
	// BaseContext returns the context requests' contexts derive from. Nil
	// means context.Background().
	BaseContext func() context.Context
}

// Handler serves a net/http.Handler as a uringnet http.HTTPHandler. Create
// it with NewHandler, give it its server with Bind, and route requests'
// callbacks to it (or let Server do all of that).
type Handler struct {
	h     http.Handler
	opt   Options
	log   *slog.Logger
	srv   *uhttp.Server
	ns    *netserver.Server
	conns *netserver.Table[connState]
	base  context.Context // what requests' contexts derive from
	slots slots
	cnt   counters
	loops [][]byte  // per loop: the scratch a response is built in
	bufs  sync.Pool // pieceSize buffers, for responses that stream
	small sync.Pool // smallBody buffers, for the body before the head
	// draining is set by Shutdown: responses close their connections.
	draining atomic.Bool
}

// connState is a connection's adapter state, on its loop only.
type connState struct {
	remote     string               // the peer's address, looked up once
	remoteAddr net.Addr             // the same, for a hijacked connection
	tls        *tls.ConnectionState // the connection's TLS state, nil without TLS
	cur        *call                // the request being answered, nil between requests
}

// counters are a Handler's counters (Counters reads them).
type counters struct {
	requests, panics, aborts, hijacked, waited atomic.Uint64
}

// Counters are what a Handler has done since it started.
type Counters struct {
	// Requests is how many requests reached the handler.
	Requests uint64
	// Running is how many handlers run now.
	Running int
	// Waiting is how many requests wait for a handler slot now, their
	// connections paused.
	Waiting int
	// Waited is how many requests had to wait for a slot.
	Waited uint64
	// Panics counts handlers that panicked (other than with
	// http.ErrAbortHandler); Aborts counts http.ErrAbortHandler.
	Panics, Aborts uint64
	// Hijacked counts connections taken with Hijack or TakeOver.
	Hijacked uint64
}

// NewHandler returns an adapter that serves h (nil means
// http.DefaultServeMux).
func NewHandler(h http.Handler, o Options) *Handler {
	if h == nil {
		h = http.DefaultServeMux
	}
	if o.MaxHandlers <= 0 {
		o.MaxHandlers = DefaultMaxHandlers
	}
	a := &Handler{h: h, opt: o, log: o.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	base := context.Background()
	if o.BaseContext != nil {
		base = o.BaseContext()
	}
	a.base = base
	a.slots.max = o.MaxHandlers
	a.small.New = func() any { b := make([]byte, 0, smallBody); return &b }
	a.bufs.New = func() any { b := make([]byte, 0, pieceSize); return &b }
	return a
}

// Bind gives the adapter the server whose callbacks it receives. Call it
// once, after uhttp.NewServer and before Serve.
func (a *Handler) Bind(srv *uhttp.Server) {
	a.srv, a.ns = srv, srv.Net()
	a.base = context.WithValue(a.base, http.LocalAddrContextKey, srv.Addr())
	a.conns = netserver.NewTable[connState](a.ns)
	a.loops = make([][]byte, a.ns.Loops())
}

// Counters returns the adapter's counters.
func (a *Handler) Counters() Counters {
	running, waiting := a.slots.load()
	return Counters{
		Requests: a.cnt.requests.Load(), Running: running, Waiting: waiting, Waited: a.cnt.waited.Load(),
		Panics: a.cnt.panics.Load(), Aborts: a.cnt.aborts.Load(), Hijacked: a.cnt.hijacked.Load(),
	}
}

// CancelAll cancels the context of every request, running, waiting or
// to come (the server is closing).
func (a *Handler) CancelAll() { a.slots.cancelAll() }

// HTTPRead turns the request head into an *http.Request and starts its
// handler, or queues it when MaxHandlers run.
func (a *Handler) HTTPRead(req *uhttp.Request, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	cs := a.conns.Get(c)
	if cs == nil {
		cs = a.conns.New(c)
		*cs = connState{}
		if addr, err := a.ns.RemoteAddr(c); err == nil {
			cs.remote, cs.remoteAddr = addr.String(), addr
		}
		if st, ok, _ := a.ns.TLSState(c); ok {
			cs.tls = &st
		}
	}
	cl := newCall(a, c, req, cs.remote)
	cl.req.TLS = cs.tls
	cs.cur = cl
	a.cnt.requests.Add(1)
	if req.Expect100 {
		a.srv.DeferContinue(c) // sent when the handler first reads the body
	}
	if !a.slots.start(cl) {
		a.cnt.waited.Add(1)
		cl.pause(pauseWaiting)
		return
	}
	a.ns.Handoff(c)
}

// HTTPBody hands body bytes to the request's reader.
func (a *Handler) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	if cs := a.conns.Get(c); cs != nil && cs.cur != nil && cs.cur.body != nil {
		cs.cur.body.feed(data, last)
		a.ns.Handoff(c)
	}
}

// HTTPWrite does nothing: the adapter's responses go out with Writev
// (and Send); a native server that routes some requests to the adapter
// may forward every completion.
func (a *Handler) HTTPWrite(data []byte, c netserver.ClientNum, failed bool) {}

// HTTPWritev is called when a piece of a response was sent. A completion
// without buffers (a native SendFile's) is not the adapter's.
func (a *Handler) HTTPWritev(bufs [][]byte, c netserver.ClientNum, failed bool) {
	if bufs == nil {
		return
	}
	if cs := a.conns.Get(c); cs != nil && cs.cur != nil {
		cs.cur.w.pieceDone(failed)
		a.ns.Handoff(c)
	}
}

// HTTPClose ends what c's request still waits for: its context is
// cancelled, its body and writes fail.
func (a *Handler) HTTPClose(c netserver.ClientNum) {
	if a.conns == nil {
		return
	}
	cs := a.conns.Get(c)
	if cs == nil {
		return
	}
	if cl := cs.cur; cl != nil {
		cs.cur = nil
		cl.gone()
	}
	a.conns.Delete(c)
}

// ended runs on the loop when c's response has ended: the connection
// waits for its next request.
func (a *Handler) ended(cl *call) {
	if cs := a.conns.Get(cl.c); cs != nil && cs.cur == cl {
		cs.cur = nil
	}
}

// drain makes responses close their connections and waits until no
// handler runs or waits, or ctx ends. (Server.Shutdown has the native
// server stop accepting and drain the connections first.)
func (a *Handler) drain(ctx context.Context) error {
	a.draining.Store(true)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if running, waiting := a.slots.load(); running == 0 && waiting == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// isDraining reports whether the server is shutting down: the adapter's
// Shutdown began, or the native server's Drain.
func (a *Handler) isDraining() bool {
	return a.draining.Load() || a.srv != nil && a.srv.Draining()
}

// scratch returns c's loop's scratch buffer (on that loop only).
func (a *Handler) scratch(c netserver.ClientNum) *[]byte { return &a.loops[c.Loop()] }
