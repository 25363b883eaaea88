package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/cache"
	"github.com/uringnet/uringnet/h2"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/sendfile"
	"golang.org/x/sys/unix"
)

// Defaults of the Config fields left zero.
const (
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultIdleTimeout    = 75 * time.Second
	DefaultLingerTimeout  = 2 * time.Second
	DefaultBodyTimeout    = 30 * time.Second
	DefaultMinBodyRate    = 64 << 10
	DefaultStallTimeout   = 2 * time.Minute
	DefaultMaxBuffered    = 1 << 20
	DefaultCacheBytes     = 64 << 20
	DefaultCacheFileBytes = 64 << 10
	// DefaultDrainIdleTimeout is Config.DrainIdleTimeout's default.
	DefaultDrainIdleTimeout = 1 * time.Second
)

// Errors returned by Server methods.
var (
	// ErrNoRequest is returned when a response method is called for a
	// connection that has no request waiting for its response.
	ErrNoRequest = errors.New("http: no request waiting for a response")
	// ErrNoRoot is returned by SendFile when the server has no Root.
	ErrNoRoot = errors.New("http: SendFile without Config.Root")
)

// Config configures a Server.
//
// Every timeout and limit follows one rule: zero means the default,
// negative means none. NewServer never rewrites a field: Config returns
// the values as given, and combinations that cannot work are errors.
type Config struct {
	// Net configures the event loops. Its IdleTimeout is the stall
	// limit: a connection with no byte read and no write progress for this
	// long is closed, which ends uploads and downloads to a client that
	// stopped reading. Default DefaultStallTimeout (2 min, longer than
	// IdleTimeout so idle keep-alive connections are closed by the finer
	// HTTP timeouts first); negative means none. Its TickInterval, when
	// set, is an upper bound on how often the HTTP timeouts are checked.
	Net netserver.Config
	// Limits bounds request heads and bodies (414, 431, 413).
	Limits Limits
	// HeaderTimeout bounds the time from the first byte of a request head
	// to its end (slow clients cannot hold a connection with a trickle).
	// Default 10 s; negative means none.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time a request body may take to arrive,
	// counted from the end of its head (or from the 100 Continue), and
	// extended by one second for every MinBodyRate bytes received. A body
	// that does not arrive in time is answered with 408 (Request Timeout)
	// when its response has not started, and the connection is closed.
	// Default 30 s; negative means none.
	BodyTimeout time.Duration
	// MinBodyRate is the upload rate, in bytes per second, that earns a
	// body more time beyond BodyTimeout. Default 64 KiB/s; negative means
	// the body gets BodyTimeout and nothing more.
	MinBodyRate int
	// IdleTimeout closes a keep-alive connection that sends nothing for
	// this long between requests. Default 75 s; negative means none.
	IdleTimeout time.Duration
	// LingerTimeout bounds how long a connection being closed (after an
	// error or Connection: close) is read and discarded, waiting for the
	// client's FIN, so that unread input does not reset the response.
	// Default 2 s; negative means no lingering (the connection is closed
	// as soon as its responses are out).
	LingerTimeout time.Duration
	// MaxBuffered bounds the bytes held for a connection while its current
	// request is being answered (pipelined requests); beyond it the
	// connection is closed. It must not be below Limits.MaxHeaderBytes.
	// Default 1 MiB; negative means none.
	MaxBuffered int
	// DrainIdleTimeout is how long, once Drain has begun, a keep-alive
	// connection may wait for its next request before it is closed (the
	// polite way, as after Connection: close). A client that sent its
	// request just as the drain began has this long for it to arrive and
	// be answered with Connection: close; the connection is counted in
	// Counters.DrainClosed, not IdleTimeouts. Default 1 s; negative means
	// idle connections are closed as soon as the drain begins.
	DrainIdleTimeout time.Duration
	// DrainSpread spreads a drain's Connection: close over this long:
	// each busy keep-alive connection gets it at a moment within the
	// window fixed by its client number, so that the clients reconnect
	// (to the process that took over, in an upgrade) a few at a time
	// rather than all at once. Zero: every response from the drain's
	// start closes its connection.
	DrainSpread time.Duration
	// ErrorPages replaces the built-in error pages; nil means built-in.
	ErrorPages *ErrorPages
	// Root is the directory SendFile serves from ("" disables SendFile).
	Root string
	// Cache holds small files for SendFile. Nil means a new cache of
	// 64 MiB for files up to 64 KiB.
	Cache *cache.Cache
	// SendFile configures the transfers of large files.
	SendFile sendfile.Config
	// AccessLog, when not nil, is told the status of every response: the
	// handler's, the file server's and the error pages of requests the
	// parser rejected. See AccessLogger.
	AccessLog AccessLogger
	// HTTP2 configures HTTP/2, on unless HTTP2.Disable.
	HTTP2 HTTP2Config
}

