package http

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

var helloBody = []byte("Hello, World!")

// testHandler routes a few paths, as the demo does.
type testHandler struct {
	NopHTTPHandler
	s      *Server
	mu     sync.Mutex
	closes int
	writev int
	stream map[netserver.ClientNum][]byte
	hashes map[netserver.ClientNum]*bodyHash // /sha256 (tls_test.go)
}

func (h *testHandler) HTTPRead(req *Request, c netserver.ClientNum, failed bool) {
	switch p := string(req.Path); {
	case p == "/plaintext":
		h.s.Respond(c, 200, "text/plain", helloBody)
	case p == "/echo":
		h.s.CollectBody(c, 1<<20)
	case p == "/stream" && req.Body == BodyNone:
		h.s.Respond(c, 200, "application/octet-stream", nil)
	case p == "/stream":
		h.mu.Lock()
		if h.stream == nil {
			h.stream = map[netserver.ClientNum][]byte{}
		}
		h.stream[c] = []byte{}
		h.mu.Unlock()
	case p == "/async":
		r := req.Clone()
		go func() {
			time.Sleep(5 * time.Millisecond)
			h.s.Respond(c, 200, "text/plain", append([]byte("async "), r.Query...))
		}()
	case p == "/asyncfile":
		r := req.Clone()
		go h.s.SendFile(r, c, "/small.txt")
	case p == "/write":
		head := h.s.AppendHead(nil, c, 200, "text/plain", 5)
		h.s.Writev(c, [][]byte{head, []byte("wr")})
		h.s.Write(c, []byte("ite"))
		h.s.EndResponse(c)
	case p == "/headfirst":
		// The head goes out during HTTPRead; the response ends later.
		h.s.Send(c, h.s.AppendHead(nil, c, 200, "text/plain", 2))
		go func() {
			time.Sleep(5 * time.Millisecond)
			h.s.Send(c, []byte("ok"))
			h.s.EndResponse(c)
		}()
	case p == "/pause":
		h.s.PauseBody(c) // and never resumes: the body is held
	case p == "/error":
		h.s.RespondError(c, 503)
	case p == "/nothing":
		h.s.Respond(c, 204, "", []byte("dropped"))
	case p == "/sha256":
		h.startHash(c, req) // tls_test.go
	default:
		h.s.SendFile(req, c, "")
	}
}

func (h *testHandler) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	if h.hashBody(data, c, last) {
		return
	}
	h.mu.Lock()
	acc, streaming := h.stream[c]
	if streaming {
		acc = append(acc, data...)
		h.stream[c] = acc
	}
	h.mu.Unlock()
	if !streaming {
		h.s.Respond(c, 200, "application/octet-stream", data)
		return
	}
	if last {
		h.mu.Lock()
		delete(h.stream, c)
		h.mu.Unlock()
		h.s.Respond(c, 200, "application/octet-stream", acc)
	}
}

func (h *testHandler) HTTPWritev(bufs [][]byte, c netserver.ClientNum, failed bool) {
	h.mu.Lock()
	h.writev++
	h.mu.Unlock()
}

func (h *testHandler) HTTPClose(netserver.ClientNum) {
	h.mu.Lock()
	h.closes++
	h.mu.Unlock()
}

func testLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startHTTP starts a server on 127.0.0.1:0 with a root holding a few files
// and checks, at cleanup, that fds and tasks are back where they were.
func startHTTP(t testing.TB, cfg Config) (*Server, *testHandler, string) {
	t.Helper()
	fds := countFDs(t)
	if cfg.Root == "" {
		cfg.Root = makeRoot(t)
	}
	cfg.Net.Addrs = []string{"127.0.0.1:0"}
	cfg.Net.Logger = testLog()
	if cfg.Net.Loops == 0 {
		cfg.Net.Loops = 1
	}
	h := &testHandler{}
	s := serveChecked(t, fds, cfg, h, func(s *Server) { h.s = s })
	return s, h, cfg.Root
}

