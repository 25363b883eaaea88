package http

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/backend"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/ring"
	"golang.org/x/sys/unix"
)

// The HTTP scenarios of this file run once per backend, in this process,
// and must give the same answers on each (issue 9): bad input and
// smuggling attempts, pipelining without reading, resets in the middle of
// responses.

// testBackends are the backends each scenario runs on: Config.Net.Backend
// and the name the server's Stats report.
var testBackends = []struct{ kind, name string }{
	{"uring", "io_uring"},
	{"epoll", "epoll"},
}

// onBackends runs f once per backend as a subtest named after it, with
// URINGNET_BACKEND cleared (it would override Config.Net.Backend). The
// io_uring case is skipped where io_uring is refused; the epoll case never
// is.
func onBackends(t *testing.T, f func(t *testing.T, kind string)) {
	t.Setenv(netserver.EnvBackend, "")
	warmNetpoll(t)
	for _, b := range testBackends {
		t.Run(b.kind, func(t *testing.T) {
			if b.kind == "uring" {
				r, err := backend.Open(backend.Uring, backend.Options{Entries: 8})
				var ue *ring.UnavailableError
				switch {
				case errors.As(err, &ue):
					t.Skipf("io_uring refused: %v", err)
				case err != nil:
					t.Fatalf("opening io_uring: %v", err)
				}
				r.Close()
			}
			f(t, b.kind)
		})
	}
}

// warmNetpoll makes the Go runtime create its netpoller (an epoll fd and
// an eventfd, kept for the life of the process) before a test counts fds:
// created by the test's first net call, they would look like a leak.
func warmNetpoll(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// startHTTPOn starts the test server (see startHTTP) on the backend kind
// and checks that it runs there.
func startHTTPOn(t *testing.T, kind string, cfg Config) (*Server, *testHandler) {
	t.Helper()
	cfg.Net.Backend = kind
	s, h, _ := startHTTP(t, cfg)
	want := ""
	for _, b := range testBackends {
		if b.kind == kind {
			want = b.name
		}
	}
	if got := s.Stats().Backend; got != want {
		t.Fatalf("Stats().Backend = %q, want %q", got, want)
	}
	return s, h
}

// dateLine matches the Date header, the one part of a response that
// differs from run to run.
var dateLine = regexp.MustCompile(`(?m)^Date: [^\r\n]*\r\n`)

// exchange sends data on a fresh connection and reads until the server
// closes it. It returns what came back and whether the read ended with an
// end of file (rather than a reset or the deadline).
func exchange(t *testing.T, s *Server, data string) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write([]byte(data))
		werr <- err
	}()
	out, err := io.ReadAll(c)
	if err == nil {
		err = <-werr // a write cut short by the close is a failure too
	}
	return string(out), err
}

