package cgi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestEnv checks the environment a script gets, field by field.
func TestEnv(t *testing.T) {
	hs := startServer(t, func(c *Config) { c.Env = []string{"EXTRA=1"} })
	req, _ := nethttp.NewRequest("POST", hs.url+"/cgi-bin/env.sh/some/info?a=1&b=%20", strings.NewReader("hello"))
	req.Header.Set("Content-Type", "text/x-test")
	req.Header.Set("Proxy", "http://evil:1")
	req.Header.Set("X-Custom-Thing", "v1")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	resp, err := hs.cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	env := parseEnv(string(body))
	_, port, _ := net.SplitHostPort(hs.srv.Addr().String())
	dir := binDir(t)
	want := map[string]string{
		"GATEWAY_INTERFACE":   "CGI/1.1",
		"SERVER_SOFTWARE":     ServerSoftware,
		"SERVER_NAME":         "127.0.0.1",
		"SERVER_PORT":         port,
		"SERVER_PROTOCOL":     "HTTP/1.1",
		"REQUEST_METHOD":      "POST",
		"REQUEST_URI":         "/cgi-bin/env.sh/some/info?a=1&b=%20",
		"SCRIPT_NAME":         "/cgi-bin/env.sh",
		"PATH_INFO":           "/some/info",
		"PATH_TRANSLATED":     filepath.Join(dir, "some/info"),
		"SCRIPT_FILENAME":     filepath.Join(dir, "env.sh"),
		"DOCUMENT_ROOT":       dir,
		"QUERY_STRING":        "a=1&b=%20",
		"REMOTE_ADDR":         "127.0.0.1",
		"CONTENT_TYPE":        "text/x-test",
		"CONTENT_LENGTH":      "5",
		"REDIRECT_STATUS":     "200",
		"PATH":                DefaultPath,
		"HTTP_X_CUSTOM_THING": "v1",
		"HTTP_X_MULTI":        "a, b",
		"HTTP_HOST":           hs.srv.Addr().String(),
		"EXTRA":               "1",
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	if p, err := strconv.Atoi(env["REMOTE_PORT"]); err != nil || p <= 0 {
		t.Errorf("REMOTE_PORT %q", env["REMOTE_PORT"])
	}
	for _, k := range []string{"HTTP_PROXY", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTPS"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s set (%q)", k, v)
		}
	}
}

// TestEcho sends a large body through a script and back, byte for byte.
func TestEcho(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 4 << 20
	}
	hs := startServer(t, nil)
	base := fdCount(t)
	body := make([]byte, size)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(body)
	want := sha256.Sum256(body)
	resp, err := hs.cl.Post(hs.url+"/cgi-bin/echo.py", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	hsh := sha256.New()
	n, err := io.Copy(hsh, resp.Body)
	if err != nil {
		t.Fatalf("reading the echo after %d bytes: %v", n, err)
	}
	if n != int64(size) || !bytes.Equal(hsh.Sum(nil), want[:]) {
		t.Fatalf("echo of %d bytes: got %d bytes, digest match %v", size, n, bytes.Equal(hsh.Sum(nil), want[:]))
	}
	resp.Body.Close()
	hs.cl.CloseIdleConnections()
	checkClean(t, hs.cgi, base)
}

// pgidFile returns a path for sleep.sh to write its group id to.
func pgidFile(t *testing.T) string {
	return filepath.Join(t.TempDir(), "pgid")
}

