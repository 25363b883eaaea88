package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCGIDemo serves the cgi package's test scripts with -cgi-dir and
// checks a script's answer, a POST, the 405, and the counters in
// /stats.json and /metrics.
func TestCGIDemo(t *testing.T) {
	dir, err := filepath.Abs("../cgi/testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	// The old-kernel VM's guest has the test binaries only: no scripts, no shell.
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the cgi package's test scripts are not here: %v", err)
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skipf("the test scripts need sh: %v", err)
	}
	o := options{cgi: cgiOptions{dir: dir, timeout: 10 * time.Second}}
	addr, _ := startDemo(t, o)
	base := "http://" + addr
	resp, body := get(t, base+"/cgi-bin/quick.sh")
	if resp.StatusCode != 200 || body != "quick\n" {
		t.Fatalf("quick.sh: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, base+"/cgi-bin/sub/script.sh/x")
	if resp.StatusCode != 200 || body != "sub /x\n" {
		t.Fatalf("sub/script.sh: %d %q", resp.StatusCode, body)
	}
	resp, _ = get(t, base+"/cgi-bin/garbage.sh")
	if resp.StatusCode != 502 {
		t.Fatalf("garbage.sh: %d", resp.StatusCode)
	}
	// A local redirect out of /cgi-bin/ goes to the demo's routes.
	if resp, body = get(t, base+"/cgi-bin/outside.sh"); resp.StatusCode != 404 {
		t.Fatalf("outside.sh: %d %q", resp.StatusCode, body)
	}
	// The demo's own routes still work.
	if resp, body = get(t, base+"/plaintext"); resp.StatusCode != 200 || body != "Hello, World!" {
		t.Fatalf("/plaintext: %d %q", resp.StatusCode, body)
	}
	_, body = get(t, base+"/stats.json")
	var js struct {
		CGI *struct {
			Started   uint64 `json:"started"`
			Status502 uint64 `json:"status_502"`
		} `json:"cgi"`
	}
	if err := json.Unmarshal([]byte(body), &js); err != nil {
		t.Fatalf("stats.json: %v", err)
	}
	if js.CGI == nil || js.CGI.Started != 4 || js.CGI.Status502 != 1 {
		t.Fatalf("stats.json cgi: %+v (%s)", js.CGI, body)
	}
	_, body = get(t, base+"/metrics")
	m := parseExposition(t, body)
	if m["uringnet_cgi_started_total"] != 4 {
		t.Errorf("uringnet_cgi_started_total %d", m["uringnet_cgi_started_total"])
	}
	if !strings.Contains(body, "uringnet_cgi_running") {
		t.Error("no uringnet_cgi_running")
	}
}

// TestCGIFlags checks the CGI flags.
func TestCGIFlags(t *testing.T) {
	var sb strings.Builder
	o, err := parseFlags([]string{"-cgi-dir", "/x", "-cgi-timeout", "5s"}, &sb)
	if err != nil || o.cgi.dir != "/x" || o.cgi.timeout != 5*time.Second {
		t.Fatalf("%+v %v", o.cgi, err)
	}
	if _, err := parseFlags([]string{"-cgi-timeout", "0"}, &sb); err == nil {
		t.Error("-cgi-timeout 0 accepted")
	}
	if _, err := parseFlags([]string{"-cgi-dir", "/x", "-stdlib"}, &sb); err == nil {
		t.Error("-cgi-dir with -stdlib accepted")
	}
	if o, err := parseFlags(nil, &sb); err != nil || o.cgi.timeout != 30*time.Second || o.cgi.dir != "" {
		t.Errorf("defaults %+v %v", o.cgi, err)
	}
}