// settings are the Config values in effect: defaults applied, "none" as
// zero (timeouts) or the largest value (limits).
type settings struct {
	headerTimeout, bodyTimeout, idleTimeout, lingerTimeout time.Duration
	minBodyRate                                            int64
	maxBuffered                                            int
	drainIdle                                              time.Duration // zero: at once
}

// resolveTimeout applies the package's rule: zero means def, negative
// means none (returned as zero).
func resolveTimeout(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// resolveLimit applies the rule to a limit: zero means def, negative means
// none (the largest int).
func resolveLimit(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return math.MaxInt
	}
	return n
}

// settings checks cfg and resolves its timeouts and limits.
func (cfg *Config) settings(lim *Limits) (settings, error) {
	st := settings{
		headerTimeout: resolveTimeout(cfg.HeaderTimeout, DefaultHeaderTimeout),
		bodyTimeout:   resolveTimeout(cfg.BodyTimeout, DefaultBodyTimeout),
		idleTimeout:   resolveTimeout(cfg.IdleTimeout, DefaultIdleTimeout),
		lingerTimeout: resolveTimeout(cfg.LingerTimeout, DefaultLingerTimeout),
		minBodyRate:   int64(resolveLimit(cfg.MinBodyRate, DefaultMinBodyRate)),
		maxBuffered:   resolveLimit(cfg.MaxBuffered, DefaultMaxBuffered),
		drainIdle:     resolveTimeout(cfg.DrainIdleTimeout, DefaultDrainIdleTimeout), // negative: zero, at once
	}
	if cfg.MinBodyRate < 0 {
		st.minBodyRate = 0
	}
	if st.maxBuffered < lim.MaxHeaderBytes {
		return st, fmt.Errorf("http: MaxBuffered %d is below Limits.MaxHeaderBytes %d: a request head could never be buffered",
			st.maxBuffered, lim.MaxHeaderBytes)
	}
	return st, nil
}

// tickInterval is how often the loops check the HTTP timeouts: a quarter
// of the shortest one (DrainIdleTimeout included, so that a drain closes
// idle connections on time), between 5 ms and 1 s, and no longer than the
// caller's own Net.TickInterval.
func (st *settings) tickInterval(user time.Duration) time.Duration {
	tick := time.Second
	for _, d := range []time.Duration{st.headerTimeout, st.bodyTimeout, st.idleTimeout, st.lingerTimeout, st.drainIdle} {
		if d > 0 && d/4 < tick {
			tick = d / 4
		}
	}
	tick = max(tick, 5*time.Millisecond)
	if user > 0 && user < tick {
		tick = user
	}
	return tick
}

// Server is an HTTP/1.1 server on the event loops of a netserver.Server.
// Create it with NewServer, run it with Serve, stop it with Drain then
// Shutdown, or Close.
type Server struct {
	ns     *netserver.Server
	h      HTTPHandler
	cfg    Config   // as given
	set    settings // in effect
	lim    Limits
	log    *slog.Logger
	root   *os.Root
	rootFD int // the root as an O_PATH fd, -1 when none
	cache  *cache.Cache
	sender *sendfile.Sender
	loops  []loopState
	conns  *netserver.Table[conn] // each connection's HTTP state
	cnt    counters
	h2cfg  h2.Config // each HTTP/2 connection's engine settings
	h2cnt  h2counters
	// open counts the HTTP connections: accepted and neither closed nor
	// detached (Drain waits for it to reach zero).
	open        atomic.Int64
	draining    atomic.Bool   // Drain has begun
	drainStart  atomic.Int64  // when, in unix nanos
	serveCalled atomic.Bool   // Serve was called
	ended       chan struct{} // closed when Serve's loops have ended
}

// counters are the server's own counters (Counters reads them).
type counters struct {
	reqs, rejected, headerTimeouts, bodyTimeouts, idleTimeouts, drainClosed atomic.Uint64
}

