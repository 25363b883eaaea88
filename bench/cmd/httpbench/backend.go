package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// backendEnv is the environment variable that picks the demo server's backend: "auto",
// "uring" or "epoll".
const backendEnv = "URINGNET_BACKEND"

// The backends as the server names them in its stats.
const (
	uringBackend = "io_uring"
	epollBackend = "epoll"
)

// demoPeer returns the table name and the environment of a uringnet demo peer. The peer
// "uringnet" runs the io_uring backend (URINGNET_BACKEND=uring, so that it fails rather than
// falls back to epoll), "epoll" the epoll backend, and a variant ("uringnet:NAME") its own
// environment after URINGNET_BACKEND=uring, so that it may pick another backend.
func demoPeer(key string, variants []variant) (name string, env []string) {
	env = []string{backendEnv + "=uring"}
	if key == "epoll" {
		return "uringnet (epoll)", []string{backendEnv + "=epoll"}
	}
	vname, ok := strings.CutPrefix(key, "uringnet:")
	if !ok {
		return "uringnet", env
	}
	for _, v := range variants {
		if v.name == vname {
			env = append(env, v.env...)
		}
	}
	return "uringnet (" + vname + ")", env
}

// backendOf returns the backend that env selects (the last URINGNET_BACKEND wins, as in
// os/exec): uringBackend, epollBackend, or "" for auto and anything unknown.
func backendOf(env []string) string {
	want := ""
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k == backendEnv {
			want = normBackend(v)
		}
	}
	return want
}

// normBackend maps the names of a backend to uringBackend or epollBackend ("" when
// unknown or "auto").
func normBackend(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "uring", "io_uring", "iouring", "io-uring":
		return uringBackend
	case "epoll":
		return epollBackend
	}
	return ""
}

// baseURL is "http://addr", or "https://addr" with a TLS client configuration.
func baseURL(addr string, tlsc *tls.Config) string {
	if tlsc != nil {
		return "https://" + addr
	}
	return "http://" + addr
}

// checkBackend asks the demo server at addr which backend it runs (the "backend" field of
// /stats.json, at any depth; over HTTPS with tlsc) and fails when it names another one than want. A server that
// does not say passes here: finalBackend checks its final stats line.
func checkBackend(ctx context.Context, addr, want string, tlsc *tls.Config) error {
	if want == "" {
		return nil
	}
	got, err := reportedBackend(ctx, addr, tlsc)
	if err != nil || got == "" {
		return err
	}
	return backendMismatch(got, want)
}

// finalBackend checks the backend named by a server's final stats line ("stats
// backend=epoll ...") against want.
func finalBackend(stats, want string) error {
	if want == "" {
		return nil
	}
	kv, _ := harness.ParseKV(stats, "stats") // a line that does not parse names no backend
	return backendMismatch(kv["backend"], want)
}

// backendMismatch compares the backend a server names (got; "" when it names none) with
// want. A server that names none passes for io_uring (the demo before the epoll backend
// existed ran nothing else) and fails for epoll.
func backendMismatch(got, want string) error {
	switch {
	case want == "" || normBackend(got) == want, got == "" && want == uringBackend:
		return nil
	case got == "":
		return fmt.Errorf("does not say which backend it runs: %s=%s is not known to work in this tree", backendEnv, want)
	}
	return fmt.Errorf("runs the %q backend, not %s", got, want)
}

// reportedBackend returns the "backend" field of the server's /stats.json, or "" when it
// has none. With tlsc it asks over HTTPS.
func reportedBackend(ctx context.Context, addr string, tlsc *tls.Config) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", baseURL(addr, tlsc)+"/stats.json", nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: tlsc}}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("which backend: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("which backend: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("which backend: GET /stats.json: %s", resp.Status)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("which backend: /stats.json: %w", err)
	}
	return findBackend(v), nil
}

// findBackend returns the first string value of a key named "backend" (any case) in v, a
// decoded JSON value, searched breadth first; "" when there is none.
func findBackend(v any) string {
	queue := []any{v}
	for len(queue) > 0 {
		switch x := queue[0].(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && strings.EqualFold(k, "backend") {
					return s
				}
				queue = append(queue, e)
			}
		case []any:
			queue = append(queue, x...)
		}
		queue = queue[1:]
	}
	return ""
}

// backendNote is the report's sentences on which backend each uringnet peer runs, and what
// the epoll and adapter columns compare; "" without uringnet peers.
func backendNote(peers []*peer) string {
	var uring, epoll, adapter bool
	for _, p := range peers {
		uring = uring || (p.backend == uringBackend && p.key != "adapter")
		epoll = epoll || p.key == "epoll"
		adapter = adapter || p.key == "adapter"
	}
	var s string
	if uring {
		s += " \"uringnet\" is the demo server on its io_uring backend (" + backendEnv + "=uring)."
	}
	if adapter {
		s += " \"" + adapterName + "\" is net/http's peer, bench/nethttp's ServeMux handler for handler, served by " +
			"uringnet's net/http adapter (package stdhttp, example/stdhttpd) on the io_uring backend (" + backendEnv +
			"=uring): uringnet parses and writes, the handlers run on goroutines; \"adapter / peer\" is its throughput " +
			"as a ratio of each server's, and \"CPU/req adapter / peer\" its CPU per request as a ratio of theirs."
	}
	if epoll {
		s += " \"uringnet (epoll)\" is the same demo server on its epoll backend (" + backendEnv + "=epoll: " +
			"non-blocking system calls when epoll says an fd is ready, files with sendfile(2)), a peer of its own, " +
			"alternated with the others; \"epoll / peer\" is its throughput as a ratio of each server's, and " +
			"\"CPU/req epoll / peer\" its CPU per request as a ratio of theirs (below 1 is cheaper)."
	}
	return s
}
