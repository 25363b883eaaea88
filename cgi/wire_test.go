package cgi

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawExchange sends req on a fresh connection and returns everything the
// server sends until it closes the connection.
func rawExchange(t *testing.T, hs *harness, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", hs.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return string(b)
}

// TestWire checks framings net/http's client hides: HTTP/1.0, HEAD,
// chunked request bodies, NPH.
func TestWire(t *testing.T) {
	hs := startServer(t, nil)
	base := fdCount(t)
	tests := []struct {
		name, req string
		want      []string // substrings of the answer
		not       []string
	}{
		{"http/1.0 close-delimited", "GET /cgi-bin/quick.sh HTTP/1.0\r\n\r\n",
			[]string{"HTTP/1.1 200 ", "Connection: close\r\n", "\r\n\r\nquick\n"}, []string{"chunked", "Content-Length"}},
		{"head", "HEAD /cgi-bin/quick.sh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			[]string{"HTTP/1.1 200 "}, []string{"quick", "chunked"}},
		{"chunked body", "POST /cgi-bin/echo.py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			[]string{"HTTP/1.1 411 "}, nil},
		{"nph", "GET /cgi-bin/nph-raw.sh HTTP/1.1\r\nHost: x\r\n\r\n",
			[]string{"HTTP/1.1 202 Accepted\r\n", "X-Nph: 1\r\n\r\nraw body\n"}, nil},
		{"bad path", "GET /cgi-bin/a%zz HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HTTP/1.1 400 "}, nil},
		{"outside prefix", "GET /cgi-binx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []string{"HTTP/1.1 404 "}, nil},
		{"keep-alive pipelined", "GET /cgi-bin/quick.sh HTTP/1.1\r\nHost: x\r\n\r\nGET /cgi-bin/length.py?10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			[]string{"quick\n", "Content-Length: 10\r\n"}, nil},
		{"expect continue", "POST /cgi-bin/echo.py HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd",
			[]string{"\r\n4\r\nabcd\r\n0\r\n\r\n"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rawExchange(t, hs, tc.req)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("answer has %q:\n%s", w, got)
				}
			}
		})
	}
	checkClean(t, hs.cgi, base)
}

// TestNewErrors checks the configuration errors.
func TestNewErrors(t *testing.T) {
	hs := startServer(t, nil)
	for _, cfg := range []Config{{}, {Dir: "/nonexistent/dir"}, {Dir: binDir(t), Prefix: "cgi"}} {
		if h, err := New(hs.srv, cfg); err == nil {
			h.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	h, err := New(hs.srv, Config{Dir: binDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c := h.Config()
	if c.Prefix != DefaultPrefix || c.Timeout != DefaultTimeout || c.MaxConcurrent != DefaultMaxConcurrent {
		t.Errorf("defaults %+v", c)
	}
	if !h.Match([]byte("/cgi-bin")) || !h.Match([]byte("/cgi-bin/x")) || h.Match([]byte("/cgi-binx")) {
		t.Error("Match")
	}
	if e := (&HeadError{Status: 502, Err: ErrBadHead}).Error(); !strings.Contains(e, "502") {
		t.Error(e)
	}
	if e := (&LocalRedirect{Path: "/x"}).Error(); !strings.Contains(e, "/x") {
		t.Error(e)
	}
}

// TestParseHead checks the head parser on a table.
func TestParseHead(t *testing.T) {
	tests := []struct {
		in     string
		ok     bool
		status int
		local  bool
		fields int
	}{
		{"Content-Type: a\n\n", true, 0, false, 0},
		{"Status: 404 Not Found\r\nContent-Type: a\r\n\r\n", true, 404, false, 0},
		{"Status: 404\n\n", true, 404, false, 0},
		{"Location: /x\n\n", true, 0, true, 0},
		{"Location: //host/x\n\n", true, 0, false, 0},
		{"Location: /x\nStatus: 301\n\n", true, 301, false, 0},
		{"Content-Type: a\nX-A: 1\nConnection: close\nDate: x\n\n", true, 0, false, 1},
		{"Content-Type: a\nContent-Length: 3\nContent-Length: 3\n\n", true, 0, false, 0},
		{"Content-Type: a\nContent-Length: 3\nContent-Length: 4\n\n", false, 0, false, 0},
		{"Content-Type: a\nContent-Length: x\n\n", false, 0, false, 0},
		{"Status: 199\n\n", false, 0, false, 0},
		{"Status: 2000\n\n", false, 0, false, 0},
		{"Status: abc\n\n", false, 0, false, 0},
		{"Location: \n\n", false, 0, false, 0},
		{"X-A: 1\n\n", false, 0, false, 0},
		{"X A: 1\nContent-Type: a\n\n", false, 0, false, 0},
		{": 1\nContent-Type: a\n\n", false, 0, false, 0},
		{"Content-Type: a", false, 0, false, 0},
		{"Content-Type: a\x00\n\n", false, 0, false, 0},
		{strings.Repeat("X-A: 1\n", maxHeadFields+1) + "Content-Type: a\n\n", false, 0, false, 0},
	}
	for _, tc := range tests {
		h, err := ParseHead([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if err != nil {
			continue
		}
		if h.Status != tc.status || h.IsLocalRedirect() != tc.local || len(h.Fields) != tc.fields {
			t.Errorf("%q: %+v", tc.in, h)
		}
	}
}

// TestSplitHead: a head that arrives a byte at a time, and one that is
// too long, through a script.
func TestOutputHeadLimits(t *testing.T) {
	hs := startServer(t, nil)
	resp, body := hs.get("/cgi-bin/bytewise.sh")
	if resp.StatusCode != 200 || body != "ok\n" || resp.Header.Get("X-Long") == "" {
		t.Fatalf("bytewise: %d %q", resp.StatusCode, body)
	}
	resp, _ = hs.get("/cgi-bin/hugehead.py")
	if resp.StatusCode != 502 {
		t.Fatalf("huge head: %d", resp.StatusCode)
	}
	// A body shorter than its Content-Length: the connection is aborted.
	r, err := hs.cl.Get(hs.url + "/cgi-bin/short.sh")
	if err == nil {
		_, err = io.ReadAll(r.Body)
		r.Body.Close()
	}
	if err == nil {
		t.Error("short body: no error")
	}
}
