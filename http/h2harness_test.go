package http

// The server side of the HTTP/2 interop tests (issue 15; docs/design/http2.md
// §7): h2client_test.go (golang.org/x/net/http2), h2curl_test.go (curl),
// h2load_test.go (h2load) and h2spec_test.go (h2spec). They start a plain
// uringnet server with startH2 and no HTTP/2 configuration: the server
// speaks HTTP/2 by default, by prior knowledge and Upgrade: h2c in
// cleartext and by ALPN "h2" over TLS (it adds "h2" to NextProtos
// itself). Each test body takes only the server's address and whether it
// speaks TLS, so the same body runs against any HTTP/2 server.

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// h2Hello is the body of GET /hello; h2RootBody that of every other path
// (h2spec asks for / with GET and with POST).
var (
	h2Hello    = []byte("hello")
	h2RootBody = []byte("uringnet h2 test\n")
)

// h2Handler is the native handler of the HTTP/2 tests:
//
//	GET /hello   200 text/plain "hello"
//	POST /echo   200, the request body streamed back as it arrives (with the
//	             request's Content-Length, else chunked, which HTTP/2 turns
//	             into DATA frames)
//	anything else 200 text/plain h2RootBody, once the request body (if any)
//	             has all arrived
type h2Handler struct {
	NopHTTPHandler
	s      *Server
	mu     sync.Mutex
	bodies map[netserver.ClientNum]h2Pending
}

// h2Pending is a request whose body is still arriving.
type h2Pending struct {
	echo    bool // POST /echo: the body goes back as it comes
	chunked bool // echo without a length: the answer is chunked
}

func (h *h2Handler) pending(c netserver.ClientNum, p h2Pending) {
	h.mu.Lock()
	if h.bodies == nil {
		h.bodies = map[netserver.ClientNum]h2Pending{}
	}
	h.bodies[c] = p
	h.mu.Unlock()
}

func (h *h2Handler) HTTPRead(req *Request, c netserver.ClientNum, failed bool) {
	switch string(req.Path) {
	case "/hello":
		h.s.Respond(c, 200, "text/plain", h2Hello)
	case "/echo":
		if req.Body == BodyNone {
			h.s.Respond(c, 200, "application/octet-stream", nil)
			return
		}
		var head []byte
		chunked := req.Body != BodyLength
		if chunked {
			head = h.s.AppendHeadStart(nil, c, 200, true)
			head = append(head, "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"...)
			head = h.s.AppendHeadEnd(head, c, false)
		} else {
			head = h.s.AppendHead(nil, c, 200, "application/octet-stream", req.ContentLength)
		}
		h.pending(c, h2Pending{echo: true, chunked: chunked})
		h.s.Send(c, head)
	default:
		if req.Body == BodyNone {
			h.s.Respond(c, 200, "text/plain", h2RootBody)
			return
		}
		h.pending(c, h2Pending{})
	}
}

func (h *h2Handler) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	h.mu.Lock()
	p, ok := h.bodies[c]
	if ok && last {
		delete(h.bodies, c)
	}
	h.mu.Unlock()
	if !ok {
		return
	}
	if !p.echo {
		if last {
			h.s.Respond(c, 200, "text/plain", h2RootBody)
		}
		return
	}
	if p.chunked {
		if len(data) > 0 {
			h.s.Send(c, fmt.Appendf(nil, "%x\r\n", len(data)))
			h.s.Send(c, data)
			h.s.Send(c, []byte("\r\n"))
		}
		if last {
			h.s.Send(c, []byte("0\r\n\r\n"))
		}
	} else if len(data) > 0 {
		h.s.Send(c, data)
	}
	if last {
		h.s.EndResponse(c)
	}
}

func (h *h2Handler) HTTPClose(c netserver.ClientNum) {
	h.mu.Lock()
	delete(h.bodies, c)
	h.mu.Unlock()
}

// startH2 starts a uringnet server with h2Handler on 127.0.0.1:0 (TLS with
// the test pair's server config when tls is set; nothing about HTTP/2 is
// configured) and returns its address. At cleanup the server is closed
// and its tasks and fds checked, as startHTTP does.
func startH2(t testing.TB, tls bool) string {
	t.Helper()
	// The runtime's poller (an epoll fd and an eventfd) opens with the
	// first socket of the process: before counting, not during the test.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	fds := countFDs(t)
	// Limits.MaxBodyBytes above the 64 MiB echo of h2client_test.go.
	cfg := Config{Root: makeRoot(t), Limits: Limits{MaxBodyBytes: 128 << 20}}
	cfg.Net.Addrs = []string{"127.0.0.1:0"}
	cfg.Net.Logger = testLog()
	cfg.Net.Loops = 2
	if tls {
		cfg.Net.TLS = testPair().ServerConfig()
	}
	h := &h2Handler{}
	s := serveChecked(t, fds, cfg, h, func(s *Server) { h.s = s })
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready after 10 s")
	}
	return s.Addr().String()
}

// h2Modes runs f against a fresh server in cleartext and over TLS.
func h2Modes(t *testing.T, f func(t *testing.T, addr string, tls bool)) {
	for _, tls := range []bool{false, true} {
		name := "h2c"
		if tls {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) { f(t, startH2(t, tls), tls) })
	}
}

// h2ModesParallel is h2Modes with the two runs at once (for h2spec, which
// mostly waits on its timeouts). Both servers start first, one after the
// other, so that each one's fd count at cleanup (after both runs) holds.
func h2ModesParallel(t *testing.T, f func(t *testing.T, addr string, tls bool)) {
	addrs := []string{startH2(t, false), startH2(t, true)}
	for i, name := range []string{"h2c", "tls"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, addrs[i], i == 1)
		})
	}
}

// h2Base is the URL of addr's root, without the final slash.
func h2Base(addr string, tls bool) string {
	if tls {
		return "https://" + addr
	}
	return "http://" + addr
}

// h2Port is addr's port.
func h2Port(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lookTool finds a command in PATH, else in $GOPATH/bin (where go install
// puts h2spec), else skips the test saying so.
func lookTool(t testing.TB, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(string(trimNL(out))) {
			p := filepath.Join(dir, "bin", name)
			if _, err := exec.LookPath(p); err == nil {
				return p
			}
		}
	}
	t.Skipf("%s not available (install: %s)", name, install)
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
