package cgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// app is the test's HTTPHandler: requests under the prefix go to the CGI
// handler, /plain is answered directly, others get 404.
type app struct {
	http.NopHTTPHandler
	srv *http.Server
	cgi *Handler
}

func (a *app) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	switch {
	case a.cgi.Match(req.Path):
		a.cgi.Serve(req, c)
	case string(req.Path) == "/elsewhere":
		a.srv.Respond(c, 200, "text/plain", []byte("elsewhere "+string(req.Query)))
	default:
		a.srv.RespondError(c, 404)
	}
}

func (a *app) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	if a.cgi.Handles(c) {
		a.cgi.HTTPBody(data, c, last)
	}
}

func (a *app) HTTPWrite(data []byte, c netserver.ClientNum, failed bool) {
	if a.cgi.Handles(c) {
		a.cgi.HTTPWrite(data, c, failed)
	}
}

func (a *app) HTTPClose(c netserver.ClientNum) { a.cgi.HTTPClose(c) }

// syncBuffer collects log output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a running server with a CGI handler over testdata/bin.
type harness struct {
	t    *testing.T
	srv  *http.Server
	cgi  *Handler
	url  string
	logs *syncBuffer
	cl   *nethttp.Client
}

// binDir returns the absolute path of testdata/bin. It skips the test where
// the scripts cannot run: the old-kernel VM's guest holds only the static test
// binaries, with no testdata, no /bin/sh and no python3.
func binDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Skipf("the test scripts are not here: %v", err)
	}
	for _, prog := range []string{"sh", "env", "python3"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("the test scripts need %s: %v", prog, err)
		}
	}
	return d
}

// startServer starts a server; mod adjusts the CGI config.
func startServer(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	a := &app{}
	srv, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2, Logger: log},
		Limits: http.Limits{MaxBodyBytes: 1 << 30}}, a)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dir: binDir(t), Timeout: 20 * time.Second, Logger: log}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.srv, a.cgi = srv, h
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	<-srv.Ready()
	hs := &harness{t: t, srv: srv, cgi: h, url: "http://" + srv.Addr().String(), logs: logs,
		cl: &nethttp.Client{Timeout: 60 * time.Second, Transport: &nethttp.Transport{DisableCompression: true, MaxIdleConnsPerHost: 100},
			CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}}
	t.Cleanup(func() {
		hs.cl.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, netserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if n := h.Stats().Running; n != 0 {
			t.Errorf("%d scripts still running after Close", n)
		}
	})
	return hs
}

// get fetches path and returns the response with its body read.
func (hs *harness) get(path string) (*nethttp.Response, string) {
	hs.t.Helper()
	resp, err := hs.cl.Get(hs.url + path)
	if err != nil {
		hs.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		hs.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp, string(b)
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parseEnv turns env output into a map.
func parseEnv(body string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

// children returns the pids of the live (non-zombie) children and the
// zombie children of this process.
func children(t *testing.T) (live, zombies []int) {
	t.Helper()
	me := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if ppid != me {
			continue
		}
		if f[0] == "Z" {
			zombies = append(zombies, pid)
		} else {
			live = append(live, pid)
		}
	}
	return live, zombies
}

// fdCount returns the number of open fds of this process.
func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// checkClean waits until no child of ours is left, live or zombie, and the
// fd count is back to at most base.
func checkClean(t *testing.T, h *Handler, baseFDs int) {
	t.Helper()
	waitFor(t, "the scripts to be reaped", func() bool { return h.Stats().Running == 0 })
	waitFor(t, "no child processes", func() bool {
		live, zombies := children(t)
		return len(live) == 0 && len(zombies) == 0
	})
	waitFor(t, "the fds to be closed", func() bool { return fdCount(t) <= baseFDs })
}