// serveChecked serves cfg with h (bind gets the server before it serves)
// and checks, at cleanup, that tasks are back to none and fds back to
// fds.
func serveChecked(t testing.TB, fds int, cfg Config, h HTTPHandler, bind func(*Server)) *Server {
	t.Helper()
	s, err := NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	bind(s)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if st := s.Stats(); st.TasksInFlight != 0 || st.Stale != 0 || st.Panics != 0 {
			t.Errorf("after close: %s", st)
		}
		nethttp.DefaultClient.CloseIdleConnections()
		deadline := time.Now().Add(5 * time.Second)
		for countFDs(t) > fds && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := countFDs(t); n > fds {
			t.Errorf("fds: %d at start, %d at end", fds, n)
		}
	})
	return s
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

var bigContent = func() []byte {
	b := make([]byte, 3<<20+12345)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}()

func makeRoot(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	files := map[string]string{
		"small.txt":       "hello small file\n",
		"index.html":      "<h1>index</h1>\n",
		"sub/index.html":  "<h1>sub</h1>\n",
		"sub/data.json":   `{"a":1}`,
		"../secret.txt":   "top secret",
		"digits.txt":      "0123456789abcdefghij",
		"sub/deeper/x.js": "var x;",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "big.bin"), bigContent, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "escape.txt"))
	os.Symlink("small.txt", filepath.Join(root, "link.txt"))
	return root
}

func url(s *Server, path string) string { return "http://" + s.Addr().String() + path }

func get(t *testing.T, client *nethttp.Client, req *nethttp.Request) (*nethttp.Response, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

func newReq(t *testing.T, method, u string, body io.Reader, hdr ...string) *nethttp.Request {
	req, err := nethttp.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

func TestNetHTTPClient(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	for _, keep := range []bool{true, false} {
		client := &nethttp.Client{Transport: &nethttp.Transport{DisableKeepAlives: !keep}}
		for i := 0; i < 5; i++ {
			resp, body := get(t, client, newReq(t, "GET", url(s, "/plaintext"), nil))
			if resp.StatusCode != 200 || string(body) != "Hello, World!" || resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("Date") == "" {
				t.Fatalf("keep=%v: %d %q %v", keep, resp.StatusCode, body, resp.Header)
			}
			if resp.Close == keep {
				t.Fatalf("keep=%v: resp.Close=%v", keep, resp.Close)
			}
		}
		for _, tc := range []struct{ path, want, ctype string }{
			{"/small.txt", "hello small file\n", "text/plain; charset=utf-8"},
			{"/", "<h1>index</h1>\n", "text/html; charset=utf-8"},
			{"/sub/", "<h1>sub</h1>\n", ""},
			{"/sub", "<h1>sub</h1>\n", ""},
			{"/link.txt", "hello small file\n", ""},
			{"/async?x=1", "async x=1", ""},
			{"/asyncfile", "hello small file\n", ""},
			{"/write", "write", ""},
		} {
			resp, body := get(t, client, newReq(t, "GET", url(s, tc.path), nil))
			if resp.StatusCode != 200 || string(body) != tc.want || tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Fatalf("%s: %d %q %v", tc.path, resp.StatusCode, body, resp.Header)
			}
		}
		resp, body := get(t, client, newReq(t, "GET", url(s, "/big.bin"), nil))
		if resp.StatusCode != 200 || !bytes.Equal(body, bigContent) {
			t.Fatalf("big: %d, %d bytes, equal=%v", resp.StatusCode, len(body), bytes.Equal(body, bigContent))
		}
		resp, body = get(t, client, newReq(t, "HEAD", url(s, "/big.bin"), nil))
		if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(bigContent)) {
			t.Fatalf("HEAD big: %d %d", resp.StatusCode, resp.ContentLength)
		}
		resp, _ = get(t, client, newReq(t, "GET", url(s, "/error"), nil))
		if resp.StatusCode != 503 {
			t.Fatalf("error: %d", resp.StatusCode)
		}
		resp, body = get(t, client, newReq(t, "GET", url(s, "/nothing"), nil))
		if resp.StatusCode != 204 || len(body) != 0 {
			t.Fatalf("204: %d %q", resp.StatusCode, body)
		}
		client.CloseIdleConnections()
	}
}

