package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func TestDemoPeer(t *testing.T) {
	vs := []variant{{name: "direct", env: []string{"URINGNET_SENDFILE=direct"}}, {name: "ep", env: []string{"URINGNET_BACKEND=epoll"}}}
	for _, tc := range []struct {
		key, name, backend string
		env                []string
	}{
		{"uringnet", "uringnet", harness.UringBackend, []string{"URINGNET_BACKEND=uring"}},
		{"epoll", "uringnet (epoll)", harness.EpollBackend, []string{"URINGNET_BACKEND=epoll"}},
		{"uringnet:direct", "uringnet (direct)", harness.UringBackend, []string{"URINGNET_BACKEND=uring", "URINGNET_SENDFILE=direct"}},
		{"uringnet:ep", "uringnet (ep)", harness.EpollBackend, []string{"URINGNET_BACKEND=uring", "URINGNET_BACKEND=epoll"}},
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

func TestBackendNote(t *testing.T) {
	peers := []*peer{{key: "uringnet", backend: harness.UringBackend}, {key: "epoll", backend: harness.EpollBackend}}
	if n := backendNote(peers); !strings.Contains(n, "URINGNET_BACKEND=uring") || !strings.Contains(n, "\"epoll / peer\"") {
		t.Errorf("note %q", n)
	}
	if n := backendNote([]*peer{{key: "nginx"}}); n != "" {
		t.Errorf("note without uringnet %q", n)
	}
}
