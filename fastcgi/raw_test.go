package fastcgi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// startRawApp runs a minimal FastCGI application on a unix socket: for
// each request it reads the records up to the empty STDIN, then writes
// answer(path) as it is (records made with the package's encoder).
func startRawApp(t *testing.T, answer func(script string) []byte) string {
	t.Helper()
	path := t.TempDir() + "/raw.sock"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRaw(conn, answer)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "unix:" + path
}

func serveRaw(conn net.Conn, answer func(string) []byte) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	var params []byte
	for {
		var hdr [HeaderLen]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		h, err := ParseHeader(hdr[:])
		if err != nil {
			return
		}
		body := make([]byte, int(h.ContentLength)+int(h.PaddingLength))
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		body = body[:h.ContentLength]
		switch h.Type {
		case TypeParams:
			params = append(params, body...)
		case TypeStdin:
			if len(body) > 0 {
				continue
			}
			script := ""
			ParsePairs(params, 1<<20, func(n, v []byte) error {
				if string(n) == "SCRIPT_FILENAME" {
					script = string(v)
				}
				return nil
			})
			params = nil
			if _, err := conn.Write(answer(script)); err != nil {
				return
			}
		}
	}
}

func stdoutEnd(s string) []byte {
	b := AppendStream(nil, TypeStdout, 1, []byte(s))
	return AppendEndRequest(b, 1, 0, StatusRequestComplete)
}

