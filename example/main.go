// Command example is the uringnet demo HTTP server:
//
//	go run ./example -addr 127.0.0.1:8080 [-root DIR] [-loops N] [-log json] [-access-log=false]
//
// (-h explains every flag.) Routes: /plaintext answers "Hello, World!"
// (text/plain), /json answers {"message":"Hello, World!"}, POST /echo sends
// the request body back, /ws is a WebSocket echo (text and binary), /chat a
// WebSocket chat room (each message broadcast to everyone in it; /chat and
// /ws without an upgrade show a page that uses both), /stats a WebSocket
// feed of the counters once a second, /metrics exposes the counters in the
// Prometheus text format and /stats.json as JSON, and every other GET or
// HEAD is a file under -root. Without -root it serves a small site
// embedded in the binary (a live page of the counters, a range-request demo
// on a generated /big.bin, the WebSocket page), written to a temporary directory at start (so that it goes
// through the same SendFile path as a real root) and removed at exit. It
// prints "listening on ADDR", stops gracefully on SIGINT or SIGTERM and
// prints its final stats line; logs go through log/slog to stderr.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	nethttp "net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

//go:embed site
var site embed.FS

// Response bodies, built once.
var (
	helloBody = []byte("Hello, World!")
	jsonBody  = []byte(`{"message":"Hello, World!"}`)
)

// demo routes requests.
type demo struct {
	http.NopHTTPHandler
	s      *http.Server
	access *accessLog // nil when the access log is off
	stats  *counterSources
	// metrics serves /metrics: promhttp over a registry of the stats
	// collector.
	metrics nethttp.Handler
	ws      *wsDemo
	// echoing holds, per loop, the connections whose /echo body is being
	// streamed back as it arrives (only that loop touches its map).
	echoing [256]map[netserver.ClientNum]struct{}
}

func (d *demo) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	if status, allow := checkMethod(req.MethodString(), string(req.Path)); status != 0 {
		d.refuseMethod(req, c, status, allow)
		return
	}
	if r := wsRoute(string(req.Path)); r != 0 && req.Upgrade {
		d.ws.upgrade(req, c, r)
		return
	}
	switch string(req.Path) {
	case "/chat", "/ws":
		d.s.SendFile(req, c, "/ws.html") // the page that uses both
	case "/metrics":
		d.serveMetricsInterim(req, c)
	case "/stats.json":
		s := d.stats.take(time.Now())
		d.s.Respond(c, 200, "application/json", appendStatsJSON(nil, &s))
	case "/plaintext":
		d.s.Respond(c, 200, "text/plain", helloBody)
	case "/json":
		d.s.Respond(c, 200, "application/json", jsonBody)
	case "/echo":
		d.echo(req, c)
	default:
		d.s.SendFile(req, c, "")
	}
}

// maxCollectedEcho bounds a chunked /echo body, which is gathered whole
// before it is answered (its length must be known for the response).
const maxCollectedEcho = 1 << 20

// echo answers POST /echo. A body of known length is streamed back as it
// arrives, so that a client that does not read the answer stops being
// read (netserver's MaxQueued) instead of piling up memory; a chunked body
// is collected (up to maxCollectedEcho) and answered whole.
func (d *demo) echo(req *http.Request, c netserver.ClientNum) {
	switch {
	case req.Body == http.BodyNone || req.Body == http.BodyLength && req.ContentLength == 0:
		d.s.Respond(c, 200, "application/octet-stream", nil)
		return
	case req.Body != http.BodyLength:
		d.s.CollectBody(c, maxCollectedEcho)
		return
	}
	m := d.echoing[c.Loop()]
	if m == nil {
		m = make(map[netserver.ClientNum]struct{})
		d.echoing[c.Loop()] = m
	}
	m[c] = struct{}{}
	d.s.Send(c, d.s.AppendHead(nil, c, 200, "application/octet-stream", req.ContentLength))
}

// HTTPBody gets the body of POST /echo: pieces to stream back, or the
// whole collected body.
func (d *demo) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	m := d.echoing[c.Loop()]
	if _, ok := m[c]; !ok {
		d.s.Respond(c, 200, "application/octet-stream", data)
		return
	}
	d.s.Send(c, data)
	if last {
		delete(m, c)
		d.s.EndResponse(c)
	}
}

