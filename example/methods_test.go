package main

import (
	"bufio"
	"io"
	"net"
	nethttp "net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// demoModes are the ways the demo serves HTTP: its own callbacks
// (native), and net/http handlers on the adapter (-stdlib).
var demoModes = []struct {
	name   string
	stdlib bool
}{
	{"native", false},
	{"stdlib", true},
}

// rawResponse is a response read off a raw connection.
type rawResponse struct {
	status int
	header nethttp.Header
	body   string
}

// rawExchange sends reqs, raw requests, pipelined on one connection and
// reads one response per request (a HEAD's without a body: a body sent
// anyway would garble the next response).
func rawExchange(t *testing.T, addr string, reqs ...string) []rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return exchangeOn(t, conn, reqs...)
}

// exchangeOn is rawExchange on conn (a TLS connection, say), which it
// closes.
func exchangeOn(t *testing.T, conn net.Conn, reqs ...string) []rawResponse {
	t.Helper()
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, strings.Join(reqs, "")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var out []rawResponse
	for i, r := range reqs {
		method, _, _ := strings.Cut(r, " ")
		resp, err := nethttp.ReadResponse(br, &nethttp.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d (to %q): %v", i, firstLine(r), err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d (to %q): body: %v", i, firstLine(r), err)
		}
		out = append(out, rawResponse{resp.StatusCode, resp.Header, string(b)})
	}
	return out
}

// firstLine is the request line of a raw request.
func firstLine(r string) string {
	l, _, _ := strings.Cut(r, "\r\n")
	return l
}

// rawGet is a raw request with method on path and no body.
func rawGet(method, path string) string {
	return method + " " + path + " HTTP/1.1\r\nHost: demo\r\n\r\n"
}

// TestMethods: every route checks its method. Unsupported ones get 405
// and an Allow field, unknown ones 501, and the connection stays usable
// after either (each refused request is followed by a GET on the same
// connection).
func TestMethods(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: mode.stdlib})
			for _, tc := range []struct {
				req    string
				status int
				allow  string
			}{
				{rawGet("POST", "/plaintext"), 405, "GET, HEAD"},
				{"POST /json HTTP/1.1\r\nHost: demo\r\nContent-Length: 4\r\n\r\nabcd", 405, "GET, HEAD"},
				{rawGet("PUT", "/"), 405, "GET, HEAD"},
				{rawGet("DELETE", "/style.css"), 405, "GET, HEAD"},
				{rawGet("PATCH", "/stats.json"), 405, "GET, HEAD"},
				{rawGet("OPTIONS", "/plaintext"), 405, "GET, HEAD"},
				{rawGet("TRACE", "/index.html"), 405, "GET, HEAD"},
				{rawGet("POST", "/metrics"), 405, "GET, HEAD"},
				{rawGet("DELETE", "/ws"), 405, "GET, HEAD"},
				{rawGet("POST", "/chat"), 405, "GET, HEAD"},
				{rawGet("PUT", "/stats"), 405, "GET, HEAD"},
				{rawGet("POST", "/no-such-file"), 405, "GET, HEAD"},
				{rawGet("GET", "/echo"), 405, "POST"},
				{rawGet("HEAD", "/echo"), 405, "POST"},
				{"PUT /echo HTTP/1.1\r\nHost: demo\r\nContent-Length: 2\r\n\r\nhi", 405, "POST"},
				{rawGet("PURGE", "/plaintext"), 501, ""},
				{rawGet("BREW", "/"), 501, ""},
				{rawGet("get", "/plaintext"), 501, ""}, // methods are case-sensitive
				{rawGet("Head", "/json"), 501, ""},
				{rawGet("PROPFIND", "/echo"), 501, ""},
				{"MKCOL /x HTTP/1.1\r\nHost: demo\r\nContent-Length: 3\r\n\r\nabc", 501, ""},
			} {
				got := rawExchange(t, addr, tc.req, rawGet("GET", "/plaintext"))
				r := got[0]
				if r.status != tc.status || r.header.Get("Allow") != tc.allow {
					t.Errorf("%q: %d, Allow %q; want %d, Allow %q", firstLine(tc.req), r.status, r.header.Get("Allow"), tc.status, tc.allow)
				}
				if method, _, _ := strings.Cut(tc.req, " "); method == "HEAD" && r.body != "" {
					t.Errorf("%q: body %q on a HEAD", firstLine(tc.req), r.body)
				}
				if got[1].status != 200 || got[1].body != "Hello, World!" {
					t.Errorf("after %q: GET /plaintext: %d %q", firstLine(tc.req), got[1].status, got[1].body)
				}
			}
		})
	}
}

