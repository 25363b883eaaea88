package fastcgi

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/cgi"
	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/sys/unix"
)

// Defaults of the Config fields left zero.
const (
	DefaultMaxConns     = 16
	DefaultMaxWaiting   = 1024
	DefaultIdleTimeout  = 30 * time.Second
	DefaultTimeout      = 60 * time.Second
	DefaultMaxQueued    = 256 << 10
	DefaultMaxStdin     = 256 << 10
	DefaultMaxParams    = 256 << 10
	DefaultStderrRate   = 10
	DefaultMaxRedirects = 10
	readBufSize         = 32 << 10
)

// requestID is the id of every request: one request per connection at a
// time.
const requestID = 1

// Errors of the package.
var (
	// ErrNotOnLoop: Serve was called away from the HTTP client's loop.
	ErrNotOnLoop = errors.New("fastcgi: Serve must be called on the client's loop (from HTTPRead)")
	// ErrBadAddr: Config.Addr is not unix:PATH, tcp:HOST:PORT or HOST:PORT.
	ErrBadAddr = errors.New("fastcgi: bad application address")
)

// Config configures a Client. Zero means the default; a negative timeout
// means none.
type Config struct {
	// Addr is the application's address: "unix:/path/to/socket",
	// "tcp:host:port" or "host:port".
	Addr string
	// MaxConns bounds the application connections of each event loop
	// (busy and idle). Default 16.
	MaxConns int
	// MaxWaiting bounds the requests of each loop waiting for a
	// connection; beyond it requests get 503. Default 1024.
	MaxWaiting int
	// IdleTimeout closes a pooled connection unused for this long.
	// Default 30 s.
	IdleTimeout time.Duration
	// Timeout is how long the application may keep a request waiting:
	// for a connection, or for its next output while the HTTP client is
	// not the one behind. A request over it gets 504 (or, when its
	// response has begun, its HTTP connection is cut) and its application
	// connection is closed. Default 60 s.
	Timeout time.Duration
	// MaxQueued bounds the response bytes written to an HTTP client and
	// not yet sent; over it the application connection is not read until
	// half of them went out. Default 256 KiB.
	MaxQueued int
	// MaxStdin bounds the request body bytes queued toward the
	// application; over it the HTTP client's body is paused
	// (http.Server.PauseBody) until half of them went out. Default 256 KiB.
	MaxStdin int
	// MaxParams bounds the encoded FCGI_PARAMS of a request (500
	// beyond). Default 256 KiB.
	MaxParams int
	// StderrRate bounds the STDERR lines logged per second (the rest are
	// counted only). Default 10.
	StderrRate int
	// Logger receives STDERR lines and connection errors; nil means
	// slog.Default().
	Logger *slog.Logger
	// Dispatch serves the application's local redirects (a Location that
	// is a path, RFC 3875 §6.2.2) as a GET, on the client's loop, as
	// HTTPRead would: pass the application's router. When nil such a
	// redirect is sent to the client as a 302.
	Dispatch func(req *http.Request, c netserver.ClientNum)
	// MaxRedirects bounds the local redirects followed for one client
	// request (http.Request.Redirects); one more is a 502. Default 10.
	MaxRedirects int
}

// Stats are a Client's counters.
type Stats struct {
	Requests      uint64 // requests handed to Serve
	Completed     uint64 // requests the application ended (END_REQUEST)
	Connects      uint64 // connections opened
	ConnectErrors uint64 // connections that could not be opened
	Reused        uint64 // requests served on a pooled connection
	Closed        uint64 // application connections closed
	Conns         int64  // application connections open now
	Idle          int64  // of which idle in the pools
	Waiting       int64  // requests waiting for a connection now
	BadGateway    uint64 // 502 answers
	Timeouts      uint64 // requests timed out (504 or cut)
	Rejected      uint64 // 503 answers (MaxWaiting)
	ClientAborts  uint64 // requests whose HTTP client left first
	StderrBytes   uint64 // bytes the application wrote to STDERR
	StderrDropped uint64 // STDERR lines not logged (StderrRate)
	BodyPauses    uint64 // PauseBody calls (MaxStdin)
	OutputPauses  uint64 // reads stopped for a slow HTTP client (MaxQueued)
	Redirects     uint64 // local redirects followed (Dispatch) or sent as 302
}

type counters struct {
	requests, completed, connects, connectErrors, reused, closed atomic.Uint64
	conns, idle, waiting                                         atomic.Int64
	badGateway, timeouts, rejected, clientAborts                 atomic.Uint64
	stderrBytes, stderrDropped, bodyPauses, outputPauses         atomic.Uint64
	redirects                                                    atomic.Uint64
}

