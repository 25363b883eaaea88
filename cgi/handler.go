package cgi

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Defaults of the Config fields left zero.
const (
	DefaultPrefix         = "/cgi-bin/"
	DefaultTimeout        = 30 * time.Second
	DefaultMaxConcurrent  = 32
	DefaultRetryAfter     = 5 * time.Second
	DefaultMaxStdinQueued = 256 << 10
	DefaultStderrRate     = 20  // lines per second
	DefaultStderrBurst    = 100 // lines
	DefaultMaxStderrLine  = 1024
	DefaultMaxRedirects   = 10
	// stdoutBufSize is the size of each of a job's two stdout buffers:
	// the default pipe capacity.
	stdoutBufSize = 64 << 10
	stderrBufSize = 4 << 10
)

// Config configures a Handler. Zero fields take the defaults above.
type Config struct {
	// Dir holds the scripts (required). Requests name files under it
	// with the path rules of http.Server.SendFile.
	Dir string
	// Prefix is the URL path under which Dir is served ("/cgi-bin/").
	// It must start and end with "/".
	Prefix string
	// Timeout bounds a script's run, from start to the end of its
	// output: past it the process group is killed, and the client gets
	// 504 (or, when the head was sent, its connection is aborted).
	Timeout time.Duration
	// MaxConcurrent bounds the scripts running at once; requests over it
	// get 503 with Retry-After.
	MaxConcurrent int
	// RetryAfter is the Retry-After of those 503s (rounded up to seconds).
	RetryAfter time.Duration
	// MaxStdinQueued bounds the request body bytes waiting to be written
	// to a script's stdin: past it the body is no longer read until the
	// script has taken half of them.
	MaxStdinQueued int
	// Env is added to every script's environment ("NAME=value" each).
	Env []string
	// Path is the scripts' PATH (default DefaultPath).
	Path string
	// Software is SERVER_SOFTWARE (default ServerSoftware).
	Software string
	// Logger gets the scripts' stderr lines and the handler's failures
	// (default slog.Default()).
	Logger *slog.Logger
	// StderrRate and StderrBurst rate-limit the stderr lines logged
	// (over all scripts of the Handler): a token bucket of StderrBurst
	// lines refilled at StderrRate lines per second. Lines over it are
	// counted as dropped. MaxStderrLine truncates each line (bytes).
	StderrRate    float64
	StderrBurst   int
	MaxStderrLine int
	// MaxRedirects bounds the local redirects followed for one request
	// (default 10); one more is a 502.
	MaxRedirects int
	// Dispatch serves a local redirect to a path outside Prefix, as a GET
	// (on the client's loop, like HTTPRead). When nil such a redirect is
	// sent to the client as a 302.
	Dispatch func(req *http.Request, c netserver.ClientNum)
}

// Stats are a Handler's counters since it was made.
type Stats struct {
	Started          uint64 `json:"started"`            // scripts started
	Running          int64  `json:"running"`            // scripts not reaped yet
	ExitedNonZero    uint64 `json:"exited_nonzero"`     // exits with a non-zero status or by a signal
	Timeouts         uint64 `json:"timeouts"`           // scripts killed for running past Timeout
	KilledClientGone uint64 `json:"killed_client_gone"` // scripts killed because their client went away
	Redirects        uint64 `json:"redirects"`          // local redirects followed
	Status502        uint64 `json:"status_502"`         // bad head, exec failure
	Status503        uint64 `json:"status_503"`         // over MaxConcurrent (or out of fds)
	Status504        uint64 `json:"status_504"`         // timeouts before the head
	StderrLines      uint64 `json:"stderr_lines"`       // stderr lines logged
	StderrDropped    uint64 `json:"stderr_dropped"`     // stderr lines over the rate limit
}

type counters struct {
	started, exitedNonZero, timeouts, killedGone, redirects atomic.Uint64
	s502, s503, s504, stderrLines, stderrDropped            atomic.Uint64
}

// Handler runs CGI scripts for an http.Server. The application calls
// Serve from its HTTPRead for the requests it gives to CGI (Match tells
// which), and forwards the HTTPBody, HTTPWrite and HTTPWritev callbacks of
// the clients for which Handles is true, and every HTTPClose.
type Handler struct {
	srv     *http.Server
	ns      *netserver.Server
	cfg     Config
	dir     string
	root    *os.Root
	tls     bool
	running atomic.Int64
	cnt     counters
	log     *slog.Logger
	bucket  tokenBucket
	loops   []loopJobs
	pipes   *pipeHandler
	reapers sync.WaitGroup
}

// loopJobs holds one loop's jobs; only that loop touches it.
type loopJobs struct {
	clients map[netserver.ClientNum]*job  // HTTP client -> its job
	pipes   map[netserver.ClientNum]*pipe // pipe client -> its job
}

