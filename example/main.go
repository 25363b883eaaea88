// Command example is the uringnet demo HTTP server:
//
//	go run ./example -addr 127.0.0.1:8080 [-stdlib] [-root DIR] [-loops N] [-log json] [-access-log=false] [-http2=false]
//	go run ./example -addr 127.0.0.1:8443 -tls-self-signed    # or -tls-cert FILE -tls-key FILE
//	go run ./example -addr 127.0.0.1:8081 -nats nats://127.0.0.1:4222   # /chat across instances
//
// (-h explains every flag.) Routes: /plaintext answers "Hello, World!"
// (text/plain), /json answers {"message":"Hello, World!"}, POST /echo sends
// the request body back, /ws is a WebSocket echo (text and binary), /chat a
// WebSocket chat room (each message broadcast to everyone in it; /chat and
// /ws without an upgrade show a page that uses both), /stats a WebSocket
// feed of the counters once a second, /metrics exposes the counters in the
// Prometheus text format (client_golang: a collector over the server's
// counters on a registry of the server's own, served by promhttp) and
// /stats.json as JSON, and every other GET or HEAD is a file under -root.
// Every route checks its method: HEAD wherever GET, 405 with an Allow
// field for a method the route does not take, 501 for one RFC 9110 does
// not define.
//
// Two modes serve the same routes. By default (native) they are uringnet
// callbacks, except /metrics, a net/http handler (promhttp) run through
// the stdhttp adapter. With -stdlib every route is a net/http handler on a
// ServeMux served by the adapter (stdhttp.Server): files by
// http.FileServer and http.ServeFile, and the WebSocket routes hand their
// connections back to the loops (stdhttp.TakeOver), so WebSockets run
// natively in both modes.
//
// Without -root it serves a small site
// embedded in the binary (a live page of the counters, a range-request demo
// on a generated /big.bin, the WebSocket page), written to a temporary directory at start (so that it goes
// through the same SendFile path as a real root) and removed at exit. It
// prints "listening on ADDR", stops gracefully on SIGINT or SIGTERM and
// prints its final stats line; logs go through log/slog to stderr.
//
// With -nats URL (and optionally -nats-name, the connection's name) /chat
// becomes one room across every instance started with the same NATS
// server: the chat is a rooms.Hub in both cases, without a bus by default
// and with a natsbus.Bus under -nats. A message reaches this instance's
// members at once and is published for the others; an outage of the bus
// leaves each instance's chat working locally, and what the other
// instances missed is counted (lost, dropped). /stats.json ("rooms" and
// "bus"), /metrics (uringnet_rooms_*, uringnet_chat_*, uringnet_bus_*)
// and the live page show the room's members across the instances and the
// bus's state and counters. At shutdown the WebSocket clients are closed
// first, then the Hub publishes what they said last and the bus closes.
//
// With -tls-cert and -tls-key (PEM files), or -tls-self-signed (a
// throwaway certificate for localhost made at start), the listener speaks
// TLS only: HTTPS and WSS, in both modes. The TLS counters (handshakes,
// resumed sessions, errors, connections whose sends the kernel encrypts)
// join /metrics, /stats.json and the live page.
//
// HTTP/2 is served unless -http2=false (http.Config.HTTP2.Disable), in
// both modes and by the same handlers: over TLS by ALPN (http.NewServer
// puts "h2" first in NextProtos), in cleartext by prior knowledge or
// Upgrade: h2c on the same port. The WebSockets stay on HTTP/1.1. Its
// connections, streams and defences are counted in /stats.json
// ("http2"), /metrics (uringnet_http2_*) and on the live page.
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
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/stdhttp"
	"github.com/uringnet/uringnet/upgrade"
)

//go:embed site
var site embed.FS

// Response bodies, built once.
var (
	helloBody = []byte("Hello, World!")
	jsonBody  = []byte(`{"message":"Hello, World!"}`)
)