func TestRawApp(t *testing.T) {
	addr := startRawApp(t, func(script string) []byte {
		switch script {
		case "/s/badhead":
			return stdoutEnd("this is no head\r\n\r\nbody")
		case "/s/nohead":
			return AppendEndRequest(nil, 1, 0, 0)
		case "/s/redirect":
			return stdoutEnd("Location: /elsewhere?q=1\r\n\r\n")
		case "/s/stderr":
			var b []byte
			for i := range 30 {
				b = AppendStream(b, TypeStderr, 1, fmt.Appendf(nil, "line %d\n", i))
			}
			b = AppendStream(b, TypeStdout, 1, []byte("Content-Type: text/plain\r\n\r\nok"))
			b = AppendStream(b, TypeStdout, 0, []byte("ignored: management record"))
			return AppendEndRequest(b, 1, 0, 0)
		case "/s/short":
			return stdoutEnd("Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly this")
		case "/s/badrecord":
			return []byte{9, 9, 9, 9, 9, 9, 9, 9}
		case "/s/trailing":
			b := stdoutEnd("Content-Type: text/plain\r\n\r\nfine")
			return append(b, AppendStream(nil, TypeStdout, 1, []byte("extra"))...)
		case "/s/overloaded":
			return AppendEndRequest(AppendStream(nil, TypeStdout, 1, []byte("Status: 200\r\n\r\nx")), 1, 0, StatusOverloaded)
		}
		return stdoutEnd("Content-Type: text/plain\r\n\r\nhello")
	})
	f, base := startFront(t, Config{Addr: addr, StderrRate: 5, MaxParams: 4096}, 1, "/s")
	hc := newHTTPClient(t)
	hc.CheckRedirect = func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/fcgi/badhead", 502, ""},
		{"/fcgi/nohead", 502, ""},
		{"/fcgi/hello", 200, "hello"},
		{"/fcgi/stderr", 200, "ok"},
		{"/fcgi/trailing", 200, "fine"},
		{"/fcgi/overloaded", 200, "x"},
		{"/fcgi/badrecord", 502, ""},
		{"/fcgi/hello", 200, "hello"},
	} {
		resp, b := get(t, hc, base+tc.path)
		if resp.StatusCode != tc.status || tc.body != "" && string(b) != tc.body {
			t.Errorf("%s: %d %q", tc.path, resp.StatusCode, b)
		}
	}
	resp, _ := get(t, hc, base+"/fcgi/redirect")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/elsewhere?q=1" {
		t.Errorf("redirect: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, err := hc.Get(base + "/fcgi/short"); err == nil {
		// The body is cut short of its Content-Length: reading it fails.
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("short body: no error, %q", b)
		}
	}
	// Parameters over MaxParams: 500.
	req, _ := nethttp.NewRequest("GET", base+"/fcgi/hello", nil)
	req.Header.Set("X-Big", strings.Repeat("x", 5000))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("big params: %d", resp.StatusCode)
	}
	st := f.cl.Stats()
	if st.StderrDropped == 0 || st.BadGateway < 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestRawHTTP10AndHead checks the framing for an HTTP/1.0 client (the
// end of the body is the end of the connection) and HEAD (no body).
func TestRawHTTP10AndHead(t *testing.T) {
	app := startGoApp(t, "unix")
	_, base := startFront(t, Config{Addr: app.addr}, 1, "/s")
	hostport := strings.TrimPrefix(base, "http://")
	for _, tc := range []struct{ req, want, not string }{
		{"GET /fcgi/hello?n=10 HTTP/1.0\r\n\r\n", "hello 10\n", "chunked"},
		{"HEAD /fcgi/hello?n=11 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200 OK", "hello"},
	} {
		conn, err := net.Dial("tcp", hostport)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(conn, tc.req)
		b, err := io.ReadAll(conn)
		conn.Close()
		if err != nil || !strings.Contains(string(b), tc.want) || strings.Contains(string(b), tc.not) {
			t.Errorf("%q: %v %q", tc.req, err, b)
		}
	}
}

func TestPoolLimits(t *testing.T) {
	app := startGoApp(t, "unix")
	f, base := startFront(t, Config{Addr: app.addr, MaxConns: 1, MaxWaiting: 1, Timeout: time.Second,
		IdleTimeout: 200 * time.Millisecond}, 1, "/s")
	hc := newHTTPClient(t)
	hang := make(chan int, 1)
	go func() {
		resp, err := hc.Get(base + "/fcgi/hang")
		if err != nil {
			hang <- 0
			return
		}
		resp.Body.Close()
		hang <- resp.StatusCode
	}()
	waitFor(t, "the hanging request", func() bool { return f.cl.Stats().Conns == 1 })
	// Well inside the hanging request's Timeout, so that the waiting one's
	// ends later.
	time.Sleep(500 * time.Millisecond)
	waited := make(chan string, 1)
	go func() {
		resp, err := hc.Get(base + "/fcgi/hello?n=5")
		if err != nil {
			waited <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		waited <- string(b)
	}()
	waitFor(t, "a waiting request", func() bool { return f.cl.Stats().Waiting == 1 })
	resp, _ := get(t, hc, base+"/fcgi/hello?n=6")
	if resp.StatusCode != 503 {
		t.Errorf("over MaxWaiting: %d", resp.StatusCode)
	}
	if s := <-hang; s != 504 {
		t.Errorf("hang: %d", s)
	}
	if s := <-waited; s != "hello 5\n" {
		t.Errorf("waited: %q", s)
	}
	waitFor(t, "the idle timeout", func() bool { st := f.cl.Stats(); return st.Conns == 0 && st.Idle == 0 })
	if st := f.cl.Stats(); st.Rejected != 1 || st.Timeouts != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestRawLocalRedirect: with Config.Dispatch an application's local
// redirect is served as a GET of its Location (here or elsewhere), and a
// redirect loop ends in a 502 after MaxRedirects.
func TestRawLocalRedirect(t *testing.T) {
	var notGET atomic.Int64
	addr := startRawApp(t, func(script string) []byte {
		switch script {
		case "/s/redirect":
			return stdoutEnd("Location: /fcgi/target?q=1\r\n\r\n")
		case "/s/loop":
			return stdoutEnd("Location: /fcgi/loop\r\n\r\n")
		case "/s/out":
			return stdoutEnd("Location: /elsewhere\r\n\r\n")
		}
		return stdoutEnd("Content-Type: text/plain\r\n\r\n" + script)
	})
	var frp atomic.Pointer[front] // set once the server runs
	cfg := Config{Addr: addr, MaxRedirects: 3, Dispatch: func(req *http.Request, c netserver.ClientNum) {
		if string(req.Method) != "GET" {
			notGET.Add(1)
		}
		frp.Load().HTTPRead(req, c, false)
	}}
	fr, base := startFront(t, cfg, 1, "/s")
	frp.Store(fr)
	hc := newHTTPClient(t)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/fcgi/redirect", 200, "/s/target"},
		{"GET", "/fcgi/out", 404, "not here\n"},
		{"GET", "/fcgi/loop", 502, ""},
		{"GET", "/fcgi/redirect", 200, "/s/target"},
	} {
		req, _ := nethttp.NewRequest(tc.method, base+tc.path, strings.NewReader("body"))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || tc.body != "" && string(b) != tc.body {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, resp.StatusCode, b)
		}
	}
	// 1 + 1 + 3 (the loop's fourth is the 502) + 1.
	if st := fr.cl.Stats(); st.Redirects != 6 || st.BadGateway != 1 {
		t.Errorf("stats: %+v", st)
	}
	if n := notGET.Load(); n != 0 {
		t.Errorf("%d redirects dispatched with another method than GET", n)
	}
}