// Client sends requests of a uringnet http.Server to one FastCGI
// application. See the package documentation.
type Client struct {
	srv   *http.Server
	ns    *netserver.Server
	cfg   Config
	fam   int
	log   *slog.Logger
	loops []*loopState
	cnt   counters
	ch    connHandler
	// STDERR rate limit: the second of the window and the lines in it.
	errSec, errLines atomic.Int64
}

// loopState is one loop's pool and requests, touched on that loop only.
type loopState struct {
	sa      unix.Sockaddr                    // the application's (unix.Connect writes into it: one per loop)
	idle    []*appConn                       // most recently used last
	conns   map[netserver.ClientNum]*appConn // every open connection
	waiting []*request                       // FIFO
	reqs    map[netserver.ClientNum]*request // by HTTP client
	// outs holds the Output of each HTTP client's latest request: its
	// writes complete after the request ended.
	outs map[netserver.ClientNum]*cgi.Output
}

func resolve[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// New returns a Client for the application at cfg.Addr, serving requests
// of srv. It registers a ticker on srv's loops for its timeouts.
func New(srv *http.Server, cfg Config) (*Client, error) {
	c := &Client{srv: srv, ns: srv.Net(), cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.cfg.MaxConns = resolve(cfg.MaxConns, DefaultMaxConns)
	c.cfg.MaxWaiting = resolve(cfg.MaxWaiting, DefaultMaxWaiting)
	c.cfg.IdleTimeout = resolve(cfg.IdleTimeout, DefaultIdleTimeout)
	c.cfg.Timeout = resolve(cfg.Timeout, DefaultTimeout)
	c.cfg.MaxQueued = resolve(cfg.MaxQueued, DefaultMaxQueued)
	c.cfg.MaxStdin = resolve(cfg.MaxStdin, DefaultMaxStdin)
	c.cfg.MaxParams = resolve(cfg.MaxParams, DefaultMaxParams)
	c.cfg.StderrRate = resolve(cfg.StderrRate, DefaultStderrRate)
	c.cfg.MaxRedirects = resolve(cfg.MaxRedirects, DefaultMaxRedirects)
	if c.cfg.MaxConns < 0 || c.cfg.MaxWaiting < 0 || c.cfg.MaxQueued < 0 || c.cfg.MaxStdin < 0 ||
		c.cfg.MaxParams < 0 {
		return nil, fmt.Errorf("fastcgi: negative limit in %+v", cfg)
	}
	var err error
	if c.fam, _, err = ParseAddr(cfg.Addr); err != nil {
		return nil, err
	}
	c.ch.c = c
	c.loops = make([]*loopState, c.ns.Loops())
	for i := range c.loops {
		_, sa, _ := ParseAddr(cfg.Addr)
		c.loops[i] = &loopState{sa: sa, conns: map[netserver.ClientNum]*appConn{},
			reqs: map[netserver.ClientNum]*request{}, outs: map[netserver.ClientNum]*cgi.Output{}}
	}
	c.ns.AddTicker(tickerFunc(c.tick))
	return c, nil
}

// ParseAddr parses an application address: "unix:/path", "tcp:host:port"
// or "host:port" (resolved now).
func ParseAddr(addr string) (family int, sa unix.Sockaddr, err error) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		if p == "" || len(p) >= 108 {
			return 0, nil, fmt.Errorf("%w: %q: socket path empty or too long", ErrBadAddr, addr)
		}
		return unix.AF_UNIX, &unix.SockaddrUnix{Name: p}, nil
	}
	hp := strings.TrimPrefix(addr, "tcp:")
	ta, err := net.ResolveTCPAddr("tcp", hp)
	if err != nil || ta.Port == 0 {
		return 0, nil, fmt.Errorf("%w: %q: %v", ErrBadAddr, addr, err)
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		s := &unix.SockaddrInet4{Port: ta.Port}
		copy(s.Addr[:], ip4)
		return unix.AF_INET, s, nil
	}
	if ta.IP == nil {
		return unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port, Addr: [4]byte{127, 0, 0, 1}}, nil
	}
	s := &unix.SockaddrInet6{Port: ta.Port}
	copy(s.Addr[:], ta.IP.To16())
	return unix.AF_INET6, s, nil
}