// TestHead: HEAD works wherever GET does, with the same status and
// fields (Date aside; the length of the counters' bodies aside, which
// change between the two requests) and no body.
func TestHead(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 1 << 20, stdlib: mode.stdlib})
			for _, tc := range []struct {
				path   string
				status int
				live   bool // the body changes from one request to the next
			}{
				{"/plaintext", 200, false},
				{"/json", 200, false},
				{"/", 200, false},
				{"/style.css", 200, false},
				{"/range.html", 200, false},
				{"/big.bin", 200, false},
				{"/ws", 200, false},
				{"/chat", 200, false},
				{"/no-such-file", 404, true}, // error pages may differ in length by mode
				{"/stats.json", 200, true},
				{"/metrics", 200, true},
			} {
				got := rawExchange(t, addr, rawGet("GET", tc.path), rawGet("HEAD", tc.path), rawGet("GET", "/json"))
				g, h := got[0], got[1]
				if g.status != tc.status || h.status != tc.status {
					t.Errorf("%s: GET %d, HEAD %d; want %d", tc.path, g.status, h.status, tc.status)
				}
				if h.body != "" {
					t.Errorf("HEAD %s: body %q", tc.path, h.body)
				}
				if h.header.Get("Content-Length") == "" && h.header.Get("Transfer-Encoding") == "" {
					t.Errorf("HEAD %s: neither Content-Length nor Transfer-Encoding: %v", tc.path, h.header)
				}
				for name := range mergeKeys(g.header, h.header) {
					if name == "Date" || tc.live && name == "Content-Length" {
						continue
					}
					if !slices.Equal(g.header[name], h.header[name]) {
						t.Errorf("%s: %s is %q on GET, %q on HEAD", tc.path, name, g.header[name], h.header[name])
					}
				}
				if cl := g.header.Get("Content-Length"); !tc.live && cl != "" && cl != strconv.Itoa(len(g.body)) {
					t.Errorf("GET %s: Content-Length %s, body of %d bytes", tc.path, cl, len(g.body))
				}
				if got[2].status != 200 || got[2].body != `{"message":"Hello, World!"}` {
					t.Errorf("after HEAD %s: GET /json: %d %q", tc.path, got[2].status, got[2].body)
				}
			}
		})
	}
}

// mergeKeys returns the set of field names of a and b.
func mergeKeys(a, b nethttp.Header) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func TestCheckMethod(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/plaintext", 0, ""},
		{"HEAD", "/plaintext", 0, ""},
		{"HEAD", "/anything/at/all", 0, ""},
		{"POST", "/echo", 0, ""},
		{"POST", "/plaintext", 405, "GET, HEAD"},
		{"CONNECT", "", 405, "GET, HEAD"},
		{"GET", "/echo", 405, "POST"},
		{"HEAD", "/echo", 405, "POST"},
		{"post", "/echo", 501, ""},
		{"QUERY", "/json", 501, ""},
	} {
		if status, allow := checkMethod(tc.method, tc.path); status != tc.status || allow != tc.allow {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, status, allow, tc.status, tc.allow)
		}
	}
}

// The method check costs native mode's hot path no allocation.
func TestCheckMethodAllocs(t *testing.T) {
	path := []byte("/a/rather/long/path/to/some/file/deep/in/the/site.css")
	if n := testing.AllocsPerRun(100, func() {
		if status, _ := checkMethod("GET", path); status != 0 {
			t.Fatal(status)
		}
		if status, _ := checkMethod("DELETE", path); status != 405 {
			t.Fatal(status)
		}
	}); n != 0 {
		t.Errorf("%v allocations per check", n)
	}
}
