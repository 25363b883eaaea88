// Command stdhttpd is the benchmark server of uringnet's net/http adapter
// (package stdhttp): the net/http.ServeMux of bench/nethttp, handler for
// handler, served by stdhttp on uringnet's HTTP server instead of net/http's.
// /plaintext answers "Hello, World!" as text/plain, /json answers
// {"message":"Hello, World!"}, every other path is a file under -root
// (http.FileServer); /stats.json names the backend the server runs, for the
// harness's check.
//
//	go run ./example/stdhttpd -addr 127.0.0.1:8082 -root DIR [-loops N] [-cpuprofile FILE] [-tls-cert FILE -tls-key FILE] [-http2=false]
//
// With -tls-cert and -tls-key (PEM files) it serves HTTPS, TLS 1.3 only,
// as bench/nethttp does with the same flags: stdhttp.Server's TLSConfig
// holds the pair (uringnet's TLS on the loops). It offers h2 then
// http/1.1 by ALPN, as net/http's server does, and serves h2c on a plain
// port; -http2=false serves HTTP/1.1 only.
//
// It prints "listening on ADDR" once every loop serves and, on SIGINT or
// SIGTERM, shuts down gracefully and prints one "stats ..." line (the
// netserver counters, backend included, then requests=N, the requests
// the server parsed, and handled=N, those the mux's handlers served), then
// exits 0. No tuning beyond bench/nethttp's: the point is
// the same handlers on another server.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/stdhttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	root := flag.String("root", ".", "directory served for paths other than /plaintext and /json")
	loops := flag.Int("loops", 0, "event loops (default GOMAXPROCS)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	certFile := flag.String("tls-cert", "", "serve HTTPS with this PEM certificate (with -tls-key)")
	keyFile := flag.String("tls-key", "", "the PEM private key of -tls-cert")
	http2 := flag.Bool("http2", true, "serve HTTP/2 (h2 by ALPN, h2c); false: HTTP/1.1 only")
	flag.Parse()
	tlsc, err := tlsConfig(*certFile, *keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdhttpd:", err)
		os.Exit(2)
	}
	if tlsc != nil && !*http2 {
		tlsc.NextProtos = []string{"http/1.1"}
	}
	h2 := uhttp.HTTP2Config{Disable: !*http2}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	err = profiled(*cpuprofile, func() error { return run(*addr, *root, *loops, tlsc, h2, os.Stdout, sig) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdhttpd:", err)
		os.Exit(1)
	}
}

// tlsConfig returns the server's TLS configuration for -tls-cert and
// -tls-key: nil when both are empty (plain HTTP), else TLS 1.3 only with
// the pair, offering h2 then http/1.1 by ALPN.
func tlsConfig(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13, NextProtos: []string{"h2", "http/1.1"}}, nil
}

// profiled runs f under a CPU profile written to path ("" runs f alone).
func profiled(path string, f func() error) error {
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	err = f()
	pprof.StopCPUProfile()
	if cerr := out.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("cpu profile: %w", cerr)
	}
	return err
}

// newMux returns bench/nethttp's ServeMux: the same routes and handlers,
// each counting the requests it serves in requests.
func newMux(root string, requests *atomic.Int64) *http.ServeMux {
	files := http.FileServer(http.Dir(root))
	mux := http.NewServeMux()
	mux.HandleFunc("/plaintext", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello, World!"))
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"message":"Hello, World!"}`))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		files.ServeHTTP(w, r)
	})
	return mux
}

// run serves until stop delivers a signal, HTTPS with tlsc when it is not
// nil, HTTP/2 as h2 says; out gets the "listening on" and "stats" lines.
func run(addr, root string, loops int, tlsc *tls.Config, h2 uhttp.HTTP2Config, out io.Writer, stop <-chan os.Signal) error {
	var requests atomic.Int64
	mux := newMux(root, &requests)
	srv := &stdhttp.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         tlsc,
		Native: uhttp.Config{Net: netserver.Config{Addrs: []string{addr}, Loops: loops},
			HTTP2: h2},
	}
	if err := srv.Listen(); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Not part of bench/nethttp's mux: the harness asks which backend runs.
	mux.HandleFunc("/stats.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"backend": srv.Uringnet().Net().Backend()})
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	// Announce the server only once every loop serves: where it cannot
	// (io_uring refused with URINGNET_BACKEND=uring, say), Serve fails
	// first and nothing claims to be listening.
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-srv.Ready():
	}
	fmt.Fprintf(out, "listening on %s\n", srv.BoundAddr())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	ns := srv.Uringnet()
	fmt.Fprintf(out, "stats %s requests=%d handled=%d\n", ns.Stats(), ns.Requests(), requests.Load())
	return nil
}
