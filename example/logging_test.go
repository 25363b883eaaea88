package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// lockedBuf is a bytes.Buffer safe for one writer and one reader; it
// counts the writes.
type lockedBuf struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuf) Writes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writes
}

var logTime = time.Date(2026, 11, 30, 17, 4, 5, 67_000_000, time.UTC)

func entry(method, target string, status int, c netserver.ClientNum) *http.AccessEntry {
	return &http.AccessEntry{Time: logTime, Client: c, Method: []byte(method), Target: []byte(target), Status: status}
}

func TestAccessLogFormat(t *testing.T) {
	for _, tc := range []struct {
		name     string
		e        *http.AccessEntry
		text     string
		jsonWant map[string]any
	}{
		{"plain", entry("GET", "/plaintext?x=1", 200, 1<<32|1),
			"time=2026-11-30T17:04:05.067Z level=INFO msg=request method=GET target=\"/plaintext?x=1\" status=200 client=0/1/1\n",
			map[string]any{"time": "2026-11-30T17:04:05.067Z", "level": "INFO", "msg": "request", "method": "GET",
				"target": "/plaintext?x=1", "status": 200.0, "client": "0/1/1"}},
		{"rejected by the parser", entry("", "", 431, 2<<56|5<<32|9),
			"time=2026-11-30T17:04:05.067Z level=INFO msg=request method=\"\" target=\"\" status=431 client=2/5/9\n",
			map[string]any{"method": "", "target": "", "status": 431.0, "client": "2/5/9"}},
		{"needs quoting", entry("GET", "/a b\"c\\\x01\xff\u00e9", 404, 1),
			"time=2026-11-30T17:04:05.067Z level=INFO msg=request method=GET target=\"/a b\\\"c\\\\\\u0001\\ufffd\u00e9\" status=404 client=0/0/1\n",
			map[string]any{"target": "/a b\"c\\\x01\ufffd\u00e9", "status": 404.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l loopLog
			text := (&accessLog{}).appendLine(nil, &l, tc.e)
			if string(text) != tc.text {
				t.Errorf("text\n got %q\nwant %q", text, tc.text)
			}
			line := (&accessLog{json: true}).appendLine(nil, &l, tc.e)
			var got map[string]any
			if err := json.Unmarshal(line, &got); err != nil {
				t.Fatalf("JSON %q: %v", line, err)
			}
			for k, v := range tc.jsonWant {
				if got[k] != v {
					t.Errorf("JSON %s = %#v, want %#v (line %q)", k, got[k], v, line)
				}
			}
		})
	}
}

// Lines are batched: a write per full buffer or per flush, never per line.
func TestAccessLogBatches(t *testing.T) {
	var out lockedBuf
	a := newAccessLog(&out, false, slog.New(slog.DiscardHandler))
	const n = 5000
	for i := range n {
		a.LogAccess(entry("GET", "/plaintext", 200, netserver.ClientNum(i%2)<<56))
	}
	a.FlushAccess(0, logTime)
	a.FlushAccess(1, logTime)
	a.close()
	if got := strings.Count(out.String(), "\n"); got != n {
		t.Fatalf("%d lines, want %d", got, n)
	}
	if w := out.Writes(); w > n/50 {
		t.Errorf("%d writes for %d lines", w, n)
	}
}

// blockingWriter blocks every write until release is closed.
type blockingWriter struct {
	release chan struct{}
	out     *lockedBuf
}

func (w blockingWriter) Write(p []byte) (int, error) { <-w.release; return w.out.Write(p) }

