package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// TestRun loads a net/http TLS server (session tickets on) for a moment: every connection
// completes with a full handshake, none resumes.
func TestRun(t *testing.T) {
	cert, err := harness.WriteSelfSignedCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	var full, resumed atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.DidResume {
			resumed.Add(1)
		} else {
			full.Add(1)
		}
		if r.URL.Path != "/plaintext" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("Hello, World!"))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-addr", addr, "-conns", "4", "-duration", "300ms"}, &out); err != nil {
		t.Fatal(err)
	}
	kv, err := harness.ParseKV(strings.TrimSpace(out.String()), "TLSLOADRESULT")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := kv.Int("conns")
	if n < 10 || kv["resumed"] != "0" || kv["errors"] != "0" || resumed.Load() != 0 || full.Load() < n {
		t.Errorf("result %q; server saw %d full and %d resumed handshakes", out.String(), full.Load(), resumed.Load())
	}
	// A path the server does not have: no connection completes.
	if err := run(context.Background(), []string{"-addr", addr, "-path", "/nope", "-conns", "2", "-duration", "100ms"}, &out); err == nil ||
		!strings.Contains(err.Error(), "404") {
		t.Errorf("404s: %v", err)
	}
	// Nothing listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	if err := run(context.Background(), []string{"-addr", dead, "-conns", "1", "-duration", "100ms"}, &out); err == nil {
		t.Error("no server: no error")
	}
	if err := run(context.Background(), []string{"-conns", "0"}, &out); err == nil {
		t.Error("-conns 0 accepted")
	}
}
