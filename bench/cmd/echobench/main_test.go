package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-sizes", "64, 1024", "-series", "net,uringnet", "-rounds", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.sizes, []int{64, 1024}) || !slices.Equal(cfg.series, []string{"net", "uringnet"}) || cfg.rounds != 2 {
		t.Errorf("parseFlags = %+v", cfg)
	}
	def, err := parseFlags(nil)
	if err != nil || def.conns != 64 || def.idle != 10000 || len(def.sizes) != 2 || len(def.series) != 4 || def.rate != 50000 {
		t.Errorf("defaults = %+v, %v", def, err)
	}
	for _, bad := range [][]string{
		{"-sizes", "x"}, {"-sizes", "0"}, {"-series", "nginx"}, {"-rounds", "0"}, {"-idle", "-1"}, {"-rate", "-5"}, {"-nope"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

func TestEchoTable(t *testing.T) {
	cfg := config{sizes: []int{64, 16384}}
	runs := []*series{{name: "uringnet", key: "uringnet"}, {name: "net", key: "net", isNet: true}}
	res := map[string]map[int][]sample{
		"uringnet": {64: {{perSec: 200, cpuUsPerMsg: 1, entersPerMsg: 0.5, p99us: 10}, {perSec: 300, cpuUsPerMsg: 1, entersPerMsg: 0.5}, {perSec: 250, cpuUsPerMsg: 1, entersPerMsg: 0.5}}},
		"net":      {64: {{perSec: 100, cpuUsPerMsg: 2, entersPerMsg: math.NaN()}}},
	}
	md := echoTable(cfg, runs, res).Markdown()
	for _, want := range []string{
		"| 64 B   | uringnet |    250 |", "2.50x", "0.50x", "0.500", "| 16 KiB | uringnet |    n/a |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if sizeName(100) != "100 B" || sizeName(2048) != "2 KiB" || firstLine("a\nb") != "a" || orAny("") == "" {
		t.Error("helpers")
	}
}

func TestFixedTable(t *testing.T) {
	cfg := config{sizes: []int{64}, rate: 1000}
	runs := []*series{{name: "uringnet", key: "uringnet"}, {name: refName, key: "cref", isRef: true}}
	res := map[string]map[int][]sample{
		"uringnet": {64: {{perSec: 999, cpuUsPerMsg: 3, cpuPct: 30}, {perSec: 800, cpuUsPerMsg: 3, cpuPct: 24}, {perSec: 850, cpuUsPerMsg: 3, cpuPct: 25}}},
		refName:    {64: {{perSec: 1000, cpuUsPerMsg: 2, cpuPct: 20}}},
	}
	md := fixedTable(cfg, runs, res).Markdown()
	for _, want := range []string{"| 64 B | uringnet   |           1000 |    850 |", "1.50x", "| 64 B | liburing C |"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if got := shortOfRate(cfg, runs, res); !slices.Equal(got, []string{"64 B uringnet"}) {
		t.Errorf("shortOfRate = %q", got)
	}
	// The main table gives the reference no "vs net" ratio: the chart is of uringnet only.
	main := echoTable(cfg, runs, res).Markdown()
	if strings.Count(main, "x |") != 0 {
		t.Errorf("ratios without a net series or for the reference:\n%s", main)
	}
}

// TestRunNetOnly runs the whole harness briefly with the net series only (and the uringnet
// series, which is n/a unless example/echo exists), idle mode included.
func TestRunNetOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs servers")
	}
	out := filepath.Join(t.TempDir(), "echo.md")
	cfg, err := parseFlags([]string{"-duration", "300ms", "-rounds", "1", "-sizes", "64", "-idle", "50",
		"-series", "net,uringnet,cref", "-rate", "2000", "-o", out})
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
	for _, want := range []string{"## Echo: uringnet vs net", "| 64 B | net ", "### Idle connections", "| net        |         50 |",
		"### Fixed load: server CPU per message at 2000 msgs/s offered", "liburing C"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| 64 B | net        |    n/a") {
		t.Errorf("net series has no result:\n%s", md)
	}
}

func TestEpollSeries(t *testing.T) {
	cfg, err := parseFlags([]string{"-series", "uringnet,epoll"})
	if err != nil || !slices.Equal(cfg.series, []string{"uringnet", "epoll"}) {
		t.Fatalf("parseFlags = %+v, %v", cfg, err)
	}
	for _, tc := range []struct {
		line, want string
		ok         bool
	}{
		{"stats enters=5", "io_uring", true}, // an example from before the epoll backend
		{"stats enters=5", "epoll", false},
		{"stats enters=5", "", true},
		{"stats backend=epoll", "epoll", true},
		{"stats backend=epoll", "io_uring", false},
		{"stats backend=io_uring", "io_uring", true},
		{"stats backend=uring", "io_uring", true},
		{"stats backend=io_uring", "epoll", false},
	} {
		kv, err := harness.ParseKV(tc.line, "stats")
		if err != nil {
			t.Fatal(err)
		}
		if err := checkBackend(kv, tc.want); (err == nil) != tc.ok {
			t.Errorf("%q, want %q: %v", tc.line, tc.want, err)
		}
	}
}