// Counters are the HTTP server's counters since it started.
type Counters struct {
	// Requests is how many request heads were parsed.
	Requests uint64
	// Rejected is how many requests the parser refused (400, 413, 414,
	// 431, 501, ...).
	Rejected uint64
	// HeaderTimeouts counts connections closed because a request head did
	// not arrive within HeaderTimeout.
	HeaderTimeouts uint64
	// BodyTimeouts counts requests whose body did not arrive within
	// BodyTimeout (answered 408 when their response had not started).
	BodyTimeouts uint64
	// IdleTimeouts counts keep-alive connections closed for idleness.
	IdleTimeouts uint64
	// DrainClosed counts keep-alive connections closed while idle by a
	// drain (see Drain and Config.DrainIdleTimeout).
	DrainClosed uint64
	// HTTP2 counts HTTP/2 connections, streams and the defences.
	HTTP2 H2Counters
}

// NewServer creates a server that calls h, and opens its listeners.
func NewServer(cfg Config, h HTTPHandler) (*Server, error) {
	if h == nil {
		h = NopHTTPHandler{}
	}
	s := &Server{h: h, cfg: cfg, lim: cfg.Limits.WithDefaults(), rootFD: -1, log: cfg.Net.Logger,
		ended: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	st, err := cfg.settings(&s.lim)
	if err != nil {
		return nil, err
	}
	s.set = st
	netCfg := cfg.Net
	netCfg.IdleTimeout = resolveTimeout(cfg.Net.IdleTimeout, DefaultStallTimeout)
	netCfg.TickInterval = st.tickInterval(cfg.Net.TickInterval)
	if !cfg.HTTP2.Disable {
		netCfg.TLS = withH2ALPN(netCfg.TLS)
	}
	s.h2cfg = s.h2Config()
	if cfg.Root != "" {
		root, err := os.OpenRoot(cfg.Root)
		if err != nil {
			return nil, fmt.Errorf("http: root: %w", err)
		}
		s.root = root
		// The same directory as a plain fd, for the cached-file fast path.
		if s.rootFD, err = unix.Open(cfg.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			root.Close()
			return nil, fmt.Errorf("http: root: %w", err)
		}
		s.cache = cfg.Cache
		if s.cache == nil {
			c, err := cache.New(cache.Config{MaxBytes: DefaultCacheBytes, MaxEntryBytes: DefaultCacheFileBytes})
			if err != nil {
				s.closeRoot()
				return nil, fmt.Errorf("http: cache: %w", err)
			}
			s.cache = c
		}
	}
	ns, err := netserver.New(netCfg, (*rawHandler)(s))
	if err != nil {
		s.closeRoot()
		return nil, fmt.Errorf("http: %w", err)
	}
	s.ns = ns
	s.loops = make([]loopState, ns.Loops())
	s.conns = netserver.NewTable[conn](ns)
	s.conns.Reset = func(*conn) {} // Accept sets every field but the buffers it keeps
	s.sender = sendfile.New(ns.Loops(), cfg.SendFile)
	return s, nil
}

// Serve runs the server until Shutdown or Close; it returns
// netserver.ErrServerClosed then. It releases the pipes and the root on
// the way out.
func (s *Server) Serve() error {
	if !s.serveCalled.CompareAndSwap(false, true) {
		return s.ns.Serve() // netserver's answer to a second call
	}
	defer close(s.ended)
	go func() {
		// A Drain that came before the loops served could not close the
		// listeners: they are closed once the loops are ready.
		select {
		case <-s.ns.Ready():
			if s.draining.Load() {
				s.ns.StopAccepting()
			}
		case <-s.ended:
		}
	}()
	err := s.ns.Serve()
	s.sender.Close()
	s.closeRoot()
	return err
}

// Shutdown stops accepting, lets the responses already queued go out,
// closes every connection and waits for Serve's loops to end. When ctx
// ends first, the remaining connections are closed at once and ctx's
// error is returned. A response still being produced (a stream) is cut
// short: call Drain first for a graceful stop. HTTP/2 connections get
// GOAWAY first, and their streams in flight finish (within ctx) before
// the connections close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.h2GoAway(ctx)
	if err := s.ns.Shutdown(ctx); err != nil {
		return fmt.Errorf("http: shutdown: %w", err)
	}
	return nil
}

// Close closes every connection at once, failing the writes not yet
// done, and waits for Serve's loops to end.
func (s *Server) Close() error {
	if err := s.ns.Close(); err != nil {
		return fmt.Errorf("http: close: %w", err)
	}
	return nil
}

// Ready returns a channel that is closed when every loop is serving.
func (s *Server) Ready() <-chan struct{} { return s.ns.Ready() }

// Config returns the configuration the server was created with, as
// given (zero fields stay zero; the defaults in effect are the Default
// constants).
func (s *Server) Config() Config { return s.cfg }