// HTTPClose forgets an /echo cut short.
func (d *demo) HTTPClose(c netserver.ClientNum) {
	delete(d.echoing[c.Loop()], c)
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if err := run(o, os.Stdout, sig); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run serves until stop delivers a signal. out gets the "listening on" and
// "stats" lines; logs go to o.logOut (nowhere when nil).
func run(o options, out io.Writer, stop <-chan os.Signal) error {
	log := o.logger()
	if o.stdlib {
		return errors.New("-stdlib: not available yet")
	}
	root := o.root
	if root == "" {
		dir, err := writeSite(o.bigFile)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		root = dir
	}
	d := &demo{}
	cfg := http.Config{
		Net: netserver.Config{Addrs: []string{o.addr}, Loops: o.loops, Logger: log,
			MaxQueued: o.maxQueued, MaxMemory: o.maxMemory},
		Root:        root,
		MaxBuffered: o.maxBuffered,
	}
	if o.accessLog && o.logLevel <= slog.LevelInfo && o.logOut != nil {
		d.access = newAccessLog(o.logOut, o.logFormat == "json", log)
		defer d.access.close() // after Serve returned: the loops are gone
		cfg.AccessLog = d.access
	}
	s, err := http.NewServer(cfg, d)
	if err != nil {
		return err
	}
	d.s = s
	d.ws = newWSDemo(s)
	d.stats = &counterSources{loops: s.Net().Loops(), net: s.Stats, requests: s.Requests, http: s.Counters,
		ws: d.ws.stats, access: d.access,
		bounds: bounds{MaxQueued: int(bound(int64(o.maxQueued), netserver.DefaultMaxQueued)),
			MaxMemory:   bound(o.maxMemory, netserver.DefaultMaxMemory),
			MaxBuffered: int(bound(int64(o.maxBuffered), http.DefaultMaxBuffered))}}
	d.ws.live = newLiveStats(d.ws.ws, d.stats)
	reg, err := newMetricsRegistry(d.stats)
	if err != nil {
		return err
	}
	d.metrics = metricsHandler(reg, log)
	stopLive := make(chan struct{})
	defer close(stopLive)
	go d.ws.live.run(time.Second, stopLive)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	// Announce the server only once every loop serves: where it cannot
	// (io_uring refused with URINGNET_BACKEND=uring, say), Serve fails
	// first and nothing claims to be listening.
	select {
	case err := <-errc:
		return err
	case <-s.Ready():
	}
	log.Info("serving", "addr", s.Addr().String(), "backend", s.Net().Backend(), "root", root, "loops", s.Net().Loops(),
		"access_log", o.accessLog)
	fmt.Fprintf(out, "listening on %s\n", s.Addr())
	select {
	case err := <-errc:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// WebSocket clients first: a 1001 close frame and its handshake, so
	// that browsers see "going away" rather than an abnormal closure;
	// within the first part of the time allowed, the rest goes to HTTP.
	wsCtx, wsCancel := context.WithTimeout(ctx, 3*time.Second)
	if err := d.ws.ws.Shutdown(wsCtx); err != nil {
		log.Warn("websocket shutdown", "err", err)
	}
	wsCancel()
	s.Shutdown(ctx)
	if err := <-errc; err != nil && !errors.Is(err, netserver.ErrServerClosed) {
		return err
	}
	log.Info("stopped", "requests", s.Requests(), "accepted", s.Stats().Accepted)
	fmt.Fprintf(out, "stats %s requests=%d\n", s.Stats(), s.Requests())
	return nil
}

// writeSite copies the embedded site to a new temporary directory and
// adds big.bin, bigFile bytes of a repeating pattern (for the range demo).
func writeSite(bigFile int64) (string, error) {
	dir, err := os.MkdirTemp("", "uringnet-site-")
	if err != nil {
		return "", fmt.Errorf("embedded site: %w", err)
	}
	err = fs.WalkDir(site, "site", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("site", p)
		dst := filepath.Join(dir, rel)
		if de.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := site.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err == nil {
		err = writeBigFile(filepath.Join(dir, "big.bin"), bigFile)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("embedded site: %w", err)
	}
	return dir, nil
}

// writeBigFile writes size bytes to path: 64-byte lines "<offset> uringnet"
// padded with dots, so a byte range shows where it came from.
func writeBigFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	const line = 64
	chunk := make([]byte, 0, 1<<20)
	for off := int64(0); off < size; {
		chunk = chunk[:0]
		for len(chunk)+line <= cap(chunk) && off+int64(len(chunk)) < size {
			start := len(chunk)
			chunk = fmt.Appendf(chunk, "%010d uringnet big.bin ", off+int64(start))
			for len(chunk)-start < line-1 {
				chunk = append(chunk, '.')
			}
			chunk = append(chunk, '\n')
		}
		n := min(int64(len(chunk)), size-off)
		if _, err := f.Write(chunk[:n]); err != nil {
			f.Close()
			return err
		}
		off += n
	}
	return f.Close()
}

// bound is the value in effect of a limit set to v: the default for 0,
// 0 (none) for a negative v.
func bound(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}
