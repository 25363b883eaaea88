package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/uringnet/uringnet/fastcgi"
	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// fastcgiOptions are the -fastcgi flags: requests for files under the
// root whose path ends in pattern go to the FastCGI application at addr.
type fastcgiOptions struct {
	fastcgiAddr    string // "" : no FastCGI
	fastcgiPattern string
}

// registerFastCGIFlags adds the -fastcgi flags to fs.
func (fo *fastcgiOptions) registerFastCGIFlags(fs *flag.FlagSet) {
	fs.StringVar(&fo.fastcgiAddr, "fastcgi", "",
		"`address` of a FastCGI application (unix:/path or host:port): files under the root whose path ends in -fastcgi-pattern run there (native mode)")
	fs.StringVar(&fo.fastcgiPattern, "fastcgi-pattern", ".php", "path `suffix` of the files -fastcgi runs")
}

// checkFastCGI validates the -fastcgi flags.
func (fo *fastcgiOptions) checkFastCGI(stdlib bool) error {
	if fo.fastcgiAddr == "" {
		return nil
	}
	if stdlib {
		return fmt.Errorf("-fastcgi serves in native mode only, not with -stdlib")
	}
	if fo.fastcgiPattern == "" || strings.ContainsAny(fo.fastcgiPattern, "/\x00") {
		return fmt.Errorf("-fastcgi-pattern %q: want a path suffix such as .php", fo.fastcgiPattern)
	}
	if _, _, err := fastcgi.ParseAddr(fo.fastcgiAddr); err != nil {
		return fmt.Errorf("-fastcgi: %w", err)
	}
	return nil
}

// fcgiFront is the server's handler with -fastcgi: the requests for
// scripts go to the FastCGI client, everything else (and every callback
// about another request) to the demo.
type fcgiFront struct {
	next   http.HTTPHandler // the demo's routes (behind /cgi-bin/ with -cgi-dir)
	s      *http.Server
	cl     *fastcgi.Client
	root   *os.Root
	dir    string // the root, absolute
	suffix string
	log    *slog.Logger
}

// newNativeServer makes the native mode's server: calling h (the demo's
// handler), through an fcgiFront with -fastcgi.
func (d *demo) newNativeServer(cfg http.Config, h http.HTTPHandler, o options, root string, log *slog.Logger) (*http.Server, error) {
	if o.fastcgiAddr == "" {
		return http.NewServer(cfg, h)
	}
	dir, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("-fastcgi: the root: %w", err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("-fastcgi: the root: %w", err)
	}
	f := &fcgiFront{next: h, root: r, dir: dir, suffix: o.fastcgiPattern, log: log}
	s, err := http.NewServer(cfg, f)
	if err != nil {
		r.Close()
		return nil, err
	}
	// The application's local redirects are served by the front, as a
	// GET: a script again, a CGI script, or the demo's routes.
	dispatch := func(req *http.Request, c netserver.ClientNum) { f.HTTPRead(req, c, false) }
	if f.cl, err = fastcgi.New(s, fastcgi.Config{Addr: o.fastcgiAddr, Logger: log, Dispatch: dispatch}); err != nil {
		s.Close()
		r.Close()
		return nil, fmt.Errorf("-fastcgi: %w", err)
	}
	f.s = s
	d.fcgi = f
	log.Info("fastcgi", "addr", o.fastcgiAddr, "pattern", o.fastcgiPattern, "root", dir)
	return s, nil
}

// fastcgiStats returns the source of the FastCGI counters, nil without
// -fastcgi.
func (d *demo) fastcgiStats() func() fastcgi.Stats {
	if d.fcgi == nil {
		return nil
	}
	return d.fcgi.cl.Stats
}

// HTTPRead sends a request for a script to the application, after the
// checks of SendFile's path rules: no escape from the root (os.Root), a
// regular file.
func (f *fcgiFront) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	m := string(req.Method)
	if failed || !strings.HasSuffix(string(req.Path), f.suffix) || m != "GET" && m != "HEAD" && m != "POST" {
		f.next.HTTPRead(req, c, failed)
		return
	}
	clean, status, err := http.CleanPath(req.Path)
	if err != nil {
		f.s.RespondError(c, status)
		return
	}
	name := strings.TrimPrefix(clean, "/")
	fi, err := f.root.Stat(name)
	if err != nil {
		f.s.RespondError(c, http.OpenErrorStatus(err))
		return
	}
	if !fi.Mode().IsRegular() {
		f.s.RespondError(c, http.StatusForbidden)
		return
	}
	sc := fastcgi.Script{Filename: filepath.Join(f.dir, filepath.FromSlash(name)), Name: clean, DocumentRoot: f.dir}
	if err := f.cl.Serve(req, c, fastcgi.Params(req, c, f.s.Net(), sc)); err != nil {
		f.log.Warn("fastcgi: request not sent", "err", err)
	}
}