// Stats returns the Client's counters. Safe from any goroutine.
func (c *Client) Stats() Stats {
	n := &c.cnt
	return Stats{Requests: n.requests.Load(), Completed: n.completed.Load(), Connects: n.connects.Load(),
		ConnectErrors: n.connectErrors.Load(), Reused: n.reused.Load(), Closed: n.closed.Load(),
		Conns: n.conns.Load(), Idle: n.idle.Load(), Waiting: n.waiting.Load(), BadGateway: n.badGateway.Load(),
		Timeouts: n.timeouts.Load(), Rejected: n.rejected.Load(), ClientAborts: n.clientAborts.Load(),
		StderrBytes: n.stderrBytes.Load(), StderrDropped: n.stderrDropped.Load(),
		BodyPauses: n.bodyPauses.Load(), OutputPauses: n.outputPauses.Load(), Redirects: n.redirects.Load()}
}

// Param is one FCGI_PARAMS name-value pair.
type Param struct{ Name, Value string }

// Serve sends the request req of HTTP client hc to the application with
// params (the CGI environment, SCRIPT_FILENAME among them) and streams
// its answer back. Call it from HTTPRead, on hc's loop; from then on the
// HTTP handler forwards hc's HTTPBody, HTTPWrite and HTTPClose calls to
// the Client's methods of the same names. Errors are answered (502, 503,
// 504) through http.Server.RespondError.
func (c *Client) Serve(req *http.Request, hc netserver.ClientNum, params []Param) error {
	if !c.ns.OnLoop(hc) {
		return ErrNotOnLoop
	}
	c.cnt.requests.Add(1)
	ls := c.loops[hc.Loop()]
	if old := ls.reqs[hc]; old != nil {
		c.drop(ls, old)
	}
	size := 0
	for _, p := range params {
		size += PairsLen(p.Name, p.Value)
	}
	if size > c.cfg.MaxParams {
		c.srv.RespondError(hc, http.StatusInternalServerError)
		return fmt.Errorf("fastcgi: %d bytes of params: %w", size, ErrTooLarge)
	}
	r := &request{hc: hc, ls: ls, redirects: req.Redirects}
	if c.cfg.Dispatch != nil {
		r.orig = req.Clone() // to follow a local redirect later
	}
	r.out = cgi.NewOutput(cgi.OutputConfig{Server: c.srv, Client: hc, Head: req.IsHead(),
		HTTP10: req.Major == 1 && req.Minor == 0, Release: func(buf []byte) { c.released(r, buf) }})
	ls.outs[hc] = r.out
	out := AppendBeginRequest(make([]byte, 0, size+size/MaxContent*16+64), requestID, RoleResponder, FlagKeepConn)
	var pb []byte
	for _, p := range params {
		if len(pb)+PairsLen(p.Name, p.Value) > MaxContent && len(pb) > 0 {
			out, _ = AppendRecord(out, TypeParams, requestID, pb)
			pb = pb[:0]
		}
		pb = AppendPair(pb, p.Name, p.Value)
		if len(pb) > MaxContent { // one pair longer than a record
			out = AppendStream(out, TypeParams, requestID, pb)
			pb = pb[:0]
		}
	}
	if len(pb) > 0 {
		out, _ = AppendRecord(out, TypeParams, requestID, pb)
	}
	out, _ = AppendRecord(out, TypeParams, requestID, nil)
	if req.Body == http.BodyNone {
		out, _ = AppendRecord(out, TypeStdin, requestID, nil)
		r.bodyDone = true
	}
	r.held = out
	r.stdinQueued = len(out)
	r.deadline = c.deadline(hc)
	ls.reqs[hc] = r
	c.acquire(ls, r)
	return nil
}

// deadline returns the time the application has from now.
func (c *Client) deadline(hc netserver.ClientNum) int64 {
	if c.cfg.Timeout < 0 {
		return 0
	}
	return c.ns.Now(hc).Add(c.cfg.Timeout).UnixNano()
}

// acquire finds r a connection: an idle one, a new one, or a place in the
// waiting queue.
func (c *Client) acquire(ls *loopState, r *request) {
	for len(ls.idle) > 0 {
		ac := ls.idle[len(ls.idle)-1]
		ls.idle = ls.idle[:len(ls.idle)-1]
		c.cnt.idle.Add(-1)
		if ac.closing {
			continue
		}
		c.cnt.reused.Add(1)
		c.attach(ac, r)
		return
	}
	if len(ls.conns) < c.cfg.MaxConns {
		ac, err := c.dial(ls, r.hc)
		if err != nil {
			c.cnt.connectErrors.Add(1)
			c.log.Warn("fastcgi: cannot connect to the application", "addr", c.cfg.Addr, "err", err)
			c.fail(r, http.StatusBadGateway)
			return
		}
		c.attach(ac, r)
		return
	}
	if len(ls.waiting) >= c.cfg.MaxWaiting {
		c.cnt.rejected.Add(1)
		c.fail(r, http.StatusServiceUnavailable)
		return
	}
	r.waiting = true
	c.cnt.waiting.Add(1)
	ls.waiting = append(ls.waiting, r)
}

