package main

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/uringnet/uringnet/cgi"
	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// allowCGI are the methods scripts get.
const allowCGI = "GET, HEAD, POST"

// cgiOptions are the CGI flags: the executables of dir are served at
// /cgi-bin/ (native mode), each run at most timeout.
type cgiOptions struct {
	dir     string
	timeout time.Duration
}

// register adds the CGI flags to fs.
func (o *cgiOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.dir, "cgi-dir", "", "`directory` whose executables are served as CGI scripts at /cgi-bin/ (native mode; default: none)")
	fs.DurationVar(&o.timeout, "cgi-timeout", cgi.DefaultTimeout, "`time` a CGI script may run before its process group is killed (504)")
}

// check validates the CGI flags.
func (o *cgiOptions) check(stdlib bool) error {
	if o.timeout <= 0 {
		return fmt.Errorf("-cgi-timeout must be positive")
	}
	if o.dir != "" && stdlib {
		return fmt.Errorf("-cgi-dir serves through the native handler: it does not go with -stdlib")
	}
	return nil
}

// cgiDemo is the native handler with /cgi-bin/ in front of the demo's
// routes: requests under it, and the callbacks of the clients whose
// script runs, go to the CGI handler; everything else to the demo.
type cgiDemo struct {
	*demo
	opts cgiOptions
	h    *cgi.Handler // set by start, before the server serves
}

// withCGI returns the handler to give the server: d itself without
// -cgi-dir, else d behind /cgi-bin/ (d.cgi, started by startCGI).
func (d *demo) withCGI(o cgiOptions) http.HTTPHandler {
	if o.dir == "" {
		return d
	}
	d.cgi = &cgiDemo{demo: d, opts: o}
	return d.cgi
}

// startCGI makes the CGI handler on s once the server exists, and adds its
// counters to the stats. Without -cgi-dir it does nothing.
func (d *demo) startCGI(s *http.Server, log *slog.Logger) error {
	if d.cgi == nil {
		return nil
	}
	// A script's local redirect out of /cgi-bin/ is served by the server's
	// handler (the FastCGI front with -fastcgi, the demo's routes), as a GET.
	var front http.HTTPHandler = d.cgi
	if d.fcgi != nil {
		front = d.fcgi
	}
	h, err := cgi.New(s, cgi.Config{Dir: d.cgi.opts.dir, Timeout: d.cgi.opts.timeout, Logger: log,
		Dispatch: func(req *http.Request, c netserver.ClientNum) { front.HTTPRead(req, c, false) }})
	if err != nil {
		return fmt.Errorf("-cgi-dir: %w", err)
	}
	d.cgi.h = h
	d.stats.cgi = h.Stats
	return nil
}

// HTTPRead sends /cgi-bin/ to the CGI handler.
func (c *cgiDemo) HTTPRead(req *http.Request, cn netserver.ClientNum, failed bool) {
	if c.h.Match(req.Path) {
		switch m := req.MethodString(); {
		case !knownMethod(m):
			c.refuseMethod(req, cn, http.StatusNotImplemented, "")
			return
		case !allows(allowCGI, m):
			c.refuseMethod(req, cn, http.StatusMethodNotAllowed, allowCGI)
			return
		}
		c.h.Serve(req, cn)
		return
	}
	c.demo.HTTPRead(req, cn, failed)
}

// HTTPBody feeds a script's stdin, or goes to the demo.
func (c *cgiDemo) HTTPBody(data []byte, cn netserver.ClientNum, last bool) {
	if c.h.Handles(cn) {
		c.h.HTTPBody(data, cn, last)
		return
	}
	c.demo.HTTPBody(data, cn, last)
}

// HTTPWrite releases a script's output buffer, or goes to the demo.
func (c *cgiDemo) HTTPWrite(data []byte, cn netserver.ClientNum, failed bool) {
	if c.h.Handles(cn) {
		c.h.HTTPWrite(data, cn, failed)
		return
	}
	c.demo.HTTPWrite(data, cn, failed)
}

// HTTPClose kills the client's script, if any, and tells the demo.
func (c *cgiDemo) HTTPClose(cn netserver.ClientNum) {
	c.h.HTTPClose(cn)
	c.demo.HTTPClose(cn)
}

// cgiValue reads a CGI counter, there with -cgi-dir.
func cgiValue(f func(s *cgi.Stats) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.CGI == nil {
			return 0, false
		}
		return f(s.CGI), true
	}
}

// The CGI metrics, added to the demo's table.
func init() {
	metrics = append(metrics,
		metric{"uringnet_cgi_started_total", "CGI scripts started.", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.Started })},
		metric{"uringnet_cgi_running", "CGI scripts running (not reaped yet).", gauge, cgiValue(func(s *cgi.Stats) uint64 { return uint64(max(s.Running, 0)) })},
		metric{"uringnet_cgi_exited_nonzero_total", "CGI scripts that exited non-zero or by a signal.", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.ExitedNonZero })},
		metric{"uringnet_cgi_timeouts_total", "CGI scripts killed for running past -cgi-timeout.", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.Timeouts })},
		metric{"uringnet_cgi_killed_client_gone_total", "CGI scripts killed because their client went away.", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.KilledClientGone })},
		metric{"uringnet_cgi_redirects_total", "CGI local redirects followed.", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.Redirects })},
		metric{"uringnet_cgi_bad_gateway_total", "CGI requests answered 502 (bad output, exec failure).", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.Status502 })},
		metric{"uringnet_cgi_unavailable_total", "CGI requests answered 503 (too many scripts running).", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.Status503 })},
		metric{"uringnet_cgi_gateway_timeout_total", "CGI requests answered 504 (timeout before the head).", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.Status504 })},
		metric{"uringnet_cgi_stderr_lines_total", "CGI stderr lines logged.", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.StderrLines })},
		metric{"uringnet_cgi_stderr_dropped_total", "CGI stderr lines dropped by the rate limit.", counter, cgiValue(func(s *cgi.Stats) uint64 { return s.StderrDropped })},
	)
}
