package http

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// recordLog is an AccessLogger that keeps "METHOD TARGET STATUS" lines.
type recordLog struct {
	mu      sync.Mutex
	lines   []string
	flushes int
}

func (r *recordLog) LogAccess(e *AccessEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, string(e.Method)+" "+string(e.Target)+" "+itoa3(e.Status))
}

func (r *recordLog) FlushAccess(loop int, now time.Time) {
	r.mu.Lock()
	r.flushes++
	r.mu.Unlock()
}

func (r *recordLog) has(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if l == line {
			return true
		}
	}
	return false
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

// Every request reaches the access log with its status: the handler's
// answers, files (200, 206, 304, 404, 403), error pages, the parser's
// rejections (no method or target), body timeouts, and requests whose
// connection closed before any answer (status 0).
func TestAccessLogStatuses(t *testing.T) {
	rec := &recordLog{}
	s, _, _ := startHTTP(t, Config{AccessLog: rec, BodyTimeout: 200 * time.Millisecond})
	for _, tc := range []struct {
		req, want string
	}{
		{"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /plaintext 200"},
		{"GET /small.txt?v=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /small.txt?v=1 200"},
		{"GET /digits.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n", "GET /digits.txt 206"},
		{"GET /digits.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=99-\r\nConnection: close\r\n\r\n", "GET /digits.txt 416"},
		{"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /nope 404"},
		{"GET /../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /../secret.txt 403"},
		{"DELETE /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "DELETE /small.txt 405"},
		{"GET /error HTTP/1.1\r\nHost: x\r\n\r\n", "GET /error 503"},
		{"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /nothing 204"},
		{"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "OPTIONS * 200"},
		{"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "  400"},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 20000) + "\r\n\r\n", "  431"},
		{"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", "  413"},
		{"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", "POST /echo 408"},
	} {
		raw(t, s, tc.req, 5*time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for !rec.has(tc.want) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if !rec.has(tc.want) {
			t.Errorf("%q: no %q in %q", tc.req[:min(len(tc.req), 30)], tc.want, rec.lines)
		}
	}
	// A client that goes away before its (asynchronous) answer.
	c := dialRaw(t, s)
	c.Write([]byte("GET /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab"))
	time.Sleep(50 * time.Millisecond)
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !rec.has("GET /stream 000") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !rec.has("GET /stream 000") {
		t.Errorf("no status 0 for an unanswered request: %q", rec.lines)
	}
	rec.mu.Lock()
	flushes := rec.flushes
	rec.mu.Unlock()
	if flushes == 0 {
		t.Error("FlushAccess never called")
	}
}

// Logging costs the server no allocation per request.
func TestAccessLogAllocsPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := &Server{cfg: Config{AccessLog: nopLog{}}}
	s.loops = make([]loopState, 1)
	cn := &conn{}
	req := &Request{Method: []byte("GET"), Target: []byte("/plaintext")}
	ls := &s.loops[0]
	s.noteRequest(cn, req)
	if n := testing.AllocsPerRun(1000, func() {
		s.noteRequest(cn, req)
		cn.logged = false
		s.logStatusAt(ls, cn, 200, time.Time{})
	}); n != 0 {
		t.Errorf("%v allocations per logged request", n)
	}
}

type nopLog struct{}

func (nopLog) LogAccess(*AccessEntry)     {}
func (nopLog) FlushAccess(int, time.Time) {}