// dial opens a connection to the application on hc's loop: a
// non-blocking connect (a TCP connect still in progress completes before
// the first write leaves), adopted with PassFD.
func (c *Client) dial(ls *loopState, hc netserver.ClientNum) (*appConn, error) {
	fd, err := unix.Socket(c.fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("fastcgi: socket: %w", err)
	}
	if err := unix.Connect(fd, ls.sa); err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return nil, fmt.Errorf("fastcgi: connect %s: %w", c.cfg.Addr, err)
	}
	n, err := c.ns.PassFD(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("fastcgi: adopt the connection to %s: %w", c.cfg.Addr, err)
	}
	if n.Loop() != hc.Loop() { // PassFD on a loop adopts on that loop
		c.ns.Abort(n)
		return nil, fmt.Errorf("fastcgi: connection adopted on loop %d, not %d", n.Loop(), hc.Loop())
	}
	if err := c.ns.SetHandler(n, &c.ch); err != nil {
		c.ns.Abort(n)
		return nil, fmt.Errorf("fastcgi: route the connection to %s: %w", c.cfg.Addr, err)
	}
	ac := &appConn{c: n, buf: make([]byte, readBufSize)}
	ls.conns[n] = ac
	c.cnt.connects.Add(1)
	c.cnt.conns.Add(1)
	c.armRead(ac)
	return ac, nil
}

// attach starts r on ac: its records so far are written.
func (c *Client) attach(ac *appConn, r *request) {
	ac.req, r.conn = r, ac
	ac.dec.Reset()
	r.deadline = c.deadline(r.hc)
	if len(r.held) > 0 {
		c.write(ac, r.held)
		r.held = nil
	}
	c.armRead(ac)
}

// write writes records to ac.
func (c *Client) write(ac *appConn, b []byte) {
	if err := c.ns.RawWrite(ac.c, b); err != nil {
		c.closeConn(ac)
		return
	}
	ac.writes++
}

// armRead reads ac once more, unless a read is armed or its request's
// HTTP client is behind.
func (c *Client) armRead(ac *appConn) {
	if ac.reading || ac.closing || (ac.req != nil && ac.req.outPaused) {
		return
	}
	if err := c.ns.RawRead(ac.c, ac.buf); err != nil {
		c.closeConn(ac)
		return
	}
	ac.reading = true
}

// closeConn closes ac at once; its request, if any, is failed by the
// caller or by the RawClose that follows.
func (c *Client) closeConn(ac *appConn) {
	if ac.closing {
		return
	}
	ac.closing = true
	c.ns.Abort(ac.c)
}

// HTTPBody takes a piece of the request body of hc, when hc's request is
// the Client's (it reports whether it was).
func (c *Client) HTTPBody(data []byte, hc netserver.ClientNum, last bool) bool {
	ls := c.loops[hc.Loop()]
	r := ls.reqs[hc]
	if r == nil {
		return false
	}
	if r.bodyDone || r.finished {
		return true
	}
	b := AppendStream(make([]byte, 0, len(data)+len(data)/MaxContent*16+24), TypeStdin, requestID, data)
	if last {
		b, _ = AppendRecord(b, TypeStdin, requestID, nil)
		r.bodyDone = true
	}
	r.stdinQueued += len(b)
	if r.conn != nil {
		c.write(r.conn, b)
	} else {
		r.held = append(r.held, b...)
	}
	if !last && r.stdinQueued > c.cfg.MaxStdin && !r.bodyPaused {
		r.bodyPaused = true
		c.cnt.bodyPauses.Add(1)
		c.srv.PauseBody(hc)
	}
	return true
}

// HTTPWrite passes the completion of a write to hc on to the Output of
// hc's request (it reports whether the write was the Client's).
func (c *Client) HTTPWrite(data []byte, hc netserver.ClientNum, failed bool) bool {
	o := c.loops[hc.Loop()].outs[hc]
	return o != nil && o.HTTPWrite(data, failed)
}