func TestBodies(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	client := &nethttp.Client{}
	defer client.CloseIdleConnections()
	payload := bytes.Repeat([]byte("0123456789"), 20000)
	for _, path := range []string{"/echo", "/stream"} {
		for _, chunked := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(payload)
			if chunked {
				r = io.MultiReader(r) // unknown length: chunked
			}
			resp, body := get(t, client, newReq(t, "POST", url(s, path), r))
			if resp.StatusCode != 200 || !bytes.Equal(body, payload) {
				t.Fatalf("%s chunked=%v: %d, %d bytes", path, chunked, resp.StatusCode, len(body))
			}
		}
		resp, body := get(t, client, newReq(t, "POST", url(s, path), strings.NewReader("")))
		if resp.StatusCode != 200 || len(body) != 0 {
			t.Fatalf("%s empty: %d %q", path, resp.StatusCode, body)
		}
	}
	// A body the handler does not read is skipped; the connection goes on.
	resp, body := get(t, client, newReq(t, "POST", url(s, "/plaintext"), bytes.NewReader(payload)))
	if resp.StatusCode != 200 || string(body) != "Hello, World!" {
		t.Fatalf("unread body: %d %q", resp.StatusCode, body)
	}
	// Too large for CollectBody's limit: 413.
	resp, _ = get(t, client, newReq(t, "POST", url(s, "/echo"), io.MultiReader(bytes.NewReader(make([]byte, 2<<20)))))
	if resp.StatusCode != 413 {
		t.Fatalf("large collected body: %d", resp.StatusCode)
	}
}

// raw sends data on a fresh connection and returns everything read until
// the server closes it or the timeout passes.
func raw(t *testing.T, s *Server, data string, timeout time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	out, _ := io.ReadAll(c)
	return string(out)
}

