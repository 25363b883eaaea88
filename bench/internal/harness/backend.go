package harness

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// BackendEnv is the environment variable that picks the uringnet demo server's backend:
// "auto", "uring" or "epoll".
const BackendEnv = "URINGNET_BACKEND"

// The backends as the demo server names them in its stats.
const (
	UringBackend = "io_uring"
	EpollBackend = "epoll"
)

// NormBackend maps the names of a backend to UringBackend or EpollBackend ("" when unknown
// or "auto").
func NormBackend(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "uring", "io_uring", "iouring", "io-uring":
		return UringBackend
	case "epoll":
		return EpollBackend
	}
	return ""
}

// BaseURL is "http://addr", or "https://addr" with a TLS client configuration.
func BaseURL(addr string, tlsc *tls.Config) string {
	if tlsc != nil {
		return "https://" + addr
	}
	return "http://" + addr
}

// CheckBackend asks the demo server at addr which backend it runs (the "backend" field of
// /stats.json, at any depth, over HTTP/1.1; over HTTPS with tlsc) and fails when it names
// another one than want. A server that does not say passes here: FinalBackend checks its
// final stats line.
func CheckBackend(ctx context.Context, addr, want string, tlsc *tls.Config) error {
	if want == "" {
		return nil
	}
	got, err := ReportedBackend(ctx, addr, tlsc)
	if err != nil || got == "" {
		return err
	}
	return BackendMismatch(got, want)
}

// FinalBackend checks the backend named by a server's final stats line ("stats
// backend=epoll ...") against want.
func FinalBackend(stats, want string) error {
	if want == "" {
		return nil
	}
	kv, _ := ParseKV(stats, "stats") // a line that does not parse names no backend
	return BackendMismatch(kv["backend"], want)
}

// BackendMismatch compares the backend a server names (got; "" when it names none) with
// want. A server that names none passes for io_uring (the demo before the epoll backend
// existed ran nothing else) and fails for epoll.
func BackendMismatch(got, want string) error {
	switch {
	case want == "" || NormBackend(got) == want, got == "" && want == UringBackend:
		return nil
	case got == "":
		return fmt.Errorf("does not say which backend it runs: %s=%s is not known to work in this tree", BackendEnv, want)
	}
	return fmt.Errorf("runs the %q backend, not %s", got, want)
}

// ReportedBackend returns the "backend" field of the server's /stats.json, or "" when it
// has none. With tlsc it asks over HTTPS.
func ReportedBackend(ctx context.Context, addr string, tlsc *tls.Config) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", BaseURL(addr, tlsc)+"/stats.json", nil)
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
	return FindBackend(v), nil
}

// FindBackend returns the first string value of a key named "backend" (any case) in v, a
// decoded JSON value, searched breadth first; "" when there is none.
func FindBackend(v any) string {
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