// Net returns the underlying netserver.Server (for Stats, events, groups).
func (s *Server) Net() *netserver.Server { return s.ns }

// Addr returns the first listening address.
func (s *Server) Addr() net.Addr { return s.ns.Addr() }

// Requests returns how many request heads the server has parsed.
func (s *Server) Requests() uint64 { return s.cnt.reqs.Load() }

// Counters returns the HTTP server's counters.
func (s *Server) Counters() Counters {
	return Counters{
		Requests:       s.cnt.reqs.Load(),
		Rejected:       s.cnt.rejected.Load(),
		HeaderTimeouts: s.cnt.headerTimeouts.Load(),
		BodyTimeouts:   s.cnt.bodyTimeouts.Load(),
		IdleTimeouts:   s.cnt.idleTimeouts.Load(),
		DrainClosed:    s.cnt.drainClosed.Load(),
		HTTP2:          s.h2cnt.read(),
	}
}

// Stats returns the loops' counters.
func (s *Server) Stats() netserver.Stats { return s.ns.Stats() }

// Cache returns the cache SendFile uses (nil without a Root).
func (s *Server) Cache() *cache.Cache { return s.cache }

// onLoop runs f on c's loop: at once when the caller is there, else in
// c's output stream, after what was written before.
func (s *Server) onLoop(c netserver.ClientNum, f func()) error {
	if s.ns.OnLoop(c) {
		f()
		return nil
	}
	return s.ns.QueueOp(c, funcOp(f))
}

// funcOp runs a function on the loop as a netserver.Op.
type funcOp func()

func (f funcOp) Start(x *netserver.OpContext) {
	f()
	x.Finish(false)
}

func (funcOp) Complete(*netserver.OpContext, uint64, int32) {}

func (funcOp) Cancel(netserver.ClientNum) {}

// Respond sends a complete response to the request of c: status line,
// Date, Content-Type (when not empty), Content-Length and the connection
// header the request asked for, then body (left out for HEAD, 204 and
// 304), in one write. It ends the response. On the loop it copies nothing
// but into the output buffer and allocates nothing.
func (s *Server) Respond(c netserver.ClientNum, status int, contentType string, body []byte) error {
	if !s.ns.OnLoop(c) {
		body = append([]byte(nil), body...)
		return s.ns.QueueOp(c, funcOp(func() { s.Respond(c, status, contentType, body) }))
	}
	ls, cn := s.conn(c)
	if cn == nil || !cn.responding {
		return ErrNoRequest
	}
	out := s.appendHead(ls.out[:0], ls, cn, status, contentType, int64(len(body)))
	if !cn.head && status != StatusNoContent && status != StatusNotModified {
		out = append(out, body...)
	}
	ls.out = out
	if err := s.ns.Send(c, out); err != nil {
		return err
	}
	s.endResponse(ls, cn)
	return nil
}

// RespondError sends the error page of status (see Config.ErrorPages) and
// ends the response; the connection is closed after it.
func (s *Server) RespondError(c netserver.ClientNum, status int) error {
	return s.onLoop(c, func() {
		ls, cn := s.conn(c)
		if cn == nil || !cn.responding {
			return
		}
		cn.keepAlive = false
		s.logStatus(ls, cn, status)
		out := s.cfg.ErrorPages.AppendResponse(ls.out[:0], status, &ls.date, s.ns.Now(c), cn.head)
		ls.out = out
		s.ns.Send(c, out)
		s.endResponse(ls, cn)
	})
}

// AppendHead appends a response head for c's current request to dst:
// status line, Date, Content-Type (if not empty), Content-Length (if
// contentLength >= 0), the connection header, and the empty line. Use it
// with Write or Writev and EndResponse. Call it on c's loop.
func (s *Server) AppendHead(dst []byte, c netserver.ClientNum, status int, contentType string, contentLength int64) []byte {
	ls, cn := s.conn(c)
	if cn == nil {
		return dst
	}
	return s.appendHead(dst, ls, cn, status, contentType, contentLength)
}

func (s *Server) appendHead(dst []byte, ls *loopState, cn *conn, status int, contentType string, contentLength int64) []byte {
	cn.headOut = cn.headOut || status >= 200
	now := s.ns.Now(cn.c)
	s.logStatusAt(ls, cn, status, now)
	dst = AppendStatusLine(dst, status)
	dst = ls.date.Append(dst, now)
	if contentType != "" {
		dst = append(dst, "Content-Type: "...)
		dst = appendSanitized(dst, contentType)
		dst = append(dst, "\r\n"...)
	}
	if contentLength >= 0 && status != StatusNoContent && status != StatusNotModified && status >= 200 {
		dst = AppendContentLength(dst, contentLength)
	}
	return appendConnection(dst, cn)
}

