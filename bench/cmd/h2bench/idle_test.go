package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// TestOpenH2 holds h2c connections to net/http's HTTP/2 server, each after one request, and
// fails against an HTTP/1.1-only server and on a wrong body.
func TestOpenH2(t *testing.T) {
	serve := func(h2c bool) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(plaintext))
		})}
		if h2c {
			srv.Protocols = new(http.Protocols)
			srv.Protocols.SetUnencryptedHTTP2(true)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().String()
	}
	ctx := context.Background()
	addr := serve(true)
	conns, err := openH2(ctx, addr, "/plaintext", []byte(plaintext), 20, 4, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 20 {
		t.Errorf("%d connections", len(conns))
	}
	// Still open: a read sees no data and no EOF before its deadline.
	conns[0].SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := conns[0].Read(make([]byte, 64)); n != 0 || err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("idle connection read %d, %v", n, err)
	}
	harness.CloseAll(conns)

	if _, err := openH2(ctx, addr, "/plaintext", []byte("other"), 2, 2, 10*time.Second); err == nil || !strings.Contains(err.Error(), "body") {
		t.Errorf("wrong body: %v", err)
	}
	if _, err := openH2(ctx, serve(false), "/plaintext", []byte(plaintext), 2, 2, 10*time.Second); err == nil {
		t.Error("HTTP/1.1-only server accepted")
	}
}
