package harness

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	out := "Running 1s test\n  1 threads\nWRKRESULT requests=2000 bytes=300000 duration_us=2000000 errors=3 status_errors=0 p50_us=150 p99_us=900\n"
	r, err := ParseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := WrkResult{Requests: 2000, Bytes: 300000, Duration: 2 * time.Second, Errors: 3,
		P50: 150 * time.Microsecond, P99: 900 * time.Microsecond}
	if r != want || r.PerSec() != 1000 || r.BytesPerSec() != 150000 {
		t.Errorf("ParseWrk = %+v (%v/s, %v B/s)", r, r.PerSec(), r.BytesPerSec())
	}
	for _, bad := range []string{
		"",
		"WRKRESULT requests=1",
		"WRKRESULT requests=1 bytes=1 duration_us=0 errors=0 status_errors=0 p50_us=1 p99_us=1",
		"WRKRESULT requests=x bytes=1 duration_us=1 errors=0 status_errors=0 p50_us=1 p99_us=1",
		"WRKRESULT a",
	} {
		if _, err := ParseWrk(bad); err == nil {
			t.Errorf("ParseWrk(%q) succeeded", bad)
		}
	}
}

func TestWrkArgsAndScript(t *testing.T) {
	args := WrkArgs(128, 1500*time.Millisecond, "/s.lua", "http://h/p")
	want := []string{"-t1", "-c128", "-d2s", "--timeout", "5s", "-s", "/s.lua", "http://h/p"}
	if !slices.Equal(args, want) {
		t.Errorf("WrkArgs = %q", args)
	}
	if args := WrkArgs(1, time.Millisecond, "s", "u"); args[2] != "-d1s" {
		t.Errorf("short duration: %q", args[2])
	}
	if s := WrkScript(1); strings.Contains(s, "request =") || !strings.Contains(s, "WRKRESULT") {
		t.Errorf("WrkScript(1):\n%s", s)
	}
	if s := WrkScript(16); !strings.Contains(s, "local depth = 16") {
		t.Errorf("WrkScript(16):\n%s", s)
	}
}

// TestWrkScriptRuns runs the scripts in wrk itself against a test server: the Lua must
// load, pipelining must send several requests per write, and done() must print a line
// ParseWrk reads.
func TestWrkScriptRuns(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk not installed:", err)
	}
	if testing.Short() {
		t.Skip("runs wrk for a second")
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != "/plaintext" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "Hello, World!")
	}))
	defer srv.Close()
	for _, depth := range []int{1, 4} {
		script := filepath.Join(t.TempDir(), "s.lua")
		if err := os.WriteFile(script, []byte(WrkScript(depth)), 0o644); err != nil {
			t.Fatal(err)
		}
		n.Store(0)
		out, err := Run(context.Background(), Spec{Name: "wrk", Path: wrk,
			Args: WrkArgs(2, time.Second, script, srv.URL+"/plaintext")}, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseWrk(out)
		if err != nil {
			t.Fatalf("depth %d: %v\n%s", depth, err, out)
		}
		if r.Requests < 10 || r.StatusErrors != 0 || r.Bytes < r.Requests*13 {
			t.Errorf("depth %d: %+v", depth, r)
		}
		if got := n.Load(); got < r.Requests {
			t.Errorf("depth %d: server saw %d requests, wrk counted %d", depth, got, r.Requests)
		}
	}
}

func FuzzParseWrk(f *testing.F) {
	f.Add("WRKRESULT requests=2000 bytes=300000 duration_us=2000000 errors=3 status_errors=0 p50_us=150 p99_us=900\n")
	f.Add("x\nWRKRESULT requests=1 bytes=1 duration_us=1 errors=0 status_errors=0 p50_us=1 p99_us=1")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseWrk(s)
		if err == nil && (r.Duration <= 0 || r.PerSec() != r.PerSec()) {
			t.Fatalf("ParseWrk(%q) = %+v", s, r)
		}
	})
}
