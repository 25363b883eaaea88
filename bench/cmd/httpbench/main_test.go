package main

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-peers", "nginx, nethttp", "-scenarios", "static1m", "-pipeline", "8"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.peers, []string{"nginx", "nethttp"}) || !slices.Equal(cfg.scenarios, []string{"static1m"}) || cfg.pipeline != 8 {
		t.Errorf("parseFlags = %+v", cfg)
	}
	def, err := parseFlags(nil)
	if err != nil || def.conns != 128 || len(def.peers) != 6 || def.idle != 5000 || len(def.scenarios) != 5 || !def.install ||
		!slices.Equal(def.fixedKeys, []string{"plaintext", "static4k", "static64k", "static1m"}) || def.fixed["static1m"] != 800 ||
		def.fixed["plaintext"] != 20000 {
		t.Errorf("defaults = %+v, %v", def, err)
	}
	for _, bad := range [][]string{
		{"-peers", "caddy"}, {"-scenarios", "json"}, {"-duration", "100ms"}, {"-pipeline", "1"}, {"-rounds", "0"}, {"-x"},
		{"-fixed", "static4k"}, {"-fixed", "json=5"}, {"-idle", "-1"}, {"-fixed", "static4k=0"}, {"-variant", "x"}, {"-variant", "x=novalue"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

func TestVariantsAndFixed(t *testing.T) {
	cfg, err := parseFlags([]string{"-peers", "uringnet", "-variant", "direct=URINGNET_SENDFILE=direct,A=1", "-fixed", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.peers, []string{"uringnet", "uringnet:direct"}) || len(cfg.variants) != 1 ||
		!slices.Equal(cfg.variants[0].env, []string{"URINGNET_SENDFILE=direct", "A=1"}) || len(cfg.fixedKeys) != 0 {
		t.Errorf("parseFlags = %+v", cfg)
	}
	scens := []scenario{{key: "static4k", name: "static 4 KiB"}}
	peers := []*peer{{key: "uringnet", name: "uringnet"}, {key: "nginx", name: "nginx"}}
	res := map[string]map[string][]sample{"static4k": {
		"uringnet": {{perSec: 990, cpuUsPerReq: 8, cpuPct: 8}},
		"nginx":    {{perSec: 995, cpuUsPerReq: 10, cpuPct: 10}},
	}}
	md := fixedTable(scens, peers, map[string]float64{"static4k": 1000}, res).Markdown()
	for _, want := range []string{"| static 4 KiB | uringnet |          1000 |   990 |", "0.80x"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if sc := harness.WrkScriptRate(1, 100, 20000); !strings.Contains(sc, "local delay_ms = 5") || !strings.Contains(sc, "delay = function()") {
		t.Errorf("script:\n%s", sc)
	}
}

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plaintext":
			w.Write([]byte(plaintext))
		case "/short":
			w.Write([]byte("Hello"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	if err := check(ctx, addr, scenario{path: "/plaintext", body: []byte(plaintext)}); err != nil {
		t.Error(err)
	}
	if err := check(ctx, addr, scenario{path: "/short", body: []byte(plaintext)}); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("short body: %v", err)
	}
	if err := check(ctx, addr, scenario{path: "/missing", body: []byte(plaintext)}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	srv.Close()
	if err := check(ctx, addr, scenario{path: "/plaintext"}); err == nil {
		t.Error("closed server passed")
	}
}

func TestTable(t *testing.T) {
	scens := []scenario{{key: "plaintext", name: "plaintext keep-alive"}, {key: "static1m", name: "static 1 MiB"}}
	peers := []*peer{{key: "uringnet", name: "uringnet"}, {key: "nginx", name: "nginx"}}
	res := map[string]map[string][]sample{
		"plaintext": {"uringnet": {{perSec: 300, cpuUsPerReq: 2}}, "nginx": {{perSec: 100, cpuUsPerReq: 4, errors: 2}}},
		"static1m":  {"uringnet": {{perSec: 10, bytesPerSec: 4e6}}, "nginx": {{perSec: 20, bytesPerSec: 2e6}}},
	}
	failed := map[string]map[string]string{"static1m": {"uringnet": "boom"}}
	md := table(scens, peers, res, failed).Markdown()
	for _, want := range []string{"3.00x", "0.50x", "2.00x", "uringnet (failed, see below)", "|             2 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

func TestList(t *testing.T) {
	if got, err := list("a,b", []string{"a", "b"}); err != nil || len(got) != 2 {
		t.Errorf("list = %v, %v", got, err)
	}
	if _, err := list("a,", []string{"a"}); err == nil {
		t.Error("empty entry accepted")
	}
}

// TestRunNetHTTP runs the whole harness briefly against net/http (and nginx when it is
// installed); the uringnet demo is n/a unless example/ exists, and the net/http adapter
// unless example/stdhttpd does.
func TestRunNetHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds servers and runs wrk")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk not installed")
	}
	out := filepath.Join(t.TempDir(), "http.md")
	cfg, err := parseFlags([]string{"-duration", "1s", "-rounds", "1", "-conns", "4", "-install=false",
		"-peers", "uringnet,epoll,adapter,nethttp,fasthttp,nginx", "-scenarios", "plaintext,static4k", "-fixed", "plaintext=200,static4k=200",
		"-idle", "50", "-tls-peers", "uringnet,nethttp,nginx", "-tls-idle", "50", "-o", out})
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"## HTTP:", "| plaintext keep-alive | net/http", "| static 4 KiB         | net/http", "net/http final `stats accepted=",
		"### Fixed load: server CPU per request", "| static 4 KiB | net/http |           200 |",
		"### Idle keep-alive connections", "| net/http | 50 |", "### The epoll backend against issue 9's floors",
		"### The net/http adapter against issue 10's floors", "| plaintext keep-alive: req/s ≥ 1.50x net/http's |",
		"### HTTPS: TLS 1.3", "| HTTPS plaintext keep-alive | net/http", "| HTTPS new connection per request | net/http",
		"#### Idle TLS connections", "net/http negotiated TLS 1.3 TLS_AES_128_GCM_SHA256 X25519", "resumed=0`"} {
		// Column widths depend on which peers ran: compare with spaces collapsed.
		if !strings.Contains(collapse(md), collapse(want)) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| net/http |    n/a") {
		t.Errorf("net/http has no result:\n%s", md)
	}
}

// collapse replaces every run of spaces in s with one space.
func collapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}

func TestLookups(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := findWrk(false); err == nil || !strings.Contains(err.Error(), "wrk not found") {
		t.Errorf("findWrk without wrk: %v", err)
	}
	p, err := harness.LookNginx()
	if _, serr := os.Stat("/usr/sbin/nginx"); (serr == nil) != (err == nil) || (err == nil && p != "/usr/sbin/nginx") {
		t.Errorf("lookNginx = %q, %v", p, err)
	}
}

// TestFindWrkInstalls runs findWrk against a fake apt-get that "installs" wrk on the
// second try, after an update, like on a container without package lists.
func TestFindWrkInstalls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the fake apt-get is called directly only as root")
	}
	dir := t.TempDir()
	script := `#!/bin/sh
d=${0%/*}
case "$1" in
update) : > "$d/updated" ;;
install) [ -f "$d/updated" ] || exit 100; printf '#!/bin/sh\n' > "$d/wrk"; chmod +x "$d/wrk" ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "apt-get"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// PATH holds only the fakes (and chmod), so the real wrk stays out of sight.
	chmod, err := exec.LookPath("chmod")
	if err != nil {
		t.Skip(err)
	}
	if err := os.Symlink(chmod, filepath.Join(dir, "chmod")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	p, err := findWrk(true)
	if err != nil || p != filepath.Join(dir, "wrk") {
		t.Errorf("findWrk = %q, %v", p, err)
	}
	os.Remove(filepath.Join(dir, "wrk"))
	os.WriteFile(filepath.Join(dir, "apt-get"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	if _, err := findWrk(true); err == nil || !strings.Contains(err.Error(), "apt-get update") {
		t.Errorf("failing apt-get: %v", err)
	}
}

func TestLatencyMs(t *testing.T) {
	if got := latencyMs(1500 * time.Microsecond); got != 1.5 {
		t.Errorf("latencyMs(1.5ms) = %v", got)
	}
	// wrk's 0 is "unknown": n/a in the table, and left out of medians.
	if got := latencyMs(0); !math.IsNaN(got) {
		t.Errorf("latencyMs(0) = %v, want NaN", got)
	}
	ss := []sample{{p99ms: latencyMs(0)}, {p99ms: 2}, {p99ms: 4}}
	if got := median(ss, func(s sample) float64 { return s.p99ms }); got != 3 {
		t.Errorf("median without the unknown = %v, want 3", got)
	}
}
