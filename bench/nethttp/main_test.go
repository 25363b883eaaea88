package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// TestRun serves the three kinds of path, then stops on SIGINT as the harness does.
func TestRun(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "f.txt"), []byte("file"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	done := make(chan error, 1)
	go func() { done <- run(addr, root, "", "", false) }()
	get := func(path string) string {
		_, b := getRetry(t, http.DefaultClient, "http://"+addr+path)
		return b
	}
	for path, want := range map[string]string{"/plaintext": "Hello, World!", "/json": `{"message":"Hello, World!"}`, "/f.txt": "file"} {
		if got := get(path); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}
	stopRun(t, done)
	if err := run("256.0.0.1:1", root, "", "", false); err == nil {
		t.Error("bad address accepted")
	}
}

// TestRunTLS serves HTTPS with a generated certificate, TLS 1.3 only, and sessions resume.
func TestRunTLS(t *testing.T) {
	root := t.TempDir()
	cert, err := harness.WriteSelfSignedCert(root)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run(addr, root, cert.CertFile, cert.KeyFile, false) }()
	cfg := harness.ClientTLS(cert.Pool)
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	for i := 0; ; i++ {
		resp, b := getRetry(t, client, "https://"+addr+"/plaintext")
		if b != "Hello, World!" || resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
			t.Errorf("GET /plaintext = %q over %v", b, resp.TLS)
		}
		if i > 0 || resp.TLS.DidResume {
			break // the next request resumes
		}
	}
	c12 := harness.ClientTLS(cert.Pool)
	c12.MinVersion, c12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	if c, err := tls.Dial("tcp", addr, c12); err == nil {
		c.Close()
		t.Error("TLS 1.2 accepted")
	}
	stopRun(t, done)
	if err := run(addr, root, cert.CertFile, "", false); err == nil {
		t.Error("-tls-cert without -tls-key accepted")
	}
}

// TestRunH2C serves HTTP/2 by prior knowledge with -h2c, and HTTP/1.1 beside it.
func TestRunH2C(t *testing.T) {
	root := t.TempDir()
	addr, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run(addr, root, "", "", true) }()
	var h2 http.Protocols
	h2.SetUnencryptedHTTP2(true)
	for _, tc := range []struct {
		name  string
		tr    *http.Transport
		major int
	}{
		{"h2c", &http.Transport{Protocols: &h2}, 2},
		{"http/1.1", &http.Transport{}, 1},
	} {
		resp, b := getRetry(t, &http.Client{Transport: tc.tr}, "http://"+addr+"/plaintext")
		if b != "Hello, World!" || resp.ProtoMajor != tc.major {
			t.Errorf("%s: GET /plaintext = %q over %s", tc.name, b, resp.Proto)
		}
		tc.tr.CloseIdleConnections()
	}
	stopRun(t, done)
	if err := run(addr, root, "x.pem", "y.pem", true); err == nil {
		t.Error("-h2c with -tls-cert accepted")
	}
}

// getRetry GETs url with client, retrying for about 2 s while the server starts, and
// returns the response with its body read.
func getRetry(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := client.Get(url)
		if err != nil {
			if i == 100 {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
}

// stopRun sends SIGINT, as the harness does, and waits for run to return its error on done.
func stopRun(t *testing.T, done <-chan error) {
	t.Helper()
	syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop on SIGINT")
	}
}
