package main

import (
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/fcgi"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFastCGIFlags(t *testing.T) {
	o, err := parseFlags([]string{"-fastcgi", "unix:/tmp/x.sock", "-fastcgi-pattern", ".cgi"}, io.Discard)
	if err != nil || o.fastcgiAddr != "unix:/tmp/x.sock" || o.fastcgiPattern != ".cgi" {
		t.Fatalf("%+v %v", o.fastcgiOptions, err)
	}
	if o, err := parseFlags(nil, io.Discard); err != nil || o.fastcgiAddr != "" || o.fastcgiPattern != ".php" {
		t.Fatalf("defaults: %+v %v", o.fastcgiOptions, err)
	}
	for _, args := range [][]string{
		{"-fastcgi", "unix:/tmp/x.sock", "-stdlib"},
		{"-fastcgi", "nohostport"},
		{"-fastcgi", "127.0.0.1:9000", "-fastcgi-pattern", "a/b"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestFastCGIDemo runs the demo with -fastcgi in front of a net/http/fcgi
// application: scripts under the root go there, SCRIPT_FILENAME is the
// file under the root, paths cannot escape it, and the counters show.
func TestFastCGIDemo(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "app.php"), []byte("<?php"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "dir.php"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "plain.txt"), []byte("plain\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "app.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		fcgi.Serve(ln, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "script=%s method=%s body=%s", fcgi.ProcessEnv(r)["SCRIPT_FILENAME"], r.Method, body)
		}))
	}()
	defer func() { ln.Close(); <-served }()

	out := &syncBuf{}
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	o := options{addr: "127.0.0.1:0", loops: 1, root: root, fastcgiOptions: fastcgiOptions{fastcgiAddr: "unix:" + sock, fastcgiPattern: ".php"}}
	go func() { done <- run(o, out, stop) }()
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
	abs, _ := filepath.Abs(root)
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/app.php", "", 200, "script=" + filepath.Join(abs, "app.php") + " method=GET body="},
		{"POST", "/app.php?x=1", "hello", 200, "script=" + filepath.Join(abs, "app.php") + " method=POST body=hello"},
		{"GET", "/plain.txt", "", 200, "plain\n"},
		{"GET", "/missing.php", "", 404, ""},
		{"GET", "/dir.php", "", 403, ""},
		{"GET", "/../../etc/passwd.php", "", 0, ""},
		{"GET", "/%2e%2e/x.php", "", 0, ""},
	} {
		req, _ := nethttp.NewRequest(tc.method, "http://"+addr+tc.path, strings.NewReader(tc.body))
		req.URL.Opaque = tc.path // sent as is
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.status == 0 {
			if resp.StatusCode < 400 || resp.StatusCode > 404 {
				t.Errorf("%s: %d, want a refusal", tc.path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != tc.status || tc.want != "" && string(b) != tc.want {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, resp.StatusCode, b)
		}
	}
	for path, want := range map[string]string{"/stats.json": `"fastcgi":{"requests":2,"completed":2`,
		"/metrics": "uringnet_fastcgi_requests_total 2"} {
		resp, err := nethttp.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: no %q in %.2000s", path, want, b)
		}
	}
	nethttp.DefaultClient.CloseIdleConnections()
	stop <- syscall.SIGTERM
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