// New returns a Handler that serves the scripts of cfg.Dir on srv.
func New(srv *http.Server, cfg Config) (*Handler, error) {
	if cfg.Dir == "" {
		return nil, errors.New("cgi: Config.Dir is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("cgi: directory %q: %w", cfg.Dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cgi: directory %q: %w", cfg.Dir, err)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") {
		root.Close()
		return nil, fmt.Errorf("cgi: Prefix %q must start and end with /", cfg.Prefix)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.MaxStdinQueued <= 0 {
		cfg.MaxStdinQueued = DefaultMaxStdinQueued
	}
	if cfg.StderrRate <= 0 {
		cfg.StderrRate = DefaultStderrRate
	}
	if cfg.StderrBurst <= 0 {
		cfg.StderrBurst = DefaultStderrBurst
	}
	if cfg.MaxStderrLine <= 0 {
		cfg.MaxStderrLine = DefaultMaxStderrLine
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	h := &Handler{srv: srv, ns: srv.Net(), cfg: cfg, dir: dir, root: root,
		tls: srv.Config().Net.TLS != nil, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.bucket = tokenBucket{rate: cfg.StderrRate, burst: float64(cfg.StderrBurst), tokens: float64(cfg.StderrBurst)}
	h.loops = make([]loopJobs, h.ns.Loops())
	for i := range h.loops {
		h.loops[i] = loopJobs{clients: map[netserver.ClientNum]*job{}, pipes: map[netserver.ClientNum]*pipe{}}
	}
	h.pipes = &pipeHandler{h: h}
	return h, nil
}

// Config returns the configuration with the defaults filled in.
func (h *Handler) Config() Config { return h.cfg }

// Stats returns the counters. Safe from any goroutine.
func (h *Handler) Stats() Stats {
	c := &h.cnt
	return Stats{Started: c.started.Load(), Running: h.running.Load(), ExitedNonZero: c.exitedNonZero.Load(),
		Timeouts: c.timeouts.Load(), KilledClientGone: c.killedGone.Load(), Redirects: c.redirects.Load(),
		Status502: c.s502.Load(), Status503: c.s503.Load(), Status504: c.s504.Load(),
		StderrLines: c.stderrLines.Load(), StderrDropped: c.stderrDropped.Load()}
}

// Close releases the handler's directory handle and waits for the
// reaper goroutines of the scripts still running (the server's Shutdown
// or Close, which closes their clients, kills them first).
func (h *Handler) Close() error {
	h.reapers.Wait()
	if err := h.root.Close(); err != nil {
		return fmt.Errorf("cgi: closing %q: %w", h.dir, err)
	}
	return nil
}

// Match reports whether path (a raw request path) is under Prefix.
func (h *Handler) Match(path []byte) bool {
	return strings.HasPrefix(string(path), h.cfg.Prefix) || string(path)+"/" == h.cfg.Prefix
}

// Handles reports whether c's callbacks (HTTPBody, HTTPWrite, HTTPWritev)
// belong to the Handler: c's current request is served by a script. Call
// it on c's loop.
func (h *Handler) Handles(c netserver.ClientNum) bool {
	_, ok := h.loops[c.Loop()].clients[c]
	return ok
}

// HTTPBody forwards a piece of the request body to the script's stdin.
func (h *Handler) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	if j := h.loops[c.Loop()].clients[c]; j != nil {
		j.body(data, last)
	}
}

// HTTPWrite releases a stdout buffer once it was sent to the client.
func (h *Handler) HTTPWrite(data []byte, c netserver.ClientNum, failed bool) {
	if j := h.loops[c.Loop()].clients[c]; j != nil {
		j.out.HTTPWrite(data, failed)
		if failed {
			j.goneClient()
			j.stop()
		}
		j.maybeUnmap()
	}
}

// HTTPWritev is not used by the Handler (it does nothing); it exists so
// that the Handler forwards like any HTTPHandler.
func (h *Handler) HTTPWritev([][]byte, netserver.ClientNum, bool) {}

// HTTPClose kills the script of c, if it runs, and forgets c. Forward
// every HTTPClose: it is a no-op for clients without a script.
func (h *Handler) HTTPClose(c netserver.ClientNum) {
	j := h.loops[c.Loop()].clients[c]
	if j == nil {
		return
	}
	delete(h.loops[c.Loop()].clients, c)
	j.goneClient()
	j.stop()
}

// Serve runs the script that req's path names for client c. Call it from
// HTTPRead (on c's loop) for a request whose path Match accepts. Errors
// are answered through the server's error pages: 400/403 for a bad path,
// 404 for a missing script, 411 for a chunked body (CGI needs
// CONTENT_LENGTH), 503 over MaxConcurrent, 502 when the script cannot be
// started.
func (h *Handler) Serve(req *http.Request, c netserver.ClientNum) {
	clean, status, err := http.CleanPath(req.Path)
	if err != nil {
		h.srv.RespondError(c, status)
		return
	}
	if !strings.HasPrefix(clean+"/", h.cfg.Prefix) {
		h.srv.RespondError(c, http.StatusNotFound)
		return
	}
	rel := strings.TrimPrefix(clean, strings.TrimSuffix(h.cfg.Prefix, "/"))
	script, info, status := h.resolve(rel)
	if status != 0 {
		h.srv.RespondError(c, status)
		return
	}
	if req.Body == http.BodyChunked {
		h.srv.RespondError(c, http.StatusLengthRequired)
		return
	}
	if h.running.Add(1) > int64(h.cfg.MaxConcurrent) {
		h.running.Add(-1)
		h.respond503(req, c)
		return
	}
	scriptName := strings.TrimSuffix(h.cfg.Prefix, "/") + script
	p := EnvParams{Remote: nil, Local: h.srv.Addr(), ScriptName: scriptName, PathInfo: info,
		ScriptFilename: filepath.Join(h.dir, filepath.FromSlash(strings.TrimPrefix(script, "/"))),
		DocumentRoot:   h.dir, TLS: h.tls, Software: h.cfg.Software, Path: h.cfg.Path, Extra: h.cfg.Env}
	if info != "" {
		p.PathTranslated = filepath.Join(h.dir, filepath.FromSlash(info))
	}
	if a, err := h.ns.RemoteAddr(c); err == nil {
		p.Remote = a
	}
	j := &job{h: h, c: c, loop: c.Loop(), req: req.Clone()}
	if err := j.start(p, Env(req, p)); err != nil {
		h.running.Add(-1)
		status := http.StatusBadGateway
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			status = http.StatusServiceUnavailable
			h.cnt.s503.Add(1)
		} else {
			h.cnt.s502.Add(1)
		}
		h.log.Warn("cgi: cannot start script", "script", scriptName, "err", err)
		h.srv.RespondError(c, status)
		return
	}
	h.cnt.started.Add(1)
}

// resolve walks rel (a clean path below Prefix, "/a/b/c") under Dir: the
// first regular file is the script, the rest of the path is PATH_INFO.
// It returns the script's path (from Dir, "/a/b"), the path info, and a
// status (0 when found).
func (h *Handler) resolve(rel string) (script, info string, status int) {
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	if len(segs) == 0 || segs[0] == "" {
		return "", "", http.StatusForbidden
	}
	for i := range segs {
		name := strings.Join(segs[:i+1], "/")
		fi, err := h.root.Stat(name)
		if err != nil {
			return "", "", http.OpenErrorStatus(err)
		}
		switch {
		case fi.IsDir():
			continue
		case fi.Mode().IsRegular():
			info = rel[len(name)+1:]
			return "/" + name, info, 0
		default:
			return "", "", http.StatusForbidden
		}
	}
	return "", "", http.StatusForbidden // a directory
}

// respond503 answers a request over MaxConcurrent: the server's 503 page
// with Retry-After.
func (h *Handler) respond503(req *http.Request, c netserver.ClientNum) {
	h.cnt.s503.Add(1)
	body, ctype := h.srv.Config().ErrorPages.Body(http.StatusServiceUnavailable)
	b := h.srv.AppendHeadStart(nil, c, http.StatusServiceUnavailable, true)
	b = http.AppendHeader(b, "Content-Type", ctype)
	b = http.AppendHeader(b, "Retry-After", strconv.Itoa(int((h.cfg.RetryAfter+time.Second-1)/time.Second)))
	b = http.AppendContentLength(b, int64(len(body)))
	b = h.srv.AppendHeadEnd(b, c, true)
	if !req.IsHead() {
		b = append(b, body...)
	}
	h.srv.Send(c, b)
	h.srv.EndResponse(c)
}

// redirect follows a local redirect of j's request to r: a path under
// Prefix is served here, another through Config.Dispatch (or a 302).
func (h *Handler) redirect(j *job, r *LocalRedirect) {
	dispatch := h.cfg.Dispatch
	if h.Match([]byte(r.Path)) {
		dispatch = h.Serve
	}
	if !Follow(h.srv, j.c, j.req, r, h.cfg.MaxRedirects, dispatch) {
		h.cnt.s502.Add(1)
		h.log.Warn("cgi: too many local redirects", "path", string(j.req.Path))
		return
	}
	h.cnt.redirects.Add(1)
}

// tokenBucket rate-limits the stderr lines logged.
type tokenBucket struct {
	mu          sync.Mutex
	rate, burst float64
	tokens      float64
	last        time.Time
}

// allow takes a token if there is one.
func (b *tokenBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
