package http

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// statusOf returns the status of a Parse error, 0 for success and -1 for
// "need more".
func statusOf(n int, err error) int {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return -2
		}
		return e.Status
	}
	if n == 0 {
		return -1
	}
	return 0
}

const needMore = -1

func TestParseRules(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int // 0 = parsed, needMore, or the error status
	}{
		// Request line.
		{"simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"extension method", "PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"method not token", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"two spaces before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
		{"tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"no version (HTTP/0.9)", "GET /\r\n\r\n", 400},
		{"no spaces", "GET\r\n\r\n", 400},
		{"empty request line", "\r\n\r\n\r\n\r\n\r\n\r\n", 400},
		{"target with space", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"target with fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"target with NUL", "GET /a\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"target with DEL", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"target with high byte", "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"bad percent", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"truncated percent", "GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"good percent", "GET /a%4F%2f HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"query with braces", "GET /s?q={a|b} HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"absolute-form", "GET http://example.com/p?q HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"absolute-form https upper", "GET HTTPS://example.com:8443 HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"absolute-form other scheme", "GET ftp://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"absolute-form no host", "GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"absolute-form userinfo", "GET http://u@example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"authority-form CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0},
		{"authority-form IPv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"authority-form without port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"authority-form with GET", "GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"origin-form with CONNECT", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"asterisk OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"asterisk GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"OPTIONS origin-form", "OPTIONS /x HTTP/1.1\r\nHost: a\r\n\r\n", 0},

		// Version.
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", 0},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
		{"HTTP/0.9 spelled", "GET / HTTP/0.9\r\n\r\n", 505},
		{"HTTP/1", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
		{"lower-case http", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
		{"HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
		{"HTTP/a.b", "GET / HTTP/a.b\r\nHost: a\r\n\r\n", 400},

		// Line endings.
		{"bare LF everywhere", "GET / HTTP/1.1\nHost: a\n\n", 400},
		{"bare LF in header", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
		{"bare LF final", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
		{"bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"bare CR in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
		{"bare CR final", "GET / HTTP/1.1\r\nHost: a\r\n\rX", 400},
		{"one leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"four leading CRLF", "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"five leading CRLF", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"leading bare LF", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"leading bare CR", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},

		// Field lines.
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
		{"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400},
		{"obs-fold tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 400},
		{"leading space first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
		{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n", 400},
		{"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400},
		{"name with slash", "GET / HTTP/1.1\r\nHost: a\r\nX/A: b\r\n\r\n", 400},
		{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", 400},
		{"ESC in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x1bc\r\n\r\n", 400},
		{"DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n", 400},
		{"tab in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\tc\r\n\r\n", 0},
		{"obs-text in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xc3\xa9\r\n\r\n", 0},
		{"empty value", "GET / HTTP/1.1\r\nHost: a\r\nX-A:\r\n\r\n", 0},

		// Host.
		{"1.1 without Host", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400},
		{"1.0 without Host", "GET / HTTP/1.0\r\nX-A: b\r\n\r\n", 0},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400},
		{"two Hosts 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0},
		{"Host with port", "GET / HTTP/1.1\r\nHost: a.b:8080\r\n\r\n", 0},
		{"Host IPv6", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 0},
		{"Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
		{"Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
		{"Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},
		{"Host unclosed bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},

		// Content-Length.
		{"CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 0},
		{"CL zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 0},
		{"CL list identical", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 0},
		{"CL repeated identical", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0},
		{"CL list differing", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400},
		{"CL repeated differing", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
		{"CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400},
		{"CL negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
		{"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400},
		{"CL inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400},
		{"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
		{"CL empty element", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", 400},
		{"CL overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", 400},
		{"CL max int64", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", 413},
		{"CL above limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8388609\r\n\r\n", 413},
		{"CL at limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8388608\r\n\r\n", 0},

		// Transfer-Encoding.
		{"TE chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
		{"TE Chunked case", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n", 0},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"CL after TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400},
		{"TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501},
		{"TE unknown", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", 501},
		{"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"TE chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
		{"TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"TE chunked then gzip field", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
		{"TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400},
		{"TE commas only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,\r\n\r\n", 400},
		{"TE chunked with empty elements", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked,\r\n\r\n", 0},
		{"TE chunked with params", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 501},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"TE with space in name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", 400},
		{"TE xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501},

		// Incomplete.
		{"empty input", "", needMore},
		{"just CR", "\r", needMore},
		{"partial line", "GET / HTTP/1.1", needMore},
		{"partial line CR", "GET / HTTP/1.1\r", needMore},
		{"no final CRLF", "GET / HTTP/1.1\r\nHost: a\r\n", needMore},
		{"final CR only", "GET / HTTP/1.1\r\nHost: a\r\n\r", needMore},
	}
	var req Request
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.in), &req, nil)
			if got := statusOf(n, err); got != tt.want {
				t.Fatalf("Parse(%q) = %d, %v; want status %d", tt.in, n, err, tt.want)
			}
			if tt.want == 0 && n != len(tt.in) {
				t.Fatalf("Parse(%q) n = %d, want %d", tt.in, n, len(tt.in))
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	in := "POST http://Example.com:81?x=1 HTTP/1.1\r\n" +
		"Host: ignored\r\n" +
		"X-Empty:\r\n" +
		"X-Multi: a\r\n" +
		"Content-Length: 3, 3\r\n" +
		"x-multi:  b \t\r\n" +
		"Connection: Keep-Alive, Upgrade\r\n" +
		"Upgrade: websocket\r\n" +
		"Expect: 100-Continue\r\n" +
		"\r\nabc"
	var req Request
	n, err := Parse([]byte(in), &req, nil)
	if err != nil || n != len(in)-3 {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"Method", string(req.Method), "POST"},
		{"Target", string(req.Target), "http://Example.com:81?x=1"},
		{"Path", string(req.Path), "/"},
		{"Query", string(req.Query), "x=1"},
		{"Host", string(req.Host), "Example.com:81"},
		{"X-Multi", string(req.Header("x-MULTI")), "a"},
		{"X-Empty", string(req.Header("X-Empty")), ""},
		{"MethodString", req.MethodString(), "POST"},
		{"Body", req.Body.String(), "length"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if req.Header("X-Empty") == nil {
		t.Error("Header of a present empty field is nil")
	}
	if req.Header("Missing") != nil {
		t.Error("Header of a missing field is not nil")
	}
	if req.Form != FormAbsolute || req.Major != 1 || req.Minor != 1 {
		t.Errorf("Form, version = %v, %d.%d", req.Form, req.Major, req.Minor)
	}
	if req.ContentLength != 3 || !req.KeepAlive || req.Close || !req.Expect100 || !req.Upgrade {
		t.Errorf("CL=%d KeepAlive=%v Close=%v Expect100=%v Upgrade=%v",
			req.ContentLength, req.KeepAlive, req.Close, req.Expect100, req.Upgrade)
	}
	var vals []string
	req.HeaderValues("X-Multi", func(v []byte) bool { vals = append(vals, string(v)); return true })
	if strings.Join(vals, "|") != "a|b" {
		t.Errorf("HeaderValues = %q", vals)
	}
	vals = vals[:0]
	req.HeaderValues("X-Multi", func(v []byte) bool { vals = append(vals, string(v)); return false })
	if len(vals) != 1 {
		t.Errorf("HeaderValues did not stop: %q", vals)
	}
	if !req.HasToken("connection", "upgrade") || !req.HasToken("Connection", "KEEP-ALIVE") ||
		req.HasToken("Connection", "close") || req.HasToken("Upgrade", "h2c") {
		t.Error("HasToken wrong")
	}
	if len(req.Headers) != 8 {
		t.Errorf("len(Headers) = %d, want 8", len(req.Headers))
	}
}

func TestParseConnection(t *testing.T) {
	tests := []struct {
		in                                string
		keepAlive, close, expect, upgrade bool
		body                              BodyMode
		cl                                int64
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true, false, false, false, BodyNone, -1},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false, true, false, false, BodyNone, -1},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n", false, true, false, false, BodyNone, -1},
		{"GET / HTTP/1.0\r\n\r\n", false, false, false, false, BodyNone, -1},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, false, false, false, BodyNone, -1},
		{"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false, true, false, false, BodyNone, -1},
		{"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", false, false, false, false, BodyNone, -1},
		{"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", true, false, true, false, BodyNone, 0},
		{"PUT / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", true, false, false, false, BodyNone, -1},
		{"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", true, false, false, false, BodyNone, -1},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", true, false, false, false, BodyNone, -1},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", true, false, false, true, BodyNone, -1},
		{"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", false, false, false, false, BodyNone, -1},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", true, false, false, false, BodyChunked, -1},
		{"POST / HTTP/1.0\r\nContent-Length: 12\r\n\r\n", false, false, false, false, BodyLength, 12},
	}
	var req Request
	for _, tt := range tests {
		if _, err := Parse([]byte(tt.in), &req, nil); err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if req.KeepAlive != tt.keepAlive || req.Close != tt.close || req.Expect100 != tt.expect ||
			req.Upgrade != tt.upgrade || req.Body != tt.body || req.ContentLength != tt.cl {
			t.Errorf("Parse(%q): KeepAlive=%v Close=%v Expect100=%v Upgrade=%v Body=%v CL=%d",
				tt.in, req.KeepAlive, req.Close, req.Expect100, req.Upgrade, req.Body, req.ContentLength)
		}
	}
}

func TestParseTargetForms(t *testing.T) {
	tests := []struct {
		in                string
		form              TargetForm
		path, query, host string
	}{
		{"GET /a/b?c=d&e HTTP/1.1\r\nHost: h\r\n\r\n", FormOrigin, "/a/b", "c=d&e", "h"},
		{"GET /a? HTTP/1.1\r\nHost: h\r\n\r\n", FormOrigin, "/a", "", "h"},
		{"GET /?a?b HTTP/1.1\r\nHost: h\r\n\r\n", FormOrigin, "/", "a?b", "h"},
		{"GET http://x.y/p/q?r HTTP/1.1\r\nHost: h\r\n\r\n", FormAbsolute, "/p/q", "r", "x.y"},
		{"GET http://x.y HTTP/1.1\r\nHost: h\r\n\r\n", FormAbsolute, "/", "", "x.y"},
		{"GET http://x.y HTTP/1.0\r\n\r\n", FormAbsolute, "/", "", "x.y"},
		{"CONNECT x.y:443 HTTP/1.1\r\nHost: h\r\n\r\n", FormAuthority, "", "", "x.y:443"},
		{"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", FormAsterisk, "*", "", "h"},
	}
	var req Request
	for _, tt := range tests {
		if _, err := Parse([]byte(tt.in), &req, nil); err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if req.Form != tt.form || string(req.Path) != tt.path || string(req.Query) != tt.query || string(req.Host) != tt.host {
			t.Errorf("Parse(%q): form %d path %q query %q host %q", tt.in, req.Form, req.Path, req.Query, req.Host)
		}
	}
}

func TestParseLimits(t *testing.T) {
	long := func(n int) string { return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1")) + " HTTP/1.1" }
	fields := func(k int) string {
		var b strings.Builder
		for i := 0; i < k; i++ {
			b.WriteString("X-A: b\r\n")
		}
		return b.String()
	}
	small := &Limits{MaxRequestLine: 64, MaxHeaderBytes: 128, MaxHeaders: 3, MaxBodyBytes: 10}
	tests := []struct {
		name string
		in   string
		lim  *Limits
		want int
	}{
		{"line at limit", long(64) + "\r\nHost: a\r\n\r\n", small, 0},
		{"line over limit", long(65) + "\r\nHost: a\r\n\r\n", small, 414},
		{"line over limit, no CRLF yet", long(65), small, 414},
		{"line at limit, no CRLF yet", long(64), small, needMore},
		{"line at limit, CR", long(64) + "\r", small, needMore},
		{"line over, no CRLF, default", long(DefaultMaxRequestLine + 1), nil, 414},
		{"line at default", long(DefaultMaxRequestLine) + "\r\nHost: a\r\n\r\n", nil, 0},
		{"fields at limit", "GET / HTTP/1.1\r\nHost: a\r\n" + fields(2) + "\r\n", small, 0},
		{"fields over limit", "GET / HTTP/1.1\r\nHost: a\r\n" + fields(3) + "\r\n", small, 431},
		{"head at limit", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 128-32) + "\r\n\r\n", small, 0},
		{"head over limit", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 128-31) + "\r\n\r\n", small, 431},
		{"head over limit, incomplete", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 200), small, 431},
		{"head over default", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", DefaultMaxHeaderBytes), nil, 431},
		{"fields over limit, next line begun", "GET / HTTP/1.1\r\nHost: a\r\n" + fields(2) + "X", small, 431},
		{"fields at limit, final CR", "GET / HTTP/1.1\r\nHost: a\r\n" + fields(2) + "\r", small, needMore},
		{"field line cannot fit", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 125-28), small, 431},
		{"field line may still fit", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 124-28), small, needMore},
		{"many fields default", "GET / HTTP/1.1\r\nHost: a\r\n" + fields(DefaultMaxHeaders) + "\r\n", nil, 431},
		{"body at limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", small, 0},
		{"body over limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", small, 413},
		{"line longer than head limit", long(100), &Limits{MaxRequestLine: 200, MaxHeaderBytes: 50}, 431},
	}
	var req Request
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.in), &req, tt.lim)
			if got := statusOf(n, err); got != tt.want {
				t.Fatalf("Parse = %d, %v; want status %d", n, err, tt.want)
			}
		})
	}
}

func TestLimitsWithDefaults(t *testing.T) {
	var nilLim *Limits
	want := Limits{DefaultMaxRequestLine, DefaultMaxHeaderBytes, DefaultMaxHeaders, DefaultMaxBodyBytes}
	if got := nilLim.WithDefaults(); got != want {
		t.Errorf("nil.WithDefaults() = %+v", got)
	}
	for _, tc := range []struct {
		name     string
		in, want Limits
	}{
		{"zero is the default", Limits{MaxHeaders: 7}, Limits{DefaultMaxRequestLine, DefaultMaxHeaderBytes, 7, DefaultMaxBodyBytes}},
		{"negative is none", Limits{MaxRequestLine: -1, MaxHeaderBytes: -5, MaxHeaders: -1, MaxBodyBytes: -1},
			Limits{NoLimit, NoLimit, NoLimit, math.MaxInt64}},
	} {
		if got := tc.in.WithDefaults(); got != tc.want {
			t.Errorf("%s: WithDefaults() = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// No limit on the head: a 100 KiB field parses.
	big := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n"
	lim := Limits{MaxHeaderBytes: -1, MaxRequestLine: -1}
	if n, err := Parse([]byte(big), new(Request), &lim); err != nil || n != len(big) {
		t.Errorf("unlimited head: n=%d err=%v", n, err)
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse([]byte("GET / HTTP/2.0\r\n"), new(Request), nil)
	if got, want := err.Error(), "http: 505 HTTP Version Not Supported: unsupported HTTP version"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestMethodString(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PURGE"} {
		r := Request{Method: []byte(m)}
		if got := r.MethodString(); got != m {
			t.Errorf("MethodString() = %q, want %q", got, m)
		}
		if r.IsHead() != (m == "HEAD") {
			t.Errorf("IsHead() wrong for %s", m)
		}
	}
}

// splitRequests are valid inputs: a head, possibly followed by a body and
// further pipelined requests.
var splitRequests = []string{
	"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
	"\r\nGET / HTTP/1.0\r\n\r\n",
	"POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
	"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5;name=value;q=\"a \\\"b\"\r\nhello\r\n6 ; x\r\n world\r\n0\r\nTrailer-A: 1\r\nTrailer-B: two\r\n\r\n",
	"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
}

// snapshot renders the parsed fields of req for comparison.
func snapshot(r *Request) string {
	var b strings.Builder
	b.WriteString(string(r.Method) + " " + string(r.Target) + " " + string(r.Path) + " " + string(r.Query) + " " + string(r.Host))
	for _, h := range r.Headers {
		b.WriteString("|" + string(h.Name) + ":" + string(h.Value))
	}
	b.WriteString(strings.Join([]string{"", r.Body.String()}, " "))
	if r.KeepAlive {
		b.WriteString(" keep-alive")
	}
	return b.String() + " " + string(rune('0'+r.Minor))
}

func TestParseSplits(t *testing.T) {
	for _, in := range splitRequests {
		buf := []byte(in)
		for len(buf) > 0 {
			var full Request
			n, err := Parse(buf, &full, nil)
			if err != nil || n == 0 {
				t.Fatalf("Parse(%q) = %d, %v", buf, n, err)
			}
			want := snapshot(&full)
			var req Request
			for i := 0; i < n; i++ {
				if m, err := Parse(buf[:i], &req, nil); m != 0 || err != nil {
					t.Fatalf("Parse(prefix %q) = %d, %v; want need-more", buf[:i], m, err)
				}
			}
			for _, extra := range []int{0, len(buf) - n} {
				m, err := Parse(buf[:n+extra], &req, nil)
				if m != n || err != nil {
					t.Fatalf("Parse(%q) = %d, %v; want %d", buf[:n+extra], m, err, n)
				}
				if got := snapshot(&req); got != want {
					t.Fatalf("split parse gave %s, want %s", got, want)
				}
			}
			buf = skipBody(t, buf[n:], &full)
		}
	}
}

// skipBody consumes the body of req from buf, one byte at a time for chunked
// bodies, and returns what follows.
func skipBody(t *testing.T, buf []byte, req *Request) []byte {
	t.Helper()
	switch req.Body {
	case BodyLength:
		return buf[req.ContentLength:]
	case BodyChunked:
		var d ChunkedDecoder
		for i := 0; ; i++ {
			_, c, done, err := d.Next(buf[:1])
			if err != nil {
				t.Fatalf("chunked: %v", err)
			}
			buf = buf[c:]
			if done {
				return buf
			}
		}
	}
	return buf
}

func TestParseAllocs(t *testing.T) {
	in := []byte("GET /static/css/site.css?v=1234 HTTP/1.1\r\n" +
		"Host: www.example.com\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0)\r\n" +
		"Accept: text/css,*/*;q=0.1\r\n" +
		"Accept-Language: en-US,en;q=0.5\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\n" +
		"Referer: https://www.example.com/\r\n" +
		"Connection: keep-alive\r\n" +
		"Cache-Control: no-cache\r\n\r\n")
	if len(in) < 250 {
		t.Fatalf("request is only %d bytes", len(in))
	}
	var req Request
	if _, err := Parse(in, &req, nil); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := Parse(in, &req, nil); n != len(in) || err != nil {
			t.Fatalf("Parse = %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse allocated %v times per run, want 0", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	in := []byte("GET /static/css/site.css?v=1234 HTTP/1.1\r\n" +
		"Host: www.example.com\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0)\r\n" +
		"Accept: text/css,*/*;q=0.1\r\n" +
		"Accept-Language: en-US,en;q=0.5\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\n" +
		"Referer: https://www.example.com/\r\n" +
		"Connection: keep-alive\r\n" +
		"Cache-Control: no-cache\r\n\r\n")
	var req Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(in, &req, nil); err != nil {
			b.Fatal(err)
		}
	}
}
