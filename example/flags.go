package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// options are the demo's settings, from the command line.
type options struct {
	addr      string // address to listen on
	root      string // directory to serve; "" means the embedded site
	loops     int    // event loops; 0 means GOMAXPROCS
	logFormat string // "text" or "json"
	logLevel  slog.Level
	accessLog bool  // log one line per request
	bigFile   int64 // size of the generated big.bin in the embedded site
	logOut    io.Writer
	stdlib    bool // serve through net/http handlers on the stdhttp adapter
	// noHTTP2 turns HTTP/2 off (-http2=false): HTTP/1.1 only, h2 not
	// offered by ALPN, no h2c. The zero value serves HTTP/2.
	noHTTP2 bool
	// The memory bounds (negative: none).
	maxQueued   int   // per-client output backlog that stops reading the client
	maxMemory   int64 // server-wide output backlog budget
	maxBuffered int   // per-connection pipelined input
	// TLS on -addr: a certificate and its key (PEM files), or a
	// throwaway self-signed certificate made at start.
	tlsCert, tlsKey string
	tlsSelfSigned   bool
	// The handshake bounds (0: netserver's defaults).
	handshakeTimeout time.Duration
	maxHandshakes    int
	// natsURL joins /chat to the same room on every instance started
	// with the same NATS server(s) (a comma-separated list); "" keeps it
	// local. natsName names the connection ("" picks one from -addr).
	natsURL, natsName string
	// Upgrades (SIGHUP): the binary the successor runs ("" this one), how
	// long it has to become ready, how long the old process then drains
	// its HTTP connections, and how long WebSocket clients keep talking
	// to it before their 1001.
	upgradeBinary                string
	upgradeTimeout, drainTimeout time.Duration
	wsGrace                      time.Duration
	drainSpread                  time.Duration
	fastcgiOptions                          // -fastcgi (fastcgi.go)
	cgi                          cgiOptions // -cgi-dir, -cgi-timeout (cgi.go)
}

// usageHead is printed by -h above the flag list.
const usageHead = `uringnet demo: an HTTP/1.1 and HTTP/2 server on io_uring, or on epoll where
io_uring is refused (URINGNET_BACKEND=uring|epoll|auto picks; auto is the default).

Usage:

	go run ./example [flags]

Open http://ADDR/ in a browser for the live page (https://ADDR/ with
-tls-cert and -tls-key, or -tls-self-signed: then every route, the
WebSockets too, is served over TLS only). Routes:

	/               the embedded site (or -root): live stats, range-request demo
	/plaintext      "Hello, World!"
	/json           {"message":"Hello, World!"}
	/echo           POST: the request body comes back
	/ws, /chat      WebSocket echo and chat room (without an upgrade: their page);
	                with -nats URL the room spans every instance on that NATS
	/stats          WebSocket feed of the counters, once a second
	/metrics        Prometheus exposition of the server's counters (client_golang)
	/stats.json     the same counters as one JSON object
	/healthz        200 while the process serves (liveness), with its pid
	/readyz         200 while it takes new work, 503 once it drains (readiness)
	/big.bin        a generated file of -big-file bytes (embedded site only)
	*.php           with -fastcgi ADDR: a script under the root, run by that
	                FastCGI application (-fastcgi-pattern sets the suffix)
	anything else   a file under the root (Range, conditional requests, HEAD)

HTTP/2 is on unless -http2=false: over TLS a client that offers h2 by
ALPN gets it (browsers do), and on a plain port h2c by prior knowledge
(curl --http2-prior-knowledge) or by Upgrade: h2c (curl --http2). Every
route serves HTTP/2 alike, except the WebSockets, which stay on HTTP/1.1
(no RFC 8441): browsers open an HTTP/1.1 connection for them.
/stats.json ("http2"), /metrics and the live page count its connections
and streams.

Routes answer HEAD wherever GET, 405 (with Allow) to a method they do not
take, 501 to one RFC 9110 does not define. -stdlib serves them all through
net/http handlers on a ServeMux (the stdhttp adapter) instead of uringnet's
native callbacks.

With -nats URL, /chat is one room across every instance started with the
same NATS server: a message reaches this instance's members at once and
the other instances' over NATS (packages rooms and rooms/natsbus). An
unreachable server is not an error: the instance keeps trying, and its
chat stays local meanwhile. /stats.json, /metrics and the live page show
the bus's state and what it carried, lost and dropped.

SIGHUP upgrades without refusing a connection: the process starts its
successor (-upgrade-binary, by default its own binary, with the same
flags) on the same listening sockets, waits until it serves
(-upgrade-timeout), then stops accepting and drains: requests in flight
finish, keep-alive connections get "Connection: close" on their next
response, idle ones are closed, WebSocket clients get 1001 after
-ws-grace; then it exits (-drain-timeout bounds the drain). A successor
that fails or is not ready in time is killed, and the process serves on.
Under systemd socket activation (LISTEN_FDS) the demo serves on the
sockets it is given instead of binding -addr.

The first line on stdout is "listening on ADDR" and the last one, after
SIGINT or SIGTERM, is "stats key=value ...": scripts and benchmarks read
them. Logs (and the access log) go to stderr.

Flags:
`

