package http

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStatusText(t *testing.T) {
	tests := map[int]string{
		100: "Continue", 200: "OK", 206: "Partial Content", 304: "Not Modified",
		400: "Bad Request", 413: "Content Too Large", 414: "URI Too Long",
		416: "Range Not Satisfiable", 422: "Unprocessable Content",
		431: "Request Header Fields Too Large", 501: "Not Implemented",
		505: "HTTP Version Not Supported", 299: "", 0: "", 999: "",
	}
	for code, want := range tests {
		if got := StatusText(code); got != want {
			t.Errorf("StatusText(%d) = %q, want %q", code, got, want)
		}
	}
	// Every known code of the standard table has a phrase.
	for code := 100; code < 600; code++ {
		if s := StatusText(code); s != "" && strings.TrimSpace(s) != s {
			t.Errorf("StatusText(%d) = %q has stray spaces", code, s)
		}
	}
}

func TestAppendHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"status 200", AppendStatusLine(nil, 200), "HTTP/1.1 200 OK\r\n"},
		{"status 404", AppendStatusLine([]byte("x"), 404), "xHTTP/1.1 404 Not Found\r\n"},
		{"status unknown", AppendStatusLine(nil, 299), "HTTP/1.1 299 \r\n"},
		{"header", AppendHeader(nil, "Content-Type", "text/plain"), "Content-Type: text/plain\r\n"},
		{"header CRLF injection", AppendHeader(nil, "X-A", "a\r\nSet-Cookie: x"), "X-A: a  Set-Cookie: x\r\n"},
		{"header tab kept", AppendHeader(nil, "X\n", "a\tb\x00\x7f"), "X : a\tb  \r\n"},
		{"content-length", AppendContentLength(nil, 1234567890123), "Content-Length: 1234567890123\r\n"},
		{"content-length 0", AppendContentLength(nil, 0), "Content-Length: 0\r\n"},
		{"chunk", AppendChunk(nil, []byte("hello")), "5\r\nhello\r\n"},
		{"chunk hex", AppendChunk(nil, make([]byte, 300)), "12c\r\n" + string(make([]byte, 300)) + "\r\n"},
		{"empty chunk", AppendChunk([]byte("x"), nil), "x"},
		{"last chunk", AppendLastChunk(nil), "0\r\n\r\n"},
		{"continue", AppendContinue(nil), "HTTP/1.1 100 Continue\r\n\r\n"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestAppendChunkRoundTrip(t *testing.T) {
	var src []byte
	for _, s := range []string{"a", strings.Repeat("b", 16), strings.Repeat("c", 4097)} {
		src = AppendChunk(src, []byte(s))
	}
	src = AppendLastChunk(src)
	body, n, done, err := decodeChunked(src, 0, whole)
	if err != nil || !done || n != len(src) || len(body) != 1+16+4097 {
		t.Fatalf("round trip: %d bytes, used %d, done %v, err %v", len(body), n, done, err)
	}
}

func TestAppendAllocs(t *testing.T) {
	dst := make([]byte, 0, 256)
	var dc DateCache
	now := time.Now()
	allocs := testing.AllocsPerRun(100, func() {
		d := AppendStatusLine(dst[:0], 200)
		d = AppendHeader(d, "Content-Type", "text/html")
		d = AppendContentLength(d, 12345)
		d = dc.Append(d, now)
		d = AppendChunk(d, []byte("hello"))
		_ = AppendLastChunk(d)
	})
	if allocs != 0 {
		t.Errorf("append helpers allocated %v times per run", allocs)
	}
}

func TestDateCache(t *testing.T) {
	var dc DateCache
	t0 := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	if got, want := string(dc.Append(nil, t0)), "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"; got != want {
		t.Fatalf("Append = %q, want %q", got, want)
	}
	// Same second, other zone: the cached text is used.
	same := t0.Add(999 * time.Millisecond).In(time.FixedZone("X", 3600))
	if got := string(dc.Value(same)); got != "Sun, 06 Nov 1994 08:49:37 GMT" {
		t.Fatalf("Value in the same second = %q", got)
	}
	if got := string(dc.Value(t0.Add(time.Second))); got != "Sun, 06 Nov 1994 08:49:38 GMT" {
		t.Fatalf("Value a second later = %q", got)
	}
	if got := string(dc.Value(t0.In(time.FixedZone("Y", -7*3600)))); got != "Sun, 06 Nov 1994 08:49:37 GMT" {
		t.Fatalf("Value in another zone = %q", got)
	}
	var epoch DateCache
	if got := string(epoch.Value(time.Unix(0, 0))); got != "Thu, 01 Jan 1970 00:00:00 GMT" {
		t.Fatalf("zero-second Value = %q", got)
	}
}

func TestErrorPages(t *testing.T) {
	var nilPages *ErrorPages
	body, ctype := nilPages.Body(404)
	if !strings.Contains(string(body), "404 Not Found") || ctype != htmlType {
		t.Fatalf("built-in 404 = %q, %q", body, ctype)
	}
	if body, _ := nilPages.Body(299); !strings.Contains(string(body), "299") {
		t.Fatalf("generic page = %q", body)
	}

	var p ErrorPages
	custom := []byte("<p>gone fishing</p>")
	p.Set(503, custom, "")
	custom[0] = 'X' // Set copied it
	if body, ctype := p.Body(503); string(body) != "<p>gone fishing</p>" || ctype != htmlType {
		t.Fatalf("custom 503 = %q, %q", body, ctype)
	}
	if body, _ := p.Body(500); !strings.Contains(string(body), "500 Internal Server Error") {
		t.Fatalf("built-in 500 through a set = %q", body)
	}

	dir := t.TempDir()
	txt := filepath.Join(dir, "404.txt")
	if err := os.WriteFile(txt, []byte("not here"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Load(404, txt); err != nil {
		t.Fatal(err)
	}
	if body, ctype := p.Body(404); string(body) != "not here" || ctype != "text/plain; charset=utf-8" {
		t.Fatalf("loaded 404 = %q, %q", body, ctype)
	}
	jsonPath := filepath.Join(dir, "e.JSON")
	os.WriteFile(jsonPath, []byte("{}"), 0o644)
	if err := p.Load(400, jsonPath); err != nil {
		t.Fatal(err)
	}
	if _, ctype := p.Body(400); ctype != "application/json" {
		t.Fatalf("json type = %q", ctype)
	}
	big := filepath.Join(dir, "big.html")
	os.WriteFile(big, make([]byte, maxErrorPageBytes+1), 0o644)
	for _, c := range []struct {
		code int
		path string
	}{{404, filepath.Join(dir, "missing.html")}, {404, dir}, {404, big}, {42, txt}} {
		if err := p.Load(c.code, c.path); err == nil {
			t.Errorf("Load(%d, %s) succeeded", c.code, c.path)
		}
	}
}

func TestErrorPagesAppendResponse(t *testing.T) {
	now := time.Date(2024, time.January, 2, 3, 4, 5, 0, time.UTC)
	var dc DateCache
	var p *ErrorPages
	body, _ := p.Body(431)
	got := string(p.AppendResponse(nil, 431, &dc, now, false))
	want := "HTTP/1.1 431 Request Header Fields Too Large\r\n" +
		"Date: Tue, 02 Jan 2024 03:04:05 GMT\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"Connection: close\r\n\r\n" + string(body)
	if got != want {
		t.Fatalf("AppendResponse =\n%q\nwant\n%q", got, want)
	}
	head := string(p.AppendResponse(nil, 431, nil, now, true))
	if !strings.HasSuffix(head, "Connection: close\r\n\r\n") || strings.Contains(head, "Date:") ||
		!strings.Contains(head, "Content-Length: "+strconv.Itoa(len(body))+"\r\n") {
		t.Fatalf("HEAD response = %q", head)
	}
	// The response parses as a single, complete message head.
	if i := strings.Index(got, "\r\n\r\n"); got[i+4:] != string(body) {
		t.Fatalf("body after head = %q", got[i+4:])
	}
}
