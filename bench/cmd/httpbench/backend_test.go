package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestDemoPeer(t *testing.T) {
	vs := []variant{{name: "direct", env: []string{"URINGNET_SENDFILE=direct"}}, {name: "ep", env: []string{"URINGNET_BACKEND=epoll"}}}
	for _, tc := range []struct {
		key, name, backend string
		env                []string
	}{
		{"uringnet", "uringnet", uringBackend, []string{"URINGNET_BACKEND=uring"}},
		{"epoll", "uringnet (epoll)", epollBackend, []string{"URINGNET_BACKEND=epoll"}},
		{"uringnet:direct", "uringnet (direct)", uringBackend, []string{"URINGNET_BACKEND=uring", "URINGNET_SENDFILE=direct"}},
		{"uringnet:ep", "uringnet (ep)", epollBackend, []string{"URINGNET_BACKEND=uring", "URINGNET_BACKEND=epoll"}},
	} {
		name, env := demoPeer(tc.key, vs)
		if name != tc.name || !slices.Equal(env, tc.env) || backendOf(env) != tc.backend {
			t.Errorf("demoPeer(%q) = %q, %q (backend %q)", tc.key, name, env, backendOf(env))
		}
	}
	if b := backendOf([]string{"URINGNET_BACKEND=auto"}); b != "" {
		t.Errorf("auto: %q", b)
	}
}

func TestFindBackend(t *testing.T) {
	for js, want := range map[string]string{
		`{"backend":"epoll"}`:                       "epoll",
		`{"net":{"Backend":"io_uring"},"x":[1]}`:    "io_uring",
		`[{"a":1},{"loops":[{"backend":"uring"}]}]`: "uring",
		`{"backend":3}`:                             "",
		`{}`:                                        "",
		`"backend"`:                                 "",
	} {
		var v any
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			t.Fatal(err)
		}
		if got := findBackend(v); got != want {
			t.Errorf("findBackend(%s) = %q, want %q", js, got, want)
		}
	}
}

func TestCheckBackend(t *testing.T) {
	body := `{"requests":1}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stats.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	for _, tc := range []struct {
		body, want string
		ok         bool
	}{
		{`{"requests":1}`, uringBackend, true}, // silent: left to finalBackend
		{`{"requests":1}`, epollBackend, true},
		{`{"requests":1}`, "", true},
		{`{"backend":"epoll"}`, epollBackend, true},
		{`{"backend":"epoll"}`, uringBackend, false},
		{`{"backend":"io_uring"}`, uringBackend, true},
		{`{"backend":"io_uring"}`, epollBackend, false},
		{`not json`, uringBackend, false},
	} {
		body = tc.body
		if err := checkBackend(ctx, addr, tc.want, nil); (err == nil) != tc.ok {
			t.Errorf("%s, want %q: %v", tc.body, tc.want, err)
		}
	}
	srv.Close()
	if err := checkBackend(ctx, addr, uringBackend, nil); err == nil {
		t.Error("closed server passed")
	}
}

func TestBackendNote(t *testing.T) {
	peers := []*peer{{key: "uringnet", backend: uringBackend}, {key: "epoll", backend: epollBackend}}
	if n := backendNote(peers); !strings.Contains(n, "URINGNET_BACKEND=uring") || !strings.Contains(n, "\"epoll / peer\"") {
		t.Errorf("note %q", n)
	}
	if n := backendNote([]*peer{{key: "nginx"}}); n != "" {
		t.Errorf("note without uringnet %q", n)
	}
}

func TestFinalBackend(t *testing.T) {
	for _, tc := range []struct {
		stats, want string
		ok          bool
	}{
		{"stats conns_open=0 requests=5", uringBackend, true}, // a demo from before the epoll backend
		{"stats conns_open=0 requests=5", epollBackend, false},
		{"", epollBackend, false},
		{"", "", true},
		{"stats backend=epoll conns_open=0", epollBackend, true},
		{"stats backend=epoll conns_open=0", uringBackend, false},
		{"stats backend=io_uring conns_open=0", uringBackend, true},
		{"stats backend=io_uring conns_open=0", epollBackend, false},
		{"stats accepted=3 requests=9", "", true}, // net/http
	} {
		if err := finalBackend(tc.stats, tc.want); (err == nil) != tc.ok {
			t.Errorf("%q, want %q: %v", tc.stats, tc.want, err)
		}
	}
}