func appendConnection(dst []byte, cn *conn) []byte {
	switch {
	case !cn.keepAlive:
		dst = append(dst, "Connection: close\r\n"...)
	case cn.http10:
		dst = append(dst, "Connection: keep-alive\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// Write writes data to c as part of the current response; HTTPWrite fires
// once when it is sent or failed. data must not change until then.
func (s *Server) Write(c netserver.ClientNum, data []byte) error {
	return s.ns.RawWrite(c, data)
}

// Send copies data into c's output as part of the current response (no
// callback; data may change once Send returns). Use it after AppendHead
// for a body produced piece by piece, then EndResponse.
func (s *Server) Send(c netserver.ClientNum, data []byte) error {
	if err := s.ns.Send(c, data); err != nil {
		return fmt.Errorf("http: send to %v: %w", c, err)
	}
	return nil
}

// Writev writes bufs to c as one operation; HTTPWritev fires once.
func (s *Server) Writev(c netserver.ClientNum, bufs [][]byte) error {
	return s.ns.RawWritev(c, bufs)
}

// EndResponse marks the response to c's current request complete (after
// Write or Writev): the next pipelined request is read, or the connection
// is closed when the request did not keep it alive.
func (s *Server) EndResponse(c netserver.ClientNum) error {
	return s.onLoop(c, func() {
		if ls, cn := s.conn(c); cn != nil && cn.responding {
			s.endResponse(ls, cn)
		}
	})
}

// CloseClient closes connection c after the writes already asked for.
func (s *Server) CloseClient(c netserver.ClientNum) error {
	if err := s.ns.RawClose(c); err != nil {
		return fmt.Errorf("http: close %v: %w", c, err)
	}
	return nil
}

// CollectBody asks for the whole body of c's current request in one
// HTTPBody call (last=true), gathered up to limit bytes (zero or less:
// Limits.MaxBodyBytes, which also caps it); a larger body is answered with 413 and the
// connection closed. Call it from HTTPRead. A request without a body gets
// an empty HTTPBody call.
func (s *Server) CollectBody(c netserver.ClientNum, limit int64) error {
	ls, cn := s.conn(c)
	if cn == nil || !cn.responding || !s.ns.OnLoop(c) {
		return ErrNoRequest
	}
	if limit <= 0 || limit > s.lim.MaxBodyBytes {
		limit = s.lim.MaxBodyBytes
	}
	if cn.coll == nil {
		if n := len(ls.colls); n > 0 {
			cn.coll = ls.colls[n-1]
			ls.colls = ls.colls[:n-1]
		} else {
			cn.coll = new(BodyCollector)
		}
	}
	req := Request{Body: cn.bodyMode, ContentLength: cn.remaining}
	if !cn.inBody {
		req.Body = BodyNone
	}
	cn.coll.Reset(&req, limit)
	s.sendContinue(cn)
	return nil
}

// Detach hands connection c over to h (a protocol upgrade, WebSocket)
// with netserver's SetHandler: from then on c's callbacks (reads, write
// completions, RawDrained, RawClose) go to h, and the bytes already
// received after the current request head are delivered to h.RawRead
// right after the current callback. The HTTP server drops its state for c:
// it no longer answers or times out c, and HTTPClose is not called for it.
// Call it on c's loop, after sending the upgrade response: from HTTPRead,
// or later (from RunOnLoop or a queued Op), when the bytes the server
// buffered after the request head go to h.RawRead before Detach returns.
func (s *Server) Detach(c netserver.ClientNum, h netserver.Handler) error {
	ls, cn := s.conn(c)
	if cn == nil || !s.ns.OnLoop(c) {
		return ErrNoRequest
	}
	if cn.h2 != nil {
		return ErrHTTP2
	}
	if err := s.ns.SetHandler(c, h); err != nil {
		return err
	}
	s.logStatus(ls, cn, StatusSwitchingProtocols)
	cn.detached = h
	cn.responding = false
	cn.inBody = false
	if cn.readPaused {
		cn.bodyPaused, cn.bufPaused = false, false
		s.syncPause(cn)
	}
	if !cn.inHandler {
		// Not within input: the buffered bytes are handed over here.
		var rest []byte
		if len(cn.buf) > 0 {
			rest = append([]byte(nil), cn.buf...)
		}
		s.release(ls, cn)
		if len(rest) > 0 {
			h.RawRead(rest, c, false)
		}
	}
	return nil
}
