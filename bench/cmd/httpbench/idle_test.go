package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func TestOpenKeepAlive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plaintext":
			w.Write([]byte(plaintext))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte(plaintext))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	conns, err := openKeepAlive(ctx, addr, "/plaintext", 20, 4, 10*time.Second, nil)
	if err != nil || len(conns) != 20 {
		t.Fatalf("openKeepAlive = %d, %v", len(conns), err)
	}
	// Each connection is still usable: it was kept alive.
	if err := requestOnce(conns[7], "/plaintext"); err != nil {
		t.Errorf("second request: %v", err)
	}
	harness.CloseAll(conns)
	for path, want := range map[string]string{"/missing": "404", "/close": "closes the connection"} {
		if _, err := openKeepAlive(ctx, addr, path, 3, 2, 10*time.Second, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := openKeepAlive(ctx, addr, "/plaintext", 1, 0, time.Second, nil); err == nil {
		t.Error("parallel 0 accepted")
	}
}

func TestIdleTable(t *testing.T) {
	peers := []*peer{{key: "uringnet", name: "uringnet"}, {key: "epoll", name: "uringnet (epoll)"}, {key: "nginx", name: "nginx"}}
	res := map[string]harness.IdleResult{
		"uringnet": {Before: 10 << 20, After: 12 << 20},
		"epoll":    {Err: errors.New("boom")},
	}
	md := idleTable(peers, 1024, res).Markdown()
	for _, want := range []string{"| uringnet ", "|       1024 |           10.0 |          12.0 |         2.00 |",
		"uringnet (epoll) (failed, see below)"} {
		if !strings.Contains(md, want) {
			t.Errorf("idle table lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "nginx") {
		t.Errorf("a peer without a result has a row:\n%s", md)
	}
}
