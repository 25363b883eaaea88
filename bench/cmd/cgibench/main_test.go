package main

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil || cfg.rounds != 3 || cfg.conns != 32 || cfg.duration != 5*time.Second || cfg.children != 1 ||
		strings.Join(cfg.scenarios, ",") != "cgi,fcgiwrap,goapp" {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = parseFlags([]string{"-scenarios", "goapp, cgi", "-o", "x.md"}, io.Discard)
	if err != nil || strings.Join(cfg.scenarios, ",") != "goapp,cgi" || cfg.out != "x.md" {
		t.Fatalf("got %+v, %v", cfg, err)
	}
	for _, bad := range [][]string{{"-scenarios", "php"}, {"-scenarios", ""}, {"-rounds", "0"},
		{"-duration", "500ms"}, {"-fcgiwrap-children", "0"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHasFlag(t *testing.T) {
	help := "Usage of demo:\n  -addr address\n    \taddress to listen on\n  -cgi-dir directory\n    \tCGI scripts\n" +
		"  -fastcgi-pattern suffix\n    \twhich paths\n"
	tl := &tools{demo: "demo", demoHelp: help, why: map[string]string{}}
	if why := tl.demoLacks([]string{"-cgi-dir"}); why != "" {
		t.Errorf("-cgi-dir: %s", why)
	}
	// "-fastcgi" is not "-fastcgi-pattern".
	if why := tl.demoLacks([]string{"-fastcgi", "-fastcgi-pattern", "-cgi-timeout"}); !strings.Contains(why, "-fastcgi, -cgi-timeout") {
		t.Errorf("got %q", why)
	}
}

func TestCPUBusy(t *testing.T) {
	stat := "cpu  10 0 10 100 5 0 0 0 0 0\ncpu0 100 2 50 9999 77 3 4 1 0 0\ncpu1 1 1 1 1 1 1 1 1 0 0\nintr 5\n"
	d, err := cpuBusy(stat, "0")
	if want := 160 * 10 * time.Millisecond; err != nil || d != want {
		t.Errorf("cpu0: %v, %v; want %v", d, err, want)
	}
	if _, err := cpuBusy(stat, "7"); err == nil {
		t.Error("cpu7 found")
	}
	if _, err := readCPUBusy("0"); err != nil {
		t.Error(err)
	}
}

func TestNginxConfig(t *testing.T) {
	dir := t.TempDir()
	c := nginxConfig(dir, "127.0.0.1:1", dir, "/srv/cgi-bin", dir+"/app.sock", false)
	for _, want := range []string{"worker_processes 1;", "server unix:" + dir + "/app.sock;", `SCRIPT_FILENAME "/srv/cgi-bin/$1";`,
		"SCRIPT_FILENAME $document_root$fastcgi_script_name;", "location ~ \\.cgi$", "fastcgi_param REQUEST_METHOD"} {
		if !strings.Contains(c, want) {
			t.Errorf("no %q in\n%s", want, c)
		}
	}
	if strings.Contains(c, "keep") && strings.Contains(c, "fastcgi_keep_conn") {
		t.Errorf("keep-conn without keepConn:\n%s", c)
	}
	k := nginxConfig(dir, "127.0.0.1:1", dir, "/srv/cgi-bin", dir+"/app.sock", true)
	if strings.Count(k, "fastcgi_keep_conn on;") != 2 || !strings.Contains(k, "keepalive 32;") {
		t.Errorf("keepConn:\n%s", k)
	}
	// nginx itself checks the syntax, when installed.
	nginx, err := lookTool("nginx")
	if err != nil {
		t.Log(err)
		return
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-c", conf, "-e", dir+"/error.log").CombinedOutput(); err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

func TestRender(t *testing.T) {
	cfg, _ := parseFlags(nil, io.Discard)
	ms := time.Millisecond
	run := func(perSec float64, errs int64) sample {
		return sample{perSec: perSec, p50: 30 * ms, p99: 40 * ms, errors: errs, requests: 5000, cpuMsPerReq: 1}
	}
	cgi, _ := lookupScenario("cgi")
	fw, _ := lookupScenario("fcgiwrap")
	app, _ := lookupScenario("goapp")
	results := []*result{
		{sc: cgi, sides: [2]*side{{name: "uringnet", runs: []sample{run(1500, 0), run(1400, 0), run(1600, 0)}},
			{name: "nginx", runs: []sample{run(1000, 0)}}}},
		{sc: fw, sides: [2]*side{{name: "uringnet", runs: []sample{run(2000, 3)}},
			{name: "nginx", runs: []sample{run(1000, 0)}}}},
		{sc: app, sides: [2]*side{{name: "uringnet", why: "the demo has no -fastcgi flag"},
			{name: "nginx", runs: []sample{{perSec: 20000, cpuMsPerReq: math.NaN()}}, errs: []error{errors.New("round 2: wrk died")}}}},
	}
	for _, r := range results {
		for _, s := range r.sides {
			for i := range s.runs {
				s.runs[i].round = i + 1
			}
		}
	}
	md := render(cfg, "Pinned", results)
	for _, want := range []string{"|  1500 |", "1.50x", "floor met: yes (1500 vs 1000 req/s, 1.50x)",
		"floor met: no (2000 vs 1000 req/s, 2.00x; uringnet had 3 socket errors and 0 non-2xx responses)", "the demo has no -fastcgi flag",
		"a run failed: round 2: wrk died", "no floor, req/s reported", "| round 3 |", "|    1400 |", "|  failed |", "| " + ratioColumn + " |"} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
}

// TestQuickRun runs the benchmark for real, 1 s runs, 1 round, the scenarios the demo has
// flags for. It skips when wrk, nginx or fcgiwrap is missing or the demo has none of them.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the demo and runs nginx, fcgiwrap and wrk (about 15 s)")
	}
	for _, tool := range []string{"wrk", "nginx", "fcgiwrap"} {
		if _, err := lookTool(tool); err != nil {
			t.Skip(err)
		}
	}
	repo, err := harness.FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tl := findTools(ctx, repo, repo, t.TempDir())
	var keys []string
	for _, sc := range scenarios {
		if why := tl.demoLacks(sc.demoFlags); why != "" {
			t.Logf("%s: %s", sc.key, why)
			continue
		}
		keys = append(keys, sc.key)
	}
	if len(keys) == 0 {
		t.Skip("the demo has none of issue 14's flags")
	}
	out := filepath.Join(t.TempDir(), "cgi.md")
	args := []string{"-duration", "1s", "-rounds", "1", "-scenarios", strings.Join(keys, ","), "-o", out}
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, cfg, args); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.Contains(md, "## CGI and FastCGI (issue 14)") || strings.Contains(md, "n/a: ") {
		t.Errorf("report:\n%s", md)
	}
	for _, k := range keys {
		sc, _ := lookupScenario(k)
		if sc.floor && !strings.Contains(md, sc.title+", uringnet req/s ≥ nginx + fcgiwrap: floor met: ") {
			t.Errorf("%s: no floor line in\n%s", k, md)
		}
	}
}