// HTTPBody goes to the FastCGI client for its requests, else to the demo.
func (f *fcgiFront) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	if !f.cl.HTTPBody(data, c, last) {
		f.next.HTTPBody(data, c, last)
	}
}

// HTTPWrite goes to the FastCGI client for its writes, else to the demo.
func (f *fcgiFront) HTTPWrite(data []byte, c netserver.ClientNum, failed bool) {
	if !f.cl.HTTPWrite(data, c, failed) {
		f.next.HTTPWrite(data, c, failed)
	}
}

// HTTPWritev goes to the demo (the FastCGI client uses Write only).
func (f *fcgiFront) HTTPWritev(bufs [][]byte, c netserver.ClientNum, failed bool) {
	f.next.HTTPWritev(bufs, c, failed)
}

// HTTPClose goes to both.
func (f *fcgiFront) HTTPClose(c netserver.ClientNum) {
	f.cl.HTTPClose(c)
	f.next.HTTPClose(c)
}

// fastcgiJSON is the FastCGI part of /stats.json.
type fastcgiJSON struct {
	Requests      uint64 `json:"requests"`
	Completed     uint64 `json:"completed"`
	Connects      uint64 `json:"connects"`
	ConnectErrors uint64 `json:"connect_errors"`
	Reused        uint64 `json:"reused"`
	Conns         int64  `json:"conns"`
	Idle          int64  `json:"idle"`
	Waiting       int64  `json:"waiting"`
	BadGateway    uint64 `json:"bad_gateway"`
	Timeouts      uint64 `json:"timeouts"`
	Rejected      uint64 `json:"rejected"`
	ClientAborts  uint64 `json:"client_aborts"`
	StderrBytes   uint64 `json:"stderr_bytes"`
	Redirects     uint64 `json:"redirects"`
}

// fastcgiJSONOf converts the client's counters (nil: nil).
func fastcgiJSONOf(st *fastcgi.Stats) *fastcgiJSON {
	if st == nil {
		return nil
	}
	return &fastcgiJSON{Requests: st.Requests, Completed: st.Completed, Connects: st.Connects,
		ConnectErrors: st.ConnectErrors, Reused: st.Reused, Conns: st.Conns, Idle: st.Idle, Waiting: st.Waiting,
		BadGateway: st.BadGateway, Timeouts: st.Timeouts, Rejected: st.Rejected, ClientAborts: st.ClientAborts,
		StderrBytes: st.StderrBytes, Redirects: st.Redirects}
}

// fcgiValue reads a FastCGI counter, there with -fastcgi.
func fcgiValue(f func(st *fastcgi.Stats) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.FastCGI == nil {
			return 0, false
		}
		return f(s.FastCGI), true
	}
}

// fastcgiMetrics are the FastCGI client's Prometheus metrics.
func fastcgiMetrics() []metric {
	return []metric{
		{"uringnet_fastcgi_requests_total", "Requests sent to the FastCGI application.", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.Requests })},
		{"uringnet_fastcgi_completed_total", "Requests the FastCGI application ended (END_REQUEST).", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.Completed })},
		{"uringnet_fastcgi_connects_total", "Connections opened to the FastCGI application.", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.Connects })},
		{"uringnet_fastcgi_connect_errors_total", "Connections to the FastCGI application that could not be opened.", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.ConnectErrors })},
		{"uringnet_fastcgi_reused_total", "Requests served on a pooled FastCGI connection.", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.Reused })},
		{"uringnet_fastcgi_connections", "FastCGI connections open now.", gauge,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return uint64(max(st.Conns, 0)) })},
		{"uringnet_fastcgi_idle_connections", "FastCGI connections idle in the pools now.", gauge,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return uint64(max(st.Idle, 0)) })},
		{"uringnet_fastcgi_waiting_requests", "Requests waiting for a FastCGI connection now.", gauge,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return uint64(max(st.Waiting, 0)) })},
		{"uringnet_fastcgi_bad_gateway_total", "Requests answered 502 (application unreachable or broken).", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.BadGateway })},
		{"uringnet_fastcgi_timeouts_total", "Requests the FastCGI application timed out on (504 or cut).", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.Timeouts })},
		{"uringnet_fastcgi_rejected_total", "Requests answered 503 (too many waiting).", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.Rejected })},
		{"uringnet_fastcgi_client_aborts_total", "FastCGI requests whose HTTP client left first.", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.ClientAborts })},
		{"uringnet_fastcgi_stderr_bytes_total", "Bytes the FastCGI application wrote to STDERR.", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.StderrBytes })},
		{"uringnet_fastcgi_redirects_total", "FastCGI local redirects followed.", counter,
			fcgiValue(func(st *fastcgi.Stats) uint64 { return st.Redirects })},
	}
}