// HTTPClose forgets hc: a request still in progress is abandoned and its
// application connection closed (it is never pooled in an unknown
// state). It reports whether hc had a request of the Client's.
func (c *Client) HTTPClose(hc netserver.ClientNum) bool {
	ls := c.loops[hc.Loop()]
	delete(ls.outs, hc)
	r := ls.reqs[hc]
	if r == nil {
		return false
	}
	if !r.finished {
		c.cnt.clientAborts.Add(1)
	}
	c.drop(ls, r)
	return true
}

// drop abandons r: its connection, if it is still answering r, is closed.
func (c *Client) drop(ls *loopState, r *request) {
	r.finished = true
	c.unpauseBody(r)
	if ls.reqs[r.hc] == r {
		delete(ls.reqs, r.hc)
	}
	if r.conn != nil {
		if r.conn.req == r {
			r.conn.req = nil
			c.closeConn(r.conn)
		}
		r.conn = nil
	}
	if r.waiting {
		r.waiting = false
		c.cnt.waiting.Add(-1)
		for i, w := range ls.waiting {
			if w == r {
				ls.waiting = append(ls.waiting[:i], ls.waiting[i+1:]...)
				break
			}
		}
	}
}

// unpauseBody lets the HTTP server read r's client again (the rest of a
// body nobody takes is discarded, and the next request read).
func (c *Client) unpauseBody(r *request) {
	if r.bodyPaused {
		r.bodyPaused = false
		c.srv.ResumeBody(r.hc)
	}
}

// fail ends r with status when nothing of its response went out, else by
// cutting its HTTP connection; its application connection is closed.
func (c *Client) fail(r *request, status int) {
	if r.finished {
		return
	}
	c.drop(r.ls, r)
	if status == http.StatusBadGateway {
		c.cnt.badGateway.Add(1)
	}
	r.out.Abort(status)
}

// release returns ac to its loop's pool after a complete request, or
// hands it to a waiting request.
func (c *Client) release(ls *loopState, ac *appConn) {
	ac.req = nil
	if ac.closing {
		return
	}
	if !ac.dec.Idle() || ac.writes > 0 {
		c.closeConn(ac)
		return
	}
	for len(ls.waiting) > 0 {
		r := ls.waiting[0]
		ls.waiting = ls.waiting[1:]
		r.waiting = false
		c.cnt.waiting.Add(-1)
		c.cnt.reused.Add(1)
		c.attach(ac, r)
		return
	}
	ac.idleSince = c.ns.Now(ac.c).UnixNano()
	ls.idle = append(ls.idle, ac)
	c.cnt.idle.Add(1)
	c.armRead(ac)
}

// connClosed forgets ac (its RawClose), fails its request, and opens a
// connection for a waiting request in its place.
func (c *Client) connClosed(ac *appConn, cause error) {
	ls := c.loops[ac.c.Loop()]
	if ls.conns[ac.c] != ac {
		return
	}
	delete(ls.conns, ac.c)
	ac.closing = true
	c.cnt.conns.Add(-1)
	c.cnt.closed.Add(1)
	for i, x := range ls.idle {
		if x == ac {
			ls.idle = append(ls.idle[:i], ls.idle[i+1:]...)
			c.cnt.idle.Add(-1)
			break
		}
	}
	if r := ac.req; r != nil {
		ac.req = nil
		if !errors.Is(cause, netserver.ErrLocalClose) {
			c.log.Debug("fastcgi: application connection closed mid-request", "err", cause)
		}
		c.fail(r, http.StatusBadGateway)
	}
	if len(ls.waiting) > 0 && len(ls.conns) < c.cfg.MaxConns {
		r := ls.waiting[0]
		ls.waiting = ls.waiting[1:]
		r.waiting = false
		c.cnt.waiting.Add(-1)
		c.acquire(ls, r)
	}
}

// tick enforces Timeout on the requests of loop and IdleTimeout on its
// pool.
func (c *Client) tick(loop int, now time.Time) {
	if loop >= len(c.loops) {
		return
	}
	ls := c.loops[loop]
	t := now.UnixNano()
	for _, r := range ls.reqs {
		if r.deadline != 0 && !r.outPaused && t > r.deadline {
			c.cnt.timeouts.Add(1)
			c.fail(r, http.StatusGatewayTimeout)
		}
	}
	if c.cfg.IdleTimeout > 0 {
		limit := t - int64(c.cfg.IdleTimeout)
		for _, ac := range ls.idle {
			if ac.idleSince < limit {
				c.closeConn(ac)
			}
		}
	}
}

// tickerFunc is a function as a netserver.Ticker.
type tickerFunc func(loop int, now time.Time)

// Tick calls f.
func (f tickerFunc) Tick(loop int, now time.Time) { f(loop, now) }
