package main

import (
	"bufio"
	"io"
	nethttp "net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// finalStats matches the demo's last line: its stats, the backend among
// them.
var finalStats = regexp.MustCompile(`^stats conns_open=0 .* backend=(io_uring|epoll)( |$)`)

// syncBuf is a goroutine-safe output.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDemo(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) { testDemo(t, mode.stdlib) })
	}
}

func testDemo(t *testing.T, stdlib bool) {
	out := &syncBuf{}
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(options{addr: "127.0.0.1:0", loops: 1, bigFile: 1 << 20, stdlib: stdlib}, out, stop)
	}()
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			addr = strings.TrimPrefix(line, "listening on ")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if addr == "" {
		t.Fatal("no listening line")
	}
	for _, tc := range []struct{ method, path, body, want, ctype string }{
		{"GET", "/plaintext", "", "Hello, World!", "text/plain"},
		{"GET", "/json", "", `{"message":"Hello, World!"}`, "application/json"},
		{"POST", "/echo", "ping", "ping", ""},
		{"GET", "/style.css", "", "body { font-family: sans-serif; margin: 2em; }\n", "text/css; charset=utf-8"},
	} {
		req, _ := nethttp.NewRequest(tc.method, "http://"+addr+tc.path, strings.NewReader(tc.body))
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != tc.want || tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Fatalf("%s %s: %d %q %v", tc.method, tc.path, resp.StatusCode, b, resp.Header)
		}
	}
	resp, err := nethttp.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "<h1>uringnet</h1>") {
		t.Fatalf("index: %q", b)
	}
	nethttp.DefaultClient.CloseIdleConnections()
	stop <- syscall.SIGTERM
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	var last string
	for sc.Scan() {
		last = sc.Text()
	}
	if !finalStats.MatchString(last) || !strings.Contains(last, " requests=5") {
		t.Fatalf("stats line %q", last)
	}
}