// readPgid waits for the file and returns the group id in it.
func readPgid(t *testing.T, path string) int {
	t.Helper()
	var pgid int
	waitFor(t, "the script's pid", func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pgid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pgid
}

// groupGone reports whether no process of group pgid is left.
func groupGone(pgid int) bool {
	return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}

// TestTimeout: a script that sleeps past the timeout gets 504, and its
// whole group (a background child too) is killed and reaped.
func TestTimeout(t *testing.T) {
	hs := startServer(t, func(c *Config) { c.Timeout = 500 * time.Millisecond })
	base := fdCount(t)
	f := pgidFile(t)
	resp, _ := hs.get("/cgi-bin/sleep.sh?" + f)
	if resp.StatusCode != 504 {
		t.Fatalf("status %d, want 504", resp.StatusCode)
	}
	pgid := readPgid(t, f)
	waitFor(t, "the process group to be gone", func() bool { return groupGone(pgid) })
	// After the head: the connection is aborted.
	r2, err := hs.cl.Get(hs.url + "/cgi-bin/sleephead.sh")
	if err == nil {
		_, err = io.ReadAll(r2.Body)
		r2.Body.Close()
	}
	if err == nil {
		t.Errorf("a timeout after the head: the response ended normally")
	}
	hs.cl.CloseIdleConnections()
	checkClean(t, hs.cgi, base)
	st := hs.cgi.Stats()
	if st.Timeouts != 2 || st.Status504 != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestClientGone: a client that goes away mid-output gets its script
// killed.
func TestClientGone(t *testing.T) {
	hs := startServer(t, nil)
	base := fdCount(t)
	conn, err := net.Dial("tcp", hs.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /cgi-bin/stream.py HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	if _, err := io.ReadFull(br, make([]byte, 200<<10)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	waitFor(t, "the script to be killed", func() bool {
		st := hs.cgi.Stats()
		return st.KilledClientGone == 1
	})
	checkClean(t, hs.cgi, base)
}

// TestLoad: 500 concurrent requests with MaxConcurrent 32 are all answered
// 200 or 503.
func TestLoad(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	hs := startServer(t, func(c *Config) { c.MaxConcurrent = 32 })
	base := fdCount(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hs.cl.Get(hs.url + "/cgi-bin/slow.sh")
			if err != nil {
				t.Errorf("GET: %v", err)
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("reading: %v", err)
			case resp.StatusCode == 200 && !strings.HasSuffix(string(b), "line 5\n"):
				t.Errorf("body %q", b)
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "":
				t.Errorf("503 without Retry-After")
			case resp.StatusCode != 200 && resp.StatusCode != 503:
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	t.Logf("statuses: %v", counts)
	if counts[200] == 0 {
		t.Error("no request succeeded")
	}
	if uint64(counts[503]) != hs.cgi.Stats().Status503 {
		t.Errorf("503 counter %d, seen %d", hs.cgi.Stats().Status503, counts[503])
	}
	hs.cl.CloseIdleConnections()
	checkClean(t, hs.cgi, base)
}

// TestSlotFreedBeforeNextRequest: with MaxConcurrent 2, two keep-alive
// clients asking one after another never get a 503: a response ends only
// once its script was reaped, so the client's next request finds its slot
// free. Both a Content-Length and a chunked response are checked.
func TestSlotFreedBeforeNextRequest(t *testing.T) {
	hs := startServer(t, func(c *Config) { c.MaxConcurrent = 2 })
	for _, path := range []string{"/cgi-bin/quick.sh", "/cgi-bin/length.py?100"} {
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					resp, err := hs.cl.Get(hs.url + path)
					if err != nil {
						t.Errorf("GET %s: %v", path, err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("GET %s #%d: status %d", path, i, resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	if n := hs.cgi.Stats().Status503; n != 0 {
		t.Errorf("%d 503s", n)
	}
}

// TestStderr: stderr in volume is logged rate-limited and counted.
func TestStderr(t *testing.T) {
	hs := startServer(t, func(c *Config) { c.StderrBurst = 10; c.StderrRate = 1 })
	resp, body := hs.get("/cgi-bin/stderr.py")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	waitFor(t, "the stderr lines", func() bool {
		st := hs.cgi.Stats()
		return st.StderrLines+st.StderrDropped == 2001
	})
	st := hs.cgi.Stats()
	if st.StderrLines < 10 || st.StderrLines > 15 {
		t.Errorf("stderr lines logged %d", st.StderrLines)
	}
	if !strings.Contains(hs.logs.String(), "stderr line 0 ") {
		t.Errorf("first line not logged: %s", hs.logs.String())
	}
}

// TestUnreadBody: a script that never reads its stdin while a large body
// arrives answers, and nothing is left behind.
func TestUnreadBody(t *testing.T) {
	hs := startServer(t, func(c *Config) { c.MaxStdinQueued = 64 << 10 })
	base := fdCount(t)
	for i := 0; i < 3; i++ {
		resp, err := hs.cl.Post(hs.url+"/cgi-bin/quick.sh", "application/octet-stream", bytes.NewReader(make([]byte, 4<<20)))
		if err != nil {
			// The server may close before the client has sent it all.
			t.Logf("POST: %v", err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "quick\n" {
			t.Fatalf("status %d body %q", resp.StatusCode, b)
		}
	}
	hs.cl.CloseIdleConnections()
	checkClean(t, hs.cgi, base)
}
