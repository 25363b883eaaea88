package main

import (
	"context"
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

// checkBackend asks the demo server at addr which backend it runs (the "backend" field of
// /stats.json, at any depth, over HTTP/1.1, which the demo serves beside h2c) and fails when
// it names another one than want. A server that does not say passes here: finalBackend
// checks its final stats line.
func checkBackend(ctx context.Context, addr, want string) error {
	if want == "" {
		return nil
	}
	got, err := reportedBackend(ctx, addr)
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
// want. A server that names none passes for io_uring and fails for epoll.
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
// has none.
func reportedBackend(ctx context.Context, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/stats.json", nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
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