// A stuck writer never blocks a loop: lines are dropped and counted.
func TestAccessLogNeverBlocks(t *testing.T) {
	var out, warn lockedBuf
	w := blockingWriter{make(chan struct{}), &out}
	a := newAccessLog(w, true, slog.New(slog.NewTextHandler(&warn, nil)))
	done := make(chan struct{})
	const n = 100000 // ~10 MB of lines, far more than the queue holds
	go func() {
		defer close(done)
		for range n {
			a.LogAccess(entry("GET", "/plaintext", 200, 1))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("LogAccess blocked on a stuck writer")
	}
	dropped := a.dropped.Load()
	if dropped == 0 {
		t.Error("nothing dropped")
	}
	close(w.release)
	a.close()
	if got := uint64(strings.Count(out.String(), "\n")); got+dropped != n {
		t.Errorf("%d written + %d dropped != %d", got, dropped, n)
	}
	if !strings.Contains(warn.String(), "dropped=") {
		t.Errorf("no dropped warning: %q", warn.String())
	}
}

// Formatting a line allocates nothing.
func TestAccessLogAllocs(t *testing.T) {
	for _, js := range []bool{false, true} {
		a := newAccessLog(io.Discard, js, slog.New(slog.DiscardHandler))
		e := entry("GET", "/plaintext", 200, 1)
		a.LogAccess(e)
		if n := testing.AllocsPerRun(1000, func() { a.LogAccess(e) }); n != 0 {
			t.Errorf("json=%v: %v allocations per line", js, n)
		}
		a.FlushAccess(0, logTime)
		a.close()
	}
}

func BenchmarkAccessLog(b *testing.B) {
	a := newAccessLog(io.Discard, false, slog.New(slog.DiscardHandler))
	defer a.close()
	e := entry("GET", "/plaintext", 200, 1)
	b.ReportAllocs()
	for b.Loop() {
		a.LogAccess(e)
	}
}

// Every request gets a line with its status: the demo's routes, files,
// 404, 403, 405, and the requests the parser refuses (400, 413, 431).
func TestDemoLogs(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) { testDemoLogs(t, mode.stdlib) })
	}
}

func testDemoLogs(t *testing.T, stdlib bool) {
	var logs lockedBuf
	addr, _ := startDemo(t, options{logFormat: "json", accessLog: true, logOut: &logs, bigFile: 1 << 10, stdlib: stdlib})
	for _, tc := range []struct {
		req    string
		status int
		target string
		// stdStatus, when set, is the status in -stdlib mode, where
		// net/http's handlers answer instead of uringnet's.
		stdStatus int
	}{
		{"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 200, "/plaintext", 0},
		{"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n", 200, "/style.css", 0},
		{"GET /style.css HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n", 206, "/style.css", 0},
		{"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n", 404, "/nothing-here", 0},
		// net/http's FileServer resolves dot segments within the root:
		// /etc/passwd under it, which does not exist.
		{"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 403, "/%2e%2e/etc/passwd", 404},
		{"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 405, "/echo", 0},
		{"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501, "/pot", 0},
		{"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, "/metrics", 0},
		{"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "", 0},
		{"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413, "", 0},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 20000) + "\r\n\r\n", 431, "", 0},
	} {
		if stdlib && tc.stdStatus != 0 {
			tc.status = tc.stdStatus
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(tc.req))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 64)
		n, _ := io.ReadAtLeast(c, b, 12)
		c.Close()
		if want := "HTTP/1.1 " + itoa(tc.status); !strings.HasPrefix(string(b[:n]), want) {
			t.Errorf("%q: got %q", tc.req[:min(len(tc.req), 40)], b[:n])
		}
		want := `"target":"` + tc.target + `","status":` + itoa(tc.status)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(logs.String(), want) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in the log", want)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"serving"`) {
		t.Errorf("logs: %s", logs.String())
	}
	for line := range strings.Lines(logs.String()) {
		var e struct {
			Msg, Backend, Mode string
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "serving" {
			checkBackend(t, "the serving log line", e.Backend)
			if want := map[bool]string{false: "native", true: "stdlib"}[stdlib]; e.Mode != want {
				t.Errorf("the serving log line says mode %q, want %q", e.Mode, want)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Whatever the method and target, a JSON line is valid JSON that gives
// them back (invalid UTF-8 as U+FFFD), and a text line is one line.
func FuzzAccessLogLine(f *testing.F) {
	f.Add([]byte("GET"), []byte("/plaintext?x=1"), 200)
	f.Add([]byte(""), []byte("\"\\\x00\x7f\xff\xfe é"), 431)
	f.Fuzz(func(t *testing.T, method, target []byte, status int) {
		e := &http.AccessEntry{Time: logTime, Client: 1, Method: method, Target: target, Status: status}
		var l loopLog
		line := (&accessLog{json: true}).appendLine(nil, &l, e)
		var got map[string]any
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("JSON %q: %v", line, err)
		}
		if want := strings.ToValidUTF8(string(target), "\ufffd"); got["target"] != want && utf8.ValidString(string(target)) {
			t.Errorf("target %q, want %q", got["target"], want)
		}
		text := (&accessLog{}).appendLine(nil, &l, e)
		if bytes.Count(text, []byte("\n")) != 1 || text[len(text)-1] != '\n' {
			t.Errorf("text line %q", text)
		}
	})
}
