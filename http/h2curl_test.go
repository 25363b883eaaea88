package http

// HTTP/2 with curl (issue 15): --http2-prior-knowledge and --http2 (the
// Upgrade: h2c request) in cleartext, --http2 over TLS (ALPN h2); curl's
// %{http_version} must be 2. Skipped without a curl built with HTTP/2.

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// curlHTTP2 reports whether curl is installed with HTTP/2 (nghttp2).
var curlHTTP2 = sync.OnceValues(func() (bool, string) {
	out, err := exec.Command("curl", "--version").Output()
	if err != nil {
		return false, "curl not available: " + err.Error()
	}
	for line := range strings.Lines(string(out)) {
		if f, ok := strings.CutPrefix(line, "Features:"); ok && strings.Contains(" "+f+" ", " HTTP2 ") {
			return true, ""
		}
	}
	return false, "curl has no HTTP2 feature: " + strings.SplitN(string(out), "\n", 2)[0]
})

// h2Curl runs curl with args (the URL among them) and returns the body and
// %{http_version}. It skips the test without a curl that speaks HTTP/2.
func h2Curl(t *testing.T, args ...string) (body []byte, version string) {
	t.Helper()
	needCurlHTTP2(t)
	out := filepath.Join(t.TempDir(), "body")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"-sS", "--max-time", "60", "-o", out, "-w", "%{http_version}"}, args...)
	cmd := exec.CommandContext(ctx, "curl", all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %v: %v: %s", args, err, stderr.String())
	}
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return body, stdout.String()
}

// h2CurlModes is the curl flags of each way to reach HTTP/2: by prior
// knowledge and by Upgrade in cleartext, by ALPN over TLS (-k: curl does
// not check the test certificate).
func h2CurlModes(tlsOn bool) map[string][]string {
	if tlsOn {
		return map[string][]string{"alpn": {"--http2", "-k"}}
	}
	return map[string][]string{"prior knowledge": {"--http2-prior-knowledge"}, "upgrade": {"--http2"}}
}

// h2CurlGet: GET /hello in every mode: version 2, body "hello".
func h2CurlGet(t *testing.T, addr string, tlsOn bool) {
	for name, flags := range h2CurlModes(tlsOn) {
		t.Run(name, func(t *testing.T) {
			body, v := h2Curl(t, append(flags, h2Base(addr, tlsOn)+"/hello")...)
			if v != "2" {
				t.Errorf("http_version %q, want 2", v)
			}
			if !bytes.Equal(body, h2Hello) {
				t.Errorf("body %q, want %q", body, h2Hello)
			}
		})
	}
}

// h2CurlPost: a 1 MiB POST /echo (--data-binary @file) comes back byte for
// byte. With --http2 in cleartext, curl sends the body with its Upgrade
// request, which a server may decline (RFC 9113 deprecates Upgrade, and
// the design declines it for bodies over 64 KiB), so there only the body
// is checked.
func h2CurlPost(t *testing.T, addr string, tlsOn bool) {
	data := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{'c', 'u', 'r', 'l'}).Read(data)
	file := filepath.Join(t.TempDir(), "post.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, flags := range h2CurlModes(tlsOn) {
		t.Run(name, func(t *testing.T) {
			body, v := h2Curl(t, append(flags, "--data-binary", "@"+file, "-H", "Content-Type: application/octet-stream", h2Base(addr, tlsOn)+"/echo")...)
			if v != "2" && name != "upgrade" {
				t.Errorf("http_version %q, want 2", v)
			}
			if !bytes.Equal(body, data) {
				t.Errorf("body: %d bytes, not the %d sent", len(body), len(data))
			}
		})
	}
}

// needCurlHTTP2 skips the test without a curl that speaks HTTP/2.
func needCurlHTTP2(t *testing.T) {
	if ok, why := curlHTTP2(); !ok {
		t.Skip(why)
	}
}

func TestH2CurlGet(t *testing.T)  { needCurlHTTP2(t); h2Modes(t, h2CurlGet) }
func TestH2CurlPost(t *testing.T) { needCurlHTTP2(t); h2Modes(t, h2CurlPost) }