// demo routes requests. In native mode it is the server's HTTPHandler
// (HTTPRead and the rest); in -stdlib mode std serves every route and
// the demo's callbacks are not used.
type demo struct {
	http.NopHTTPHandler
	s      *http.Server
	access *accessLog // nil when the access log is off
	stats  *counterSources
	ws     *wsDemo
	// metrics serves /metrics in native mode: promhttp over a registry of
	// the stats collector, through the stdhttp adapter. The callbacks of
	// its requests are forwarded to it, and every HTTPClose.
	metrics *stdhttp.Handler
	// std is the -stdlib mode's handler (a ServeMux behind the method
	// check).
	std nethttp.Handler
	// The per-loop state of native mode, each map touched only by its
	// loop's callbacks: echoing holds the connections whose /echo body
	// is being streamed back as it arrives; metricsBody those whose
	// /metrics request has a body, which goes to the adapter; sendFiles
	// counts each connection's SendFile calls whose HTTPWritev has not
	// come yet (those are the demo's; any other HTTPWritev is the
	// adapter's).
	echoing     [maxLoops]map[netserver.ClientNum]struct{}
	metricsBody [maxLoops]map[netserver.ClientNum]struct{}
	sendFiles   [maxLoops]map[netserver.ClientNum]int
	fcgi        *fcgiFront // -fastcgi (nil without); the server's handler, in front of the demo
	cgi         *cgiDemo   // /cgi-bin/ in front of the routes (-cgi-dir), or nil
}

// HTTPRead routes a request in native mode.
func (d *demo) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	if mb := d.metricsBody[c.Loop()]; len(mb) > 0 {
		// A new request: the body of an earlier /metrics request, if
		// the adapter did not take all of it, was discarded.
		delete(mb, c)
	}
	if status, allow := checkMethod(req.MethodString(), req.Path); status != 0 {
		d.refuseMethod(req, c, status, allow)
		return
	}
	if r := wsRoute(string(req.Path)); r != 0 && req.Upgrade {
		d.ws.upgrade(req, c, r)
		return
	}
	switch string(req.Path) {
	case "/chat", "/ws":
		d.sendFile(req, c, "/ws.html") // the page that uses both
	case "/metrics":
		if req.Body != http.BodyNone {
			loopMap(&d.metricsBody[c.Loop()])[c] = struct{}{}
		}
		d.metrics.HTTPRead(req, c, failed)
	case "/stats.json":
		s := d.stats.take(time.Now())
		d.s.Respond(c, 200, "application/json", appendStatsJSON(nil, &s))
	case "/healthz":
		d.s.Respond(c, 200, "application/json", healthBody())
	case "/readyz":
		status, body := readyBody(d.s.Draining())
		d.s.Respond(c, status, "application/json", body)
	case "/plaintext":
		d.s.Respond(c, 200, "text/plain", helloBody)
	case "/json":
		d.s.Respond(c, 200, "application/json", jsonBody)
	case "/echo":
		d.echo(req, c)
	default:
		d.sendFile(req, c, "")
	}
}

// sendFile answers req with SendFile and counts the HTTPWritev it will
// fire.
func (d *demo) sendFile(req *http.Request, c netserver.ClientNum, path string) {
	if err := d.s.SendFile(req, c, path); !errors.Is(err, http.ErrNoRequest) {
		loopMap(&d.sendFiles[c.Loop()])[c]++
	}
}

// loopMap returns *m, made first if need be.
func loopMap[V any](m *map[netserver.ClientNum]V) map[netserver.ClientNum]V {
	if *m == nil {
		*m = make(map[netserver.ClientNum]V)
	}
	return *m
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
	loopMap(&d.echoing[c.Loop()])[c] = struct{}{}
	if req.Expect100 {
		// The client waits for 100 Continue before it sends the body:
		// it must go out now, ahead of the response head (the server
		// would send it after HTTPRead, behind the head).
		d.s.DeferContinue(c)
		d.s.Continue(c)
	}
	d.s.Send(c, d.s.AppendHead(nil, c, 200, "application/octet-stream", req.ContentLength))
}

// HTTPBody gets the body of POST /echo (pieces to stream back, or the
// whole collected body), or of a /metrics request, for the adapter.
func (d *demo) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	if mb := d.metricsBody[c.Loop()]; mb != nil {
		if _, ok := mb[c]; ok {
			if last {
				delete(mb, c)
			}
			d.metrics.HTTPBody(data, c, last)
			return
		}
	}
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

// HTTPWrite goes to the adapter: the demo's own routes use Send, Respond
// and SendFile, which fire no HTTPWrite.
func (d *demo) HTTPWrite(data []byte, c netserver.ClientNum, failed bool) {
	d.metrics.HTTPWrite(data, c, failed)
}

