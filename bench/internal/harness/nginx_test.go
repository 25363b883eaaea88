package harness

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNginxConfig(t *testing.T) {
	c := NginxConfig("/tmp/d", "127.0.0.1:8080", "/srv/www")
	for _, want := range []string{
		"worker_processes 1;", "daemon off;", "sendfile on;", "access_log off;",
		"listen 127.0.0.1:8080;", `root "/srv/www";`, `return 200 "Hello, World!";`,
		`pid "/tmp/d/nginx.pid";`, "default_type text/plain;",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %q", want)
		}
	}
	if a := NginxArgs("/d", "/d/c"); strings.Join(a, " ") != "-p /d -c /d/c -e /d/error.log" {
		t.Errorf("NginxArgs = %q", a)
	}
}

// TestNginxServes starts nginx with the configuration and fetches both kinds of path.
func TestNginxServes(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 != nil {
			t.Skip("nginx not installed:", err)
		}
		nginx = "/usr/sbin/nginx"
	}
	// Not t.TempDir: its parent is private, and the workers may run as nobody.
	dir, err := os.MkdirTemp("", "nginx-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	www := filepath.Join(dir, "www")
	writeFile(t, filepath.Join(www, "f.txt"), "file body")
	os.Chmod(www, 0o755)
	addr, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	writeFile(t, conf, NginxConfig(dir, addr, www))
	var g Group
	defer g.KillAll()
	p, err := g.Start(context.Background(), Spec{Name: "nginx", Path: nginx, Args: NginxArgs(dir, conf), ReadyDial: addr})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/plaintext": "Hello, World!", "/f.txt": "file body"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("GET %s = %d %q", path, resp.StatusCode, b)
		}
	}
	if rss, err := RSS(p.Pid(), true); err != nil || rss <= 0 {
		t.Errorf("RSS(nginx tree) = %d, %v", rss, err)
	}
	kids, _ := Children(p.Pid())
	if len(kids) == 0 {
		t.Error("nginx has no worker")
	}
	if _, err := p.Stop(5 * time.Second); err != nil {
		t.Error(err)
	}
	for _, k := range kids {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(k))); err == nil {
			if st, err := readProcStat(k); err == nil && st.PPID == p.Pid() {
				t.Errorf("worker %d still running", k)
			}
		}
	}
}

func TestNginxConfigTLS(t *testing.T) {
	c := NginxConfigTLS("/tmp/d", "127.0.0.1:8443", "/srv/www", "/tmp/d/cert.pem", "/tmp/d/key.pem")
	for _, want := range []string{
		"listen 127.0.0.1:8443 ssl;", `ssl_certificate "/tmp/d/cert.pem";`, `ssl_certificate_key "/tmp/d/key.pem";`,
		"ssl_protocols TLSv1.3;", "ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;", "worker_processes 1;",
		`return 200 "Hello, World!";`,
	} {
		if !strings.Contains(c, want) {
			t.Errorf("TLS config lacks %q", want)
		}
	}
	if plain := NginxConfig("/tmp/d", "127.0.0.1:8080", "/srv/www"); strings.Contains(plain, "ssl") {
		t.Errorf("plain config mentions ssl:\n%s", plain)
	}
}

// TestNginxServesTLS starts nginx with the TLS configuration and a generated certificate
// and checks what a benchmark client negotiates: TLS 1.3, AES-128-GCM, X25519.
func TestNginxServesTLS(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 != nil {
			t.Skip("nginx not installed:", err)
		}
		nginx = "/usr/sbin/nginx"
	}
	dir, err := os.MkdirTemp("", "nginx-tls-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	cert, err := WriteSelfSignedCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	writeFile(t, conf, NginxConfigTLS(dir, addr, dir, cert.CertFile, cert.KeyFile))
	var g Group
	defer g.KillAll()
	if _, err := g.Start(context.Background(), Spec{Name: "nginx", Path: nginx, Args: NginxArgs(dir, conf), ReadyDial: addr}); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: ClientTLS(cert.Pool)}}
	resp, err := client.Get("https://" + addr + "/plaintext")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "Hello, World!" {
		t.Errorf("GET /plaintext = %d %q", resp.StatusCode, b)
	}
	if got := TLSDescription(*resp.TLS); got != "TLS 1.3 TLS_AES_128_GCM_SHA256 X25519" {
		t.Errorf("negotiated %s", got)
	}
	// TLS 1.2 is refused.
	c12 := ClientTLS(cert.Pool)
	c12.MinVersion, c12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	if conn, err := tls.Dial("tcp", addr, c12); err == nil {
		conn.Close()
		t.Error("nginx accepted TLS 1.2")
	}
}

func TestNginxConfigH2(t *testing.T) {
	for _, tc := range []struct {
		on          bool
		want, never string
	}{
		{false, "listen 127.0.0.1:8080 http2;", "http2 on;"},
		{true, "http2 on;", " http2;"},
	} {
		c := NginxConfigH2("/tmp/d", "127.0.0.1:8080", "/srv/www", tc.on)
		if !strings.Contains(c, tc.want) || strings.Contains(c, tc.never) || !strings.Contains(c, "access_log off;") {
			t.Errorf("on=%v: config lacks %q or has %q:\n%s", tc.on, tc.want, tc.never, c)
		}
	}
	if c := NginxConfig("/tmp/d", "127.0.0.1:8080", "/srv/www"); strings.Contains(c, "http2") {
		t.Errorf("HTTP/1.1 config mentions http2:\n%s", c)
	}
}

func TestNginxHTTP2On(t *testing.T) {
	for _, tc := range []struct {
		version string
		on, ok  bool
	}{
		{"nginx version: nginx/1.22.1", false, true},
		{"nginx version: nginx/1.22.1\n", false, true},
		{"nginx version: nginx/1.25.0", false, true},
		{"nginx version: nginx/1.25.1", true, true},
		{"nginx version: nginx/1.26.3 (Ubuntu)", true, true},
		{"nginx version: nginx/1.24", false, true},
		{"nginx version: nginx/2.0.0", true, true},
		{"nginx version: openresty/1.21.4.1", false, false},
		{"nginx version: nginx/x.y", false, false},
		{"", false, false},
	} {
		on, ok := NginxHTTP2On(tc.version)
		if on != tc.on || ok != tc.ok {
			t.Errorf("NginxHTTP2On(%q) = %v, %v; want %v, %v", tc.version, on, ok, tc.on, tc.ok)
		}
	}
}
