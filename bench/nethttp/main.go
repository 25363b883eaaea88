package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	root := flag.String("root", ".", "directory served for paths other than /plaintext and /json")
	certFile := flag.String("tls-cert", "", "serve HTTPS with this PEM certificate (with -tls-key)")
	keyFile := flag.String("tls-key", "", "the PEM private key of -tls-cert")
	h2c := flag.Bool("h2c", false, "also serve HTTP/2 in cleartext (prior knowledge) beside HTTP/1.1: net/http's own HTTP/2 "+
		"(http.Server.Protocols with UnencryptedHTTP2)")
	flag.Parse()
	if err := run(*addr, *root, *certFile, *keyFile, *h2c); err != nil {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
}

// run serves until SIGINT or SIGTERM: HTTPS (ListenAndServeTLS's way, TLS 1.3 only) when
// certFile and keyFile are set, plain HTTP otherwise. With h2c, plain HTTP is HTTP/1.1 and
// HTTP/2 by prior knowledge (net/http's HTTP/2 server, as x/net/http2/h2c wraps it).
func run(addr, root, certFile, keyFile string, h2c bool) error {
	if (certFile == "") != (keyFile == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if h2c && certFile != "" {
		return errors.New("-h2c is for plain HTTP, not with -tls-cert")
	}
	var accepted, requests, resumed atomic.Int64
	count := func(r *http.Request) {
		requests.Add(1)
		if r.TLS != nil && r.TLS.DidResume {
			resumed.Add(1)
		}
	}
	files := http.FileServer(http.Dir(root))
	mux := http.NewServeMux()
	mux.HandleFunc("/plaintext", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello, World!"))
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"message":"Hello, World!"}`))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		files.ServeHTTP(w, r)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				accepted.Add(1)
			}
		},
	}
	if h2c {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	})
	fmt.Printf("nethttp listening on %s\n", ln.Addr())
	if certFile != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS13}
		err = srv.ServeTLS(ln, certFile, keyFile)
		fmt.Printf("stats accepted=%d requests=%d resumed=%d\n", accepted.Load(), requests.Load(), resumed.Load())
	} else {
		err = srv.Serve(ln)
		fmt.Printf("stats accepted=%d requests=%d\n", accepted.Load(), requests.Load())
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