// HTTPWritev ends one of the demo's SendFile calls, or goes to the
// adapter.
func (d *demo) HTTPWritev(bufs [][]byte, c netserver.ClientNum, failed bool) {
	if m := d.sendFiles[c.Loop()]; bufs == nil && m[c] > 0 {
		if m[c]--; m[c] == 0 {
			delete(m, c)
		}
		return
	}
	d.metrics.HTTPWritev(bufs, c, failed)
}

// HTTPClose forgets c (an /echo cut short, say), and tells the adapter.
func (d *demo) HTTPClose(c netserver.ClientNum) {
	delete(d.echoing[c.Loop()], c)
	delete(d.metricsBody[c.Loop()], c)
	delete(d.sendFiles[c.Loop()], c)
	d.metrics.HTTPClose(c)
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
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if err := run(o, os.Stdout, sig); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run serves until stop delivers a signal, natively or (o.stdlib) through
// net/http handlers on the adapter: SIGHUP upgrades (upgrade.go), any
// other signal stops. out gets the "listening on" and "stats" lines; logs
// go to o.logOut (nowhere when nil).
func run(o options, out io.Writer, stop <-chan os.Signal) error {
	log := o.logger()
	// The listening sockets of a predecessor (SIGHUP upgrade) or of
	// systemd, if this process was given any.
	up, err := upgrade.New(upgrade.Config{Path: o.upgradeBinary, ReadyTimeout: o.upgradeTimeout, Logger: log})
	if err != nil {
		return err
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
	tlsCfg, err := o.tlsConfig(log)
	if err != nil {
		return err
	}
	d := &demo{}
	cfg := http.Config{
		Net: netserver.Config{Addrs: []string{o.addr}, Loops: o.loops, Logger: log,
			MaxQueued: o.maxQueued, MaxMemory: o.maxMemory,
			HandshakeTimeout: o.handshakeTimeout, MaxHandshakes: o.maxHandshakes,
			Listeners: up.Listeners()},
		Root:        root,
		MaxBuffered: o.maxBuffered,
		DrainSpread: o.drainSpread,
		HTTP2:       http.HTTP2Config{Disable: o.noHTTP2},
	}
	if o.accessLog && o.logLevel <= slog.LevelInfo && o.logOut != nil {
		d.access = newAccessLog(o.logOut, o.logFormat == "json", log)
		defer d.access.close() // after Serve returned: the loops are gone
		cfg.AccessLog = d.access
	}
	// The server: uringnet's HTTP server calling the demo, or the
	// adapter's, which serves d.std (set below, before it serves).
	var (
		s     *http.Server
		front interface {
			Serve() error
			Shutdown(ctx context.Context) error
		}
		std  *stdhttp.Server
		mode = "native"
	)
	if o.stdlib {
		mode = "stdlib"
		// TLS as with net/http's Server: TLSConfig (the adapter passes
		// it to the loops beneath).
		std = &stdhttp.Server{Native: cfg, Logger: log, TLSConfig: tlsCfg,
			Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { d.std.ServeHTTP(w, r) })}
		if err := std.Listen(); err != nil {
			return fmt.Errorf("stdlib mode: %w", err)
		}
		s, front = std.Uringnet(), std
	} else {
		cfg.Net.TLS = tlsCfg // every connection: the handshake, then HTTP in plaintext
		if s, err = d.newNativeServer(cfg, d.withCGI(o.cgi), o, root, log); err != nil {
			return err
		}
		front = s
	}
	d.s = s
	bus, err := o.dialBus(log)
	if err != nil {
		return err
	}
	hubCfg := rooms.Config{Logger: log}
	if bus != nil {
		hubCfg.Bus = bus
	}
	if d.ws, err = newWSDemo(s, hubCfg); err != nil {
		if bus != nil {
			bus.Close()
		}
		return err
	}
	// The bus is closed after the Hub (closeRooms, at shutdown); these
	// are for the ways out before that.
	roomsClosed := false
	defer func() {
		if !roomsClosed {
			closeRooms(d.ws.hub, bus, log)
		}
	}()
	d.stats = &counterSources{loops: s.Net().Loops(), net: s.Stats, requests: s.Requests, http: s.Counters,
		ws: d.ws.stats, rooms: d.ws.roomsSample, access: d.access, tls: tlsCfg != nil, http2: !o.noHTTP2, fastcgi: d.fastcgiStats(),
		bounds: bounds{MaxQueued: int(bound(int64(o.maxQueued), netserver.DefaultMaxQueued)),
			MaxMemory:   bound(o.maxMemory, netserver.DefaultMaxMemory),
			MaxBuffered: int(bound(int64(o.maxBuffered), http.DefaultMaxBuffered))}}
	d.stats.upgrade = func() upgradeSample { return upgradeSample{Stats: up.Stats(), Draining: s.Draining()} }
	if err := d.startCGI(s, log); err != nil {
		return err
	}
	reg, err := newMetricsRegistry(d.stats)
	if err != nil {
		return err
	}
	metrics := sized(metricsHandler(reg, log))
	if o.stdlib {
		d.std = d.stdlibHandler(root, metrics, log)
		d.stats.adapter = std.Counters
	} else {
		d.metrics = stdhttp.NewHandler(metrics, stdhttp.Options{MaxHandlers: maxMetricsHandlers, Logger: log})
		d.metrics.Bind(s)
		d.stats.adapter = d.metrics.Counters
	}
	d.ws.live = newLiveStats(d.ws.ws, d.stats)
	stopLive := make(chan struct{})
	defer close(stopLive)
	go d.ws.live.run(time.Second, stopLive)
	errc := make(chan error, 1)
	go func() { errc <- front.Serve() }()
	// Announce the server only once every loop serves: where it cannot
	// (io_uring refused with URINGNET_BACKEND=uring, say), Serve fails
	// first and nothing claims to be listening.
	select {
	case err := <-errc:
		return err
	case <-s.Ready():
	}
	log.Info("serving", "addr", s.Addr().String(), "url", o.scheme()+"://"+s.Addr().String()+"/", "mode", mode,
		"backend", s.Net().Backend(), "tls", o.tlsMode(), "http2", !o.noHTTP2, "root", root, "loops", s.Net().Loops(), "access_log", o.accessLog,
		"chat", map[bool]string{false: "local", true: "nats"}[bus != nil], "pid", os.Getpid(),
		"listeners", map[string]string{"": "bound", "upgrade": "from the predecessor", "systemd": "from systemd"}[up.Inherited()])
	fmt.Fprintf(out, "listening on %s\n", s.Addr())
	if err := up.Ready(); err != nil {
		// A predecessor that was not told kills this process after its
		// timeout and serves on.
		log.Error("upgrade: readiness not delivered", "err", err)
	}
	// Signals until the end: SIGHUP upgrades, SIGINT or SIGTERM stops. A
	// Serve that ends by itself ends the wait too.
	waitCtx, cancelWait := context.WithCancel(context.Background())
	var serveErr error
	served := make(chan struct{})
	go func() {
		serveErr = <-errc
		close(served)
		cancelWait()
	}()
	outcome := up.WaitSignals(waitCtx, s.Net(), stop)
	cancelWait()
	select {
	case <-served:
		return serveErr
	default:
	}
	var drained <-chan error
	if outcome == upgrade.Upgraded {
		// The successor serves: stop accepting, let the requests in
		// flight finish and close the keep-alive connections as they
		// end (Drain), while the WebSocket clients get a grace period.
		log.Info("upgrade: the successor serves; draining", "drain_timeout", o.drainTimeout.String(), "ws_grace", o.wsGrace.String())
		drained = drainHTTP(s, o.drainTimeout)
		time.Sleep(o.wsGrace)
	}
	// WebSocket clients first: a 1001 close frame and its handshake, so
	// that browsers see "going away" rather than an abnormal closure
	// (and reconnect: to the successor, after an upgrade).
	wsCtx, wsCancel := context.WithTimeout(context.Background(), 3*time.Second)
	if err := d.ws.ws.Shutdown(wsCtx); err != nil {
		log.Warn("websocket shutdown", "err", err)
	}
	wsCancel()
	// Then the chat's bus: what the clients said last is published.
	closeRooms(d.ws.hub, bus, log)
	roomsClosed = true
	if drained != nil {
		if err := <-drained; err != nil {
			log.Warn("upgrade: drain cut short: closing what is left", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := front.Shutdown(ctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	<-served
	if err := serveErr; err != nil && !errors.Is(err, netserver.ErrServerClosed) && !errors.Is(err, nethttp.ErrServerClosed) {
		return err
	}
	log.Info("stopped", "requests", s.Requests(), "accepted", s.Stats().Accepted)
	fmt.Fprintf(out, "stats %s requests=%d\n", s.Stats(), s.Requests())
	return nil
}

// maxMetricsHandlers bounds the /metrics handlers running at once in
// native mode; scrapes over it wait, their connections unread.
const maxMetricsHandlers = 4

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
