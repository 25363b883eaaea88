package fastcgi

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const fcgiwrapPath = "/usr/sbin/fcgiwrap"

// startFcgiwrap runs fcgiwrap (4 processes, STDERR over FastCGI) on a
// unix socket or 127.0.0.1:port, and kills its process group at cleanup.
func startFcgiwrap(t *testing.T, network string) string {
	t.Helper()
	if _, err := os.Stat(fcgiwrapPath); err != nil {
		t.Skipf("fcgiwrap not installed (%s): %v", fcgiwrapPath, err)
	}
	var sock, addr string
	if network == "unix" {
		p := filepath.Join(t.TempDir(), "fcgiwrap.sock")
		sock, addr = "unix:"+p, "unix:"+p
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
		sock = "tcp:" + addr
	}
	cmd := exec.Command(fcgiwrapPath, "-c", "4", "-f", "-s", sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	network, address, _ := strings.Cut(sock, ":")
	waitFor(t, "fcgiwrap to listen", func() bool {
		c, err := net.Dial(network, address)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}

func scriptDir(t *testing.T) string {
	d, err := filepath.Abs("testdata/cgi")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFcgiwrap(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			addr := startFcgiwrap(t, network)
			f, base := startFront(t, Config{Addr: addr, MaxConns: 2}, 1, scriptDir(t))
			hc := newHTTPClient(t)
			for range 5 {
				resp, b := get(t, hc, base+"/fcgi/hello.sh")
				if resp.StatusCode != 200 || string(b) != "hello from GET\n" || resp.Header.Get("Content-Type") != "text/plain" {
					t.Fatalf("hello: %d %q %v", resp.StatusCode, b, resp.Header)
				}
			}
			req, _ := nethttp.NewRequest("POST", base+"/fcgi/env.sh/more/path?x=1&y=2", strings.NewReader("abc"))
			req.Header.Set("X-Test", "fcgiwrap")
			req.Header.Set("Content-Type", "text/x-test")
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{"REQUEST_METHOD=POST\n", "QUERY_STRING=x=1&y=2\n", "SCRIPT_NAME=/fcgi/env.sh\n",
				"PATH_INFO=/more/path\n", "CONTENT_LENGTH=3\n", "CONTENT_TYPE=text/x-test\n", "HTTP_X_TEST=fcgiwrap\n",
				"GATEWAY_INTERFACE=CGI/1.1\n"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("env: no %q in %q", want, b)
				}
			}
			// A body under the pipe buffers, echoed; a large one summed.
			body := pattern(40<<10, 9)
			resp, err = hc.Post(base+"/fcgi/echo.sh", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(b, body) {
				t.Errorf("echo: %d, %d bytes back of %d", resp.StatusCode, len(b), len(body))
			}
			big := pattern(8<<20, 5)
			resp, err = hc.Post(base+"/fcgi/sum.sh", "application/octet-stream", bytes.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("%x\n", sha256.Sum256(big)); resp.StatusCode != 200 || string(b) != want {
				t.Errorf("sum: %d %q, want %q", resp.StatusCode, b, want)
			}
			resp, b = get(t, hc, base+"/fcgi/status.sh")
			if resp.StatusCode != 404 || string(b) != "no such thing\n" || resp.Header.Get("X-Script") != "status" {
				t.Errorf("status: %d %q %v", resp.StatusCode, b, resp.Header)
			}
			noRedirect := *hc
			noRedirect.CheckRedirect = func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }
			resp, _ = get(t, &noRedirect, base+"/fcgi/redirect.sh")
			if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://example.com/there" {
				t.Errorf("redirect: %d %v", resp.StatusCode, resp.Header)
			}
			resp, b = get(t, hc, base+"/fcgi/stderr.sh")
			if resp.StatusCode != 200 || string(b) != "ok\n" {
				t.Errorf("stderr: %d %q", resp.StatusCode, b)
			}
			if st := f.cl.Stats(); st.StderrBytes == 0 || st.Reused == 0 || st.Connects > 2 {
				t.Errorf("stats %+v", st)
			}
			// A script that does not exist: fcgiwrap's own 404.
			resp, _ = get(t, hc, base+"/fcgi/missing.sh")
			if resp.StatusCode != 404 && resp.StatusCode != 403 {
				t.Errorf("missing: %d", resp.StatusCode)
			}
			_ = time.Second
		})
	}
}