// parseFlags parses the command line. -h prints the usage to errOut and
// returns flag.ErrHelp.
func parseFlags(args []string, errOut io.Writer) (options, error) {
	o := options{logOut: errOut}
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprint(errOut, usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&o.root, "root", "", "`directory` to serve (default: the embedded demo site)")
	fs.IntVar(&o.loops, "loops", 0, "event loops, one io_uring (or epoll instance) and OS thread each (default GOMAXPROCS)")
	fs.StringVar(&o.logFormat, "log", "text", "log `format`: text or json")
	level := fs.String("log-level", "info", "least `level` logged: debug, info, warn or error")
	fs.BoolVar(&o.stdlib, "stdlib", false, "serve every route through a net/http ServeMux on the stdhttp adapter (default: native callbacks)")
	http2 := fs.Bool("http2", true, "serve HTTP/2: h2 by ALPN over TLS, h2c (prior knowledge, Upgrade: h2c) in cleartext; false: HTTP/1.1 only")
	fs.BoolVar(&o.accessLog, "access-log", true, "log every request (method, path, status) at info level")
	fs.Int64Var(&o.bigFile, "big-file", 32<<20, "`bytes` of the generated /big.bin streamed by the range demo (embedded site only)")
	fs.IntVar(&o.maxQueued, "max-queued", netserver.DefaultMaxQueued,
		"`bytes` of output a client may have waiting before the server stops reading it (negative: no limit)")
	fs.Int64Var(&o.maxMemory, "max-memory", netserver.DefaultMaxMemory,
		"`bytes` of output waiting over all clients before the server stops reading (negative: no limit)")
	fs.IntVar(&o.maxBuffered, "max-buffered", http.DefaultMaxBuffered,
		"`bytes` of pipelined input held per connection while a request is answered (negative: no limit)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM `file` of the TLS certificate (chain): -addr serves HTTPS and WSS (needs -tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM `file` of the private key of -tls-cert")
	fs.BoolVar(&o.tlsSelfSigned, "tls-self-signed", false,
		"serve HTTPS and WSS with a throwaway self-signed certificate made at start (localhost, 127.0.0.1, ::1), for a quick look")
	fs.DurationVar(&o.handshakeTimeout, "tls-handshake-timeout", 0,
		"`time` a TLS handshake may take, from accept on, before the client is closed (default 10s)")
	fs.IntVar(&o.maxHandshakes, "tls-max-handshakes", 0,
		"TLS handshakes running at once; clients over it wait, unread, within -tls-handshake-timeout (default 256)")
	fs.StringVar(&o.natsURL, "nats", "",
		"NATS server `URL` (nats://host:4222, or a comma-separated list): /chat is one room across every instance given the same (default: this instance only)")
	fs.StringVar(&o.natsName, "nats-name", "", "`name` of the NATS connection, shown by the server's monitoring (default: uringnet-demo and -addr)")
	fs.StringVar(&o.upgradeBinary, "upgrade-binary", "", "`path` of the binary a SIGHUP upgrade starts (default: this process's own)")
	fs.DurationVar(&o.upgradeTimeout, "upgrade-timeout", 30*time.Second, "`time` an upgrade's successor has to serve before it is killed and this process serves on")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 60*time.Second, "`time` the old process of an upgrade lets requests in flight finish before it closes what is left")
	fs.DurationVar(&o.drainSpread, "drain-spread", time.Second, "`time` over which a drain's Connection: close reaches the busy keep-alive connections, so that they reconnect to the successor a few at a time (0: all at once)")
	fs.DurationVar(&o.wsGrace, "ws-grace", time.Second, "`time` WebSocket clients keep the old process of an upgrade before their 1001 (going away)")
	o.registerFastCGIFlags(fs)
	o.cgi.register(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.noHTTP2 = !*http2
	if err := o.cgi.check(o.stdlib); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q (flags only; -h lists them)", fs.Args())
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, fmt.Errorf("-log %q: want text or json", o.logFormat)
	}
	if err := o.logLevel.UnmarshalText([]byte(strings.TrimSpace(*level))); err != nil {
		return o, fmt.Errorf("-log-level %q: want debug, info, warn or error", *level)
	}
	if o.loops < 0 || o.bigFile < 0 || o.handshakeTimeout < 0 || o.maxHandshakes < 0 || o.wsGrace < 0 {
		return o, fmt.Errorf("-loops, -big-file, -tls-handshake-timeout, -tls-max-handshakes and -ws-grace must not be negative")
	}
	if o.upgradeTimeout <= 0 || o.drainTimeout <= 0 {
		return o, fmt.Errorf("-upgrade-timeout and -drain-timeout must be positive")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, fmt.Errorf("-tls-cert and -tls-key go together: give both, or neither")
	}
	if o.tlsSelfSigned && o.tlsCert != "" {
		return o, fmt.Errorf("-tls-self-signed and -tls-cert/-tls-key exclude each other: pick one")
	}
	if err := o.checkFastCGI(o.stdlib); err != nil {
		return o, err
	}
	if o.natsName != "" && o.natsURL == "" {
		return o, fmt.Errorf("-nats-name needs -nats")
	}
	return o, nil
}

// logger builds the demo's logger from the options: text or JSON lines on
// o.logOut, nothing when logOut is nil.
func (o options) logger() *slog.Logger {
	if o.logOut == nil {
		return slog.New(slog.DiscardHandler)
	}
	ho := &slog.HandlerOptions{Level: o.logLevel}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(o.logOut, ho))
	}
	return slog.New(slog.NewTextHandler(o.logOut, ho))
}
