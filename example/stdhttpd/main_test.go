package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/internal/testcert"
)

// TestRun serves /plaintext, /json and a file through the adapter, pipelined
// requests included, then stops as the harness stops it and prints its stats.
func TestRun(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f.txt"), []byte("file"), 0o644); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		err := run("127.0.0.1:0", root, 1, nil, uhttp.HTTP2Config{}, pw, stop)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	lines := bufio.NewScanner(pr)
	var addr string
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatalf("no listening line: %v", <-done)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for path, want := range map[string]string{"/plaintext": "Hello, World!", "/json": `{"message":"Hello, World!"}`, "/f.txt": "file"} {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(b) != want {
			t.Errorf("GET %s = %d %q, %v; want 200 %q", path, resp.StatusCode, b, err, want)
		}
		if path == "/plaintext" && resp.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("GET /plaintext: Content-Type %q", resp.Header.Get("Content-Type"))
		}
	}
	// Pipelined, as the benchmark's x16 scenario sends them: answers in order.
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	const n = 16
	if _, err := io.WriteString(c, strings.Repeat("GET /plaintext HTTP/1.1\r\nHost: b\r\n\r\n", n-1)+
		"GET /json HTTP/1.1\r\nHost: b\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("pipelined response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "Hello, World!"
		if i == n-1 {
			want = `{"message":"Hello, World!"}`
		}
		if string(b) != want {
			t.Errorf("pipelined response %d = %q, want %q", i, b, want)
		}
	}
	resp, err := client.Get("http://" + addr + "/stats.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"backend":`) {
		t.Errorf("/stats.json = %s", b)
	}
	stop <- syscall.SIGINT
	var stats string
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "stats ") {
			stats = lines.Text()
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stats, " backend=") || !strings.Contains(stats, " handled=19") {
		t.Errorf("stats line %q", stats)
	}
	if err := run("256.0.0.1:1", root, 1, nil, uhttp.HTTP2Config{}, io.Discard, stop); err == nil {
		t.Error("bad address accepted")
	}
}

func TestProfiled(t *testing.T) {
	boom := errors.New("boom")
	if err := profiled("", func() error { return boom }); err != boom {
		t.Errorf("no profile: %v", err)
	}
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	if err := profiled(path, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("profile: %v, %v", st, err)
	}
	ran := false
	if err := profiled(filepath.Join(t.TempDir(), "no", "such", "dir"), func() error { ran = true; return nil }); err == nil || ran {
		t.Errorf("bad path: %v, ran %v", err, ran)
	}
}

// TestRunTLS serves HTTPS with -tls-cert and -tls-key: TLS 1.3 only, the
// handlers' responses unchanged.
func TestRunTLS(t *testing.T) {
	if _, err := tlsConfig("x", ""); err == nil {
		t.Error("-tls-cert without -tls-key accepted")
	}
	if c, err := tlsConfig("", ""); c != nil || err != nil {
		t.Errorf("no flags: %v, %v", c, err)
	}
	dir := t.TempDir()
	pair, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pair.CertPEM, 0o600)
	os.WriteFile(keyFile, pair.KeyPEM, 0o600)
	if _, err := tlsConfig(certFile, filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing key accepted")
	}
	tlsc, err := tlsConfig(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		err := run("127.0.0.1:0", dir, 1, tlsc, uhttp.HTTP2Config{}, pw, stop)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	lines := bufio.NewScanner(pr)
	var addr string
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatalf("no listening line: %v", <-done)
	}
	go io.Copy(io.Discard, pr)
	cc := pair.ClientConfig()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cc}}
	resp, err := client.Get("https://" + addr + "/plaintext")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "Hello, World!" || resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("GET /plaintext = %d %q over %+v", resp.StatusCode, b, resp.TLS)
	}
	// h2 by ALPN for a client that offers it.
	h2c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cc.Clone(), ForceAttemptHTTP2: true}}
	if resp, err := h2c.Get("https://" + addr + "/json"); err != nil {
		t.Error(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
			t.Errorf("GET /json with h2 offered: %d over %s, want HTTP/2", resp.StatusCode, resp.Proto)
		}
	}
	h2c.CloseIdleConnections()
	c12 := cc.Clone()
	c12.MaxVersion = tls.VersionTLS12
	if c, err := tls.Dial("tcp", addr, c12); err == nil {
		c.Close()
		t.Error("TLS 1.2 accepted")
	}
	stop <- syscall.SIGINT
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
