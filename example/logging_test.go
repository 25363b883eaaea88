package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuf is a bytes.Buffer safe for one writer and one reader.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAccessLog(t *testing.T) {
	var buf lockedBuf
	a := newAccessLog(slog.New(slog.NewJSONHandler(&buf, nil)), 16)
	a.add([]byte("GET"), []byte("/plaintext"), 200, 1<<32|1)
	a.add([]byte("HEAD"), []byte("/big.bin"), 0, 1<<32|2)
	a.close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["msg"] != "request" || first["method"] != "GET" || first["path"] != "/plaintext" || first["status"] != 200.0 ||
		first["client"] != "0/1/1" {
		t.Errorf("first entry %v", first)
	}
	if _, ok := second["status"]; ok || second["method"] != "HEAD" {
		t.Errorf("second entry %v (a file has no status of ours)", second)
	}
	var off *accessLog
	off.add([]byte("GET"), []byte("/"), 200, 1) // switched off: nothing, no panic
	off.close()
}

// blockingWriter blocks every write until release is closed.
type blockingWriter struct {
	release chan struct{}
	out     *lockedBuf
}

func (w blockingWriter) Write(p []byte) (int, error) { <-w.release; return w.out.Write(p) }

func TestAccessLogNeverBlocks(t *testing.T) {
	var warn lockedBuf
	w := blockingWriter{make(chan struct{}), &warn}
	a := newAccessLog(slog.New(slog.NewTextHandler(w, nil)), 2)
	start := time.Now()
	for range 100 {
		a.add([]byte("GET"), []byte("/"), 200, 1)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("add blocked for %v", d)
	}
	if n := a.dropped.Load(); n < 97 {
		t.Errorf("dropped %d, want at least 97 (queue 2, one being written)", n)
	}
	close(w.release)
	a.close()
	if !strings.Contains(warn.String(), "dropped=") {
		t.Errorf("no dropped warning: %q", warn.String())
	}
}

func TestAccessLogOff(t *testing.T) {
	var off *accessLog
	if n := testing.AllocsPerRun(100, func() { off.add([]byte("GET"), []byte("/"), 200, 1) }); n != 0 {
		t.Errorf("switched-off access log allocates %v", n)
	}
}

func TestDemoLogs(t *testing.T) {
	var logs lockedBuf
	addr, _ := startDemo(t, options{logFormat: "json", accessLog: true, logOut: &logs, bigFile: 1 << 10})
	get(t, "http://"+addr+"/plaintext")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), `"path":"/plaintext"`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `"msg":"serving"`) || !strings.Contains(logs.String(), `"path":"/plaintext","client":`) {
		t.Errorf("logs: %s", logs.String())
	}
}