// statuses parses the responses in out and returns their status codes and
// whether anything that is no response followed them.
func statuses(out string) ([]int, string) {
	br := bufio.NewReader(strings.NewReader(out))
	var codes []int
	for {
		if _, err := br.Peek(1); err != nil {
			return codes, ""
		}
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			rest, _ := io.ReadAll(br)
			return codes, fmt.Sprintf("%v; rest %q", err, rest)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
}

// Bad input gets the same status code on both backends, and the
// connection is closed after it (end of file, not a reset). A request the
// parser rejects is never followed by a response to what was smuggled
// behind it. The whole answer, Date aside, is byte for byte the same on
// both backends.
func TestBackendsBadInput(t *testing.T) {
	const host = "Host: x\r\n"
	smuggled := "GET /plaintext HTTP/1.1\r\n" + host + "\r\n"
	cases := []struct {
		name, req string
		want      []int // status codes in order; the connection closes after the last
	}{
		// Malformed request lines.
		{"no version", "GET /\r\n\r\n", []int{400}},
		{"garbage", "BAD\r\n\r\n", []int{400}},
		{"lower-case version", "GET / http/1.1\r\n" + host + "\r\n", []int{400}},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", []int{505}},
		{"bare LF", "GET / HTTP/1.1\n" + host + "\n", []int{400}},
		{"NUL in target", "GET /a\x00b HTTP/1.1\r\n" + host + "\r\n", []int{400}},
		{"request line too long", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\n" + host + "\r\n", []int{414}},
		{"five leading CRLF", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n", []int{400}},
		// Heads too large.
		{"header too large", "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("b", 20000) + "\r\n\r\n", []int{431}},
		{"too many headers", "GET / HTTP/1.1\r\n" + host + strings.Repeat("X-A: b\r\n", 101) + "\r\n", []int{431}},
		// Bad Content-Length.
		{"CL sign", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: +5\r\n\r\nabcde", []int{400}},
		{"CL negative", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", []int{400}},
		{"CL hex", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 0x5\r\n\r\nabcde", []int{400}},
		{"CL overflow", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 9223372036854775808\r\n\r\n", []int{400}},
		{"CL list differing", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 5, 6\r\n\r\nabcdef", []int{400}},
		{"CL above limit", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 8388609\r\n\r\n", []int{413}},
		// Smuggling attempts: each carries a second request the server
		// must never answer.
		{"CL.TE", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, []int{400}},
		{"TE.CL", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n" + smuggled + "\r\n0\r\n\r\n", []int{400}},
		{"two CL", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 0\r\nContent-Length: 44\r\n\r\n" + smuggled, []int{400}},
		{"TE chunked twice", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, []int{400}},
		{"TE chunked, gzip", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" + smuggled, []int{400}},
		{"TE xchunked", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled, []int{501}},
		{"TE space before colon", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled, []int{400}},
		{"TE obs-fold", "POST /echo HTTP/1.1\r\n" + host + "X: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, []int{400}},
		{"TE in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled, []int{400}},
		{"bad chunk size", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + smuggled, []int{400}},
		{"chunk size overflow", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\na\r\n0\r\n\r\n" + smuggled, []int{413}},
		{"chunk with bare LF", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n" + smuggled, []int{400}},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + smuggled, []int{400}},
		// Much more input behind the error: discarded while the
		// connection lingers, so the client sees the answer, not a reset.
		{"bad request then 1 MiB", "BAD\r\n\r\n" + strings.Repeat("junk", 256<<10), []int{400}},
		{"endless header", "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("b", 2<<20), []int{431}},
		{"body over the limit sent anyway", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 8388609\r\n\r\n" + strings.Repeat("c", 1<<20), []int{413}},
		// A good request, then a bad one pipelined behind it.
		{"good then bad", smuggled + "GET / HTTP/1.1\r\nHost : x\r\n\r\n" + smuggled, []int{200, 400}},
	}
	answers := map[string]map[string]string{} // backend -> case -> answer without Date
	counters := map[string]Counters{}
	onBackends(t, func(t *testing.T, kind string) {
		// A long linger: the client's writes of the larger cases must
		// not race with it on a loaded machine.
		s, _ := startHTTPOn(t, kind, Config{LingerTimeout: 30 * time.Second})
		got := map[string]string{}
		for _, tc := range cases {
			out, err := exchange(t, s, tc.req)
			codes, junk := statuses(out)
			if err != nil || junk != "" || fmt.Sprint(codes) != fmt.Sprint(tc.want) {
				t.Errorf("%s: statuses %v (want %v), read ended with %v, %s; got %q", tc.name, codes, tc.want, err, junk, out[:min(len(out), 300)])
				continue
			}
			if !strings.Contains(out, "Connection: close\r\n") {
				t.Errorf("%s: no Connection: close in %q", tc.name, out)
			}
			got[tc.name] = dateLine.ReplaceAllString(out, "")
		}
		// Every connection closed on the server too, and the server still
		// serves a well-behaved client.
		deadline := time.Now().Add(15 * time.Second)
		for s.Stats().ConnsOpen != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if st := s.Stats(); st.ConnsOpen != 0 {
			t.Errorf("%d connections open after the bad input", st.ConnsOpen)
		}
		client := &nethttp.Client{Timeout: 15 * time.Second}
		defer client.CloseIdleConnections()
		resp, body := get(t, client, newReq(t, "GET", url(s, "/plaintext"), nil))
		if resp.StatusCode != 200 || string(body) != "Hello, World!" {
			t.Errorf("after the bad input: %d %q", resp.StatusCode, body)
		}
		if c := s.Counters(); c.Rejected == 0 {
			t.Errorf("no request rejected: %+v", c)
		}
		answers[kind], counters[kind] = got, s.Counters()
	})
	a, b := answers["uring"], answers["epoll"]
	if a == nil || b == nil {
		return // a backend was skipped or failed
	}
	if counters["uring"] != counters["epoll"] {
		t.Errorf("counters differ: io_uring %+v, epoll %+v", counters["uring"], counters["epoll"])
	}
	for _, tc := range cases {
		if a[tc.name] != b[tc.name] {
			t.Errorf("%s: the backends answer differently:\nio_uring %q\nepoll    %q", tc.name, a[tc.name], b[tc.name])
		}
	}
}

// A client pipelines thousands of requests and reads no response: on both
// backends the server stops answering while the client's backlog is
// full, so what it holds stays bounded; once the client reads, every
// response arrives, in order, and the connection closes after the last.
func TestBackendsPipelinedUnread(t *testing.T) {
	const (
		requests  = 6000
		pad       = 1000 // body bytes per request, echoed back
		maxQueued = 64 << 10
	)
	var b strings.Builder
	bodies := make([]string, requests)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("%06d:", i) + strings.Repeat(string(rune('a'+i%26)), pad)
		conn := ""
		if i == requests-1 {
			conn = "Connection: close\r\n"
		}
		fmt.Fprintf(&b, "POST /echo HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s", conn, len(bodies[i]), bodies[i])
	}
	reqs := b.String()
	onBackends(t, func(t *testing.T, kind string) {
		s, _ := startHTTPOn(t, kind, Config{Net: netserver.Config{MaxQueued: maxQueued}})
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second))
		werr := make(chan error, 1)
		go func() {
			_, err := c.Write([]byte(reqs))
			if err == nil {
				err = c.(*net.TCPConn).CloseWrite() // the end of stream comes behind every request
			}
			werr <- err
		}()
		waitCond := func(what string, cond func(netserver.Stats) bool) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for !cond(s.Stats()) {
				if time.Now().After(deadline) {
					t.Fatalf("timed out waiting for %s: %v", what, s.Stats())
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
		waitCond("the client congested", func(st netserver.Stats) bool { return st.Congested == 1 })
		var peakQ, peakH uint64
		answered := s.Requests()
		for i := 0; i < 50; i++ {
			st := s.Stats()
			peakQ, peakH = max(peakQ, st.QueuedBytes), max(peakH, st.HeldBytes)
			time.Sleep(4 * time.Millisecond)
		}
		if limit := uint64(maxQueued + 128<<10); peakQ > limit {
			t.Errorf("backlog peaked at %d bytes, want <= %d", peakQ, limit)
		}
		if limit := uint64(4 << 20); peakH > limit {
			if kind == "uring" && unboundedMultishotBurst() {
				// The known shortfall of issue 8: before 6.8 a multishot
				// recv hands over a whole socket buffer in one go.
				t.Logf("held input peaked at %d bytes (> %d) on %s: a multishot recv's first burst is not bounded before 6.8", peakH, limit, kernelRelease())
			} else {
				t.Errorf("held input peaked at %d bytes, want <= %d", peakH, limit)
			}
		}
		if st := s.Stats(); st.ConnsOpen != 1 || answered >= requests {
			t.Errorf("while the client does not read: %d requests parsed, %v", answered, st)
		}
		br := bufio.NewReader(c)
		for i := 0; i < requests; i++ {
			resp, err := nethttp.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("response %d: %v", i, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(body) != bodies[i] {
				t.Fatalf("response %d: %d, %d bytes %q..., %v", i, resp.StatusCode, len(body), body[:min(len(body), 12)], err)
			}
		}
		if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
			t.Fatalf("after the last response: %q, %v; want end of file", rest, err)
		}
		if err := <-werr; err != nil {
			t.Fatalf("write: %v", err)
		}
		if n := s.Requests(); n != requests {
			t.Errorf("%d requests parsed, want %d", n, requests)
		}
		st := s.Stats()
		if st.Congestions == 0 {
			t.Errorf("never congested: %v", st)
		}
		t.Logf("%s: backlog peak %d, held peak %d, %d parsed while unread, %d congestions", kind, peakQ, peakH, answered, st.Congestions)
	})
}

// Clients that reset the connection (SO_LINGER 0) at random points of a
// large file's response (sendfile: SPLICE on io_uring, sendfile(2) on
// epoll), of a small one, or of pipelined requests: on both backends every
// connection is closed, nothing is left behind (startHTTP checks fds and
// tasks at cleanup), and the server still serves the whole file.
func TestBackendsResetMidResponse(t *testing.T) {
	const clients = 120
	onBackends(t, func(t *testing.T, kind string) {
		s, _ := startHTTPOn(t, kind, Config{Net: netserver.Config{Loops: 2}})
		errs := make(chan error, clients)
		sem := make(chan struct{}, 16)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < clients; i++ {
				sem <- struct{}{}
				go func(i int) {
					defer func() { <-sem }()
					c, err := net.Dial("tcp", s.Addr().String())
					if err != nil {
						errs <- err
						return
					}
					c.(*net.TCPConn).SetLinger(0)
					defer c.Close()
					c.SetDeadline(time.Now().Add(30 * time.Second))
					var req string
					switch i % 3 {
					case 0:
						req = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
					case 1:
						req = strings.Repeat("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n", 50)
					case 2:
						req = "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-2000000\r\n\r\n" + "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
					}
					if _, err := c.Write([]byte(req)); err != nil {
						errs <- err
						return
					}
					// Read a prefix whose length depends on i, then reset.
					want := (i * 7919) % (1 << 20)
					if i%3 == 1 {
						want %= 8000 // of some 10 KB
					}
					if _, err := io.ReadFull(c, make([]byte, want)); err != nil {
						errs <- fmt.Errorf("client %d: %w", i, err)
					}
				}(i)
			}
			for i := 0; i < cap(sem); i++ {
				sem <- struct{}{}
			}
		}()
		<-done
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for s.Stats().ConnsOpen != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if st := s.Stats(); st.ConnsOpen != 0 || st.Stale != 0 || st.Panics != 0 {
			t.Fatalf("after the resets: %v", st)
		}
		client := &nethttp.Client{Timeout: 30 * time.Second}
		defer client.CloseIdleConnections()
		resp, body := get(t, client, newReq(t, "GET", url(s, "/big.bin"), nil))
		if resp.StatusCode != 200 || string(body) != string(bigContent) {
			t.Fatalf("after the resets: %d, %d bytes", resp.StatusCode, len(body))
		}
	})
}

// kernelRelease is uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// unboundedMultishotBurst reports whether the kernel predates 6.8, where
// (measured on Debian's 6.1) a multishot recv hands over much more in one
// go than on 6.18; 6.8 is the assumed boundary.
func unboundedMultishotBurst() bool {
	var major, minor int
	if _, err := fmt.Sscanf(kernelRelease(), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major < 6 || major == 6 && minor < 8
}