func TestPipelining(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	var b strings.Builder
	for i := 0; i < 100; i++ {
		switch i % 4 {
		case 0:
			b.WriteString("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
		case 1:
			fmt.Fprintf(&b, "GET /async?%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		case 2:
			b.WriteString("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
		case 3:
			b.WriteString("GET /digits.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-4\r\n\r\n")
		}
	}
	b.WriteString("GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	out := raw(t, s, b.String(), 20*time.Second)
	br := bufio.NewReader(strings.NewReader(out))
	for i := 0; i <= 100; i++ {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		var want string
		switch {
		case i == 100 || i%4 == 0:
			want = "Hello, World!"
		case i%4 == 1:
			want = fmt.Sprintf("async %d", i)
		case i%4 == 2:
			want = "abc"
		case i%4 == 3:
			want = "234"
		}
		if string(body) != want {
			t.Fatalf("response %d: %d %q, want %q", i, resp.StatusCode, body, want)
		}
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Fatalf("trailing bytes %q", rest)
	}
}

func TestLimitsAndErrors(t *testing.T) {
	s, _, _ := startHTTP(t, Config{Limits: Limits{MaxRequestLine: 200, MaxHeaderBytes: 1024, MaxBodyBytes: 1000}})
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"414", "GET /" + strings.Repeat("a", 300) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"431", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("b", 2000) + "\r\n\r\n", 431},
		{"413", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
		{"413 chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + strings.Repeat("c", 2000) + "\r\n0\r\n\r\n", 413},
		{"400 TE+CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"400 two CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"400 obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400},
		{"400 space colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"400 no host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"400 two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"400 bad chunk", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
		{"501", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"505", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"405", "DELETE /small.txt HTTP/1.1\r\nHost: x\r\n\r\n", 405},
	} {
		out := raw(t, s, tc.req, 10*time.Second)
		resp, err := nethttp.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
		if err != nil || resp.StatusCode != tc.status {
			t.Fatalf("%s: %v %q", tc.name, err, out)
		}
	}
	// OPTIONS * is answered by the server.
	out := raw(t, s, "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10*time.Second)
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.Contains(out, "Allow: ") {
		t.Fatalf("OPTIONS *: %q", out)
	}
	// HTTP/1.0: closes unless keep-alive is asked for.
	out = raw(t, s, "GET /plaintext HTTP/1.0\r\n\r\n", 10*time.Second)
	if !strings.HasSuffix(out, "Hello, World!") || !strings.Contains(out, "Connection: close") {
		t.Fatalf("1.0: %q", out)
	}
	out = raw(t, s, "GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /plaintext HTTP/1.0\r\n\r\n", 10*time.Second)
	if strings.Count(out, "Hello, World!") != 2 || !strings.Contains(out, "Connection: keep-alive") {
		t.Fatalf("1.0 keep-alive: %q", out)
	}
	// Expect: 100-continue gets 100 before the body is read.
	c, _ := net.Dial("tcp", s.Addr().String())
	defer c.Close()
	c.Write([]byte("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"))
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := br.ReadString('\n')
	if line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("expect: %q", line)
	}
	br.ReadString('\n')
	c.Write([]byte("hello"))
	resp, err := nethttp.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != "hello" {
		t.Fatalf("expect body %q", body)
	}
}

func TestTimeouts(t *testing.T) {
	s, _, _ := startHTTP(t, Config{HeaderTimeout: 150 * time.Millisecond, IdleTimeout: 300 * time.Millisecond, LingerTimeout: 200 * time.Millisecond})
	// Slowloris: a head trickled byte by byte is cut at the header timeout.
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	closed := false
	for i := 0; i < 100 && !closed; i++ {
		if _, err := c.Write([]byte("G")); err != nil {
			closed = true
		}
		time.Sleep(20 * time.Millisecond)
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			closed = true
		}
	}
	if !closed || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("slow head: closed=%v after %v", closed, time.Since(start))
	}
	// Idle keep-alive connection: closed after the idle timeout.
	c2, _ := net.Dial("tcp", s.Addr().String())
	defer c2.Close()
	c2.Write([]byte("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	start = time.Now()
	out, _ := io.ReadAll(c2)
	if !strings.HasSuffix(string(out), "Hello, World!") || time.Since(start) < 250*time.Millisecond || time.Since(start) > 3*time.Second {
		t.Fatalf("idle: %q after %v", out, time.Since(start))
	}
	// A client that never closes after an error is dropped after the linger.
	c3, _ := net.Dial("tcp", s.Addr().String())
	defer c3.Close()
	c3.Write([]byte("BAD\r\n\r\n"))
	c3.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, _ = io.ReadAll(c3)
	if !strings.HasPrefix(string(out), "HTTP/1.1 400 ") {
		t.Fatalf("bad request: %q", out)
	}
}

func TestFileServing(t *testing.T) {
	s, _, root := startHTTP(t, Config{})
	client := &nethttp.Client{}
	defer client.CloseIdleConnections()
	for _, big := range []bool{false, true} {
		path, content := "/digits.txt", []byte("0123456789abcdefghij")
		if big {
			path, content = "/big.bin", bigContent
		}
		resp, _ := get(t, client, newReq(t, "GET", url(s, path), nil))
		etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" || lm == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("validators: %v", resp.Header)
		}
		for _, tc := range []struct {
			hdr    []string
			status int
			body   []byte
		}{
			{[]string{"If-None-Match", etag}, 304, nil},
			{[]string{"If-Modified-Since", lm}, 304, nil},
			{[]string{"If-Match", `"nope"`}, 412, nil},
			{[]string{"Range", "bytes=2-5"}, 206, content[2:6]},
			{[]string{"Range", "bytes=-3"}, 206, content[len(content)-3:]},
			{[]string{"Range", "bytes=99999999-"}, 416, nil},
			{[]string{"Range", "bytes=1-2", "If-Range", `"other"`}, 200, content},
		} {
			resp, body := get(t, client, newReq(t, "GET", url(s, path), nil, tc.hdr...))
			if resp.StatusCode != tc.status || tc.body != nil && !bytes.Equal(body, tc.body) {
				t.Fatalf("%s %v: %d, %d bytes", path, tc.hdr, resp.StatusCode, len(body))
			}
			if tc.status == 416 && resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(content)) {
				t.Fatalf("416 Content-Range %q", resp.Header.Get("Content-Range"))
			}
		}
		// Several ranges: multipart/byteranges.
		resp, body := get(t, client, newReq(t, "GET", url(s, path), nil, "Range", "bytes=0-1,5-6"))
		if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges; boundary=") ||
			!bytes.Contains(body, content[0:2]) || !bytes.Contains(body, content[5:7]) || int64(len(body)) != resp.ContentLength {
			t.Fatalf("multipart %s: %d %v %q", path, resp.StatusCode, resp.Header, body[:min(len(body), 300)])
		}
	}
	// Traversal attempts never leave the root.
	for _, p := range []string{"/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt", "/escape.txt", "/nope.txt", "/a%00b"} {
		out := raw(t, s, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5*time.Second)
		if strings.Contains(out, "top secret") || !(strings.HasPrefix(out, "HTTP/1.1 404") || strings.HasPrefix(out, "HTTP/1.1 403") || strings.HasPrefix(out, "HTTP/1.1 400")) {
			t.Fatalf("%s: %q", p, out)
		}
	}
	// A file changed while cached: the new content is served.
	name := filepath.Join(root, "small.txt")
	_, body := get(t, client, newReq(t, "GET", url(s, "/small.txt"), nil))
	if string(body) != "hello small file\n" {
		t.Fatalf("small: %q", body)
	}
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(name, []byte("changed!"), 0o644)
	_, body = get(t, client, newReq(t, "GET", url(s, "/small.txt"), nil))
	if string(body) != "changed!" {
		t.Fatalf("after change: %q", body)
	}
}

func TestSendFileFallbackAndDisconnect(t *testing.T) {
	for _, noSplice := range []bool{false, true} {
		t.Run(fmt.Sprint("nosplice=", noSplice), func(t *testing.T) {
			s, h, _ := startHTTP(t, Config{SendFile: sendfileConfig(noSplice)})
			// Concurrent big transfers on one loop share few pipes.
			var wg sync.WaitGroup
			errs := make(chan error, 6)
			for i := 0; i < 6; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := nethttp.Get(url(s, "/big.bin"))
					if err != nil {
						errs <- err
						return
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil || !bytes.Equal(body, bigContent) {
						errs <- fmt.Errorf("big body: %v, %d bytes", err, len(body))
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// Disconnect mid-file, several times; the server stays healthy.
			for i := 0; i < 5; i++ {
				c, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				c.Write([]byte("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"))
				io.ReadFull(c, make([]byte, 4096))
				c.Close()
			}
			resp, err := nethttp.Get(url(s, "/big.bin"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(body, bigContent) {
				t.Fatalf("after disconnects: %d bytes", len(body))
			}
			nethttp.DefaultClient.CloseIdleConnections()
			deadline := time.Now().Add(10 * time.Second)
			for s.Stats().ConnsOpen != 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			h.mu.Lock()
			wv := h.writev
			h.mu.Unlock()
			if wv < 12 {
				t.Fatalf("HTTPWritev fired %d times, want 12", wv)
			}
		})
	}
}

// A response whose head went out during HTTPRead gets no 100 Continue
// after it (it would land in the body).
func TestNoContinueAfterHead(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	out := raw(t, s, "POST /headfirst HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", 2*time.Second)
	if strings.Contains(out, "100 Continue") || !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.Contains(out, "\r\n\r\nok") {
		t.Fatalf("got %q", out)
	}
}
