package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// TestRender checks the report's tables and floors from made-up samples: uringnet passes
// against net/http h2c, fails against nginx, passes the idle ceiling; a failed peer is n/a.
func TestRender(t *testing.T) {
	cfg := config{duration: 5 * time.Second, rounds: 3, conns: 8, streams: 100, fixed: 5000, idle: 1000, loops: 1}
	peers := []*peer{
		{key: "uringnet", name: "uringnet", backend: harness.UringBackend},
		{key: "epoll", name: "uringnet (epoll)", backend: harness.EpollBackend, failed: "h2c GET /plaintext: frame too large"},
		{key: "nethttp", name: "net/http h2c"},
		{key: "nginx", name: "nginx", tree: true},
	}
	s := func(perSec, cpu float64) []sample {
		return []sample{{perSec: perSec, cpuUsPerReq: cpu, cpuPct: 90}, {perSec: perSec + 2, cpuUsPerReq: cpu}, {perSec: perSec - 1, cpuUsPerReq: cpu}}
	}
	sat := map[string][]sample{"uringnet": s(60000, 15), "nethttp": s(20000, 45), "nginx": s(75000, 12)}
	fixed := map[string][]sample{"uringnet": s(5000, 10), "nethttp": s(4000, 60), "nginx": s(4990, 20)}
	idle := map[string]harness.IdleResult{
		"uringnet": {Before: 10 << 20, After: 10<<20 + 6*1024*1000},
		"epoll":    {Err: errors.New("idle h2c: connection 1 of 1000: EOF")},
		"nethttp":  {Before: 7 << 20, After: 7<<20 + 30*1024*1000},
	}
	md := render(cfg, "go run ./cmd/h2bench", "0", "1", peers, sat, fixed, idle, map[string]string{"nethttp": "stats requests=1"})
	flat := strings.Join(strings.Fields(md), " ") // the tables' padding collapsed
	for _, want := range []string{
		"| plaintext h2c (8 conns x 100 streams) | uringnet (epoll) (failed, see below) |",
		"3.00x", // uringnet / net/http h2c
		"0.80x", // uringnet / nginx
		"req/s ≥ 1.50x net/http h2c's | 3.00x | PASS |",
		"req/s ≥ 1.00x nginx's | 0.80x | FAIL |",
		"(1000 connections) | 6.00 KiB | PASS |",
		"10.00 vs 60.00 µs (0.17x)",
		"- fixed load, net/http h2c: 4000 req/s achieved, below 90% of the 5000 offered",
		"- uringnet (epoll): failed: h2c GET /plaintext: frame too large",
		"- idle h2c, uringnet (epoll): failed: idle h2c: connection 1 of 1000: EOF",
		"- net/http h2c final `stats requests=1`",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "nginx: 4990 req/s achieved") {
		t.Errorf("nginx at 99.8%% of the offered rate listed as below 90%%:\n%s", md)
	}
}
