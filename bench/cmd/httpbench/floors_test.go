package main

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func TestFloorsTable(t *testing.T) {
	scens := []scenario{{key: "plaintext", name: "plaintext keep-alive"}, {key: "pipelined", name: "plaintext pipelined x16"},
		{key: "static1m", name: "static 1 MiB"}}
	peers := []*peer{{key: "uringnet", name: "uringnet"}, {key: "epoll", name: "uringnet (epoll)"},
		{key: "fasthttp", name: "fasthttp"}, {key: "nginx", name: "nginx"}}
	res := map[string]map[string][]sample{
		"plaintext": {"uringnet": {{perSec: 100}}, "epoll": {{perSec: 95}}, "fasthttp": {{perSec: 96}}},
		"pipelined": {"epoll": {{perSec: 500}}, "fasthttp": {{perSec: 400}}},
		"static1m":  {"epoll": {{perSec: 1, bytesPerSec: 9e8}}, "nginx": {{perSec: 2, bytesPerSec: 1e9}}},
	}
	idle := map[string]harness.IdleResult{"epoll": {Before: 10 << 20, After: 10<<20 + 1000*1024}}
	md := floorsTable(issue9, scens, peers, res, idle, 1000).Markdown()
	for _, want := range []string{
		"| plaintext keep-alive: req/s ≥ 0.90x uringnet's  |    0.95x | yes |",
		"| plaintext keep-alive: req/s ≥ 1.00x fasthttp's  |    0.99x | no  |",
		"| plaintext pipelined x16: req/s ≥ 1.00x fasthttp's |    1.25x | yes |",
		"| static 1 MiB: bytes/s ≥ 0.90x nginx's  |    0.90x | yes |",
		"RSS per idle keep-alive connection ≤ 2.00 KiB (1000 connections) | 1.00 KiB | yes |",
	} {
		if !strings.Contains(strings.Join(strings.Fields(md), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("floors lack %q:\n%s", want, md)
		}
	}
	// Floors whose peer did not run are left out; a failed idle run is n/a.
	md = floorsTable(issue9, scens[:1], peers[:2], res, map[string]harness.IdleResult{"epoll": {Err: errors.New("x")}}, 1000).Markdown()
	if strings.Contains(md, "fasthttp") || !strings.Contains(md, "n/a KiB | n/a") {
		t.Errorf("partial floors:\n%s", md)
	}
}

func TestMet(t *testing.T) {
	for _, tc := range []struct {
		v, limit float64
		atLeast  bool
		want     string
	}{
		{1, 1, true, "yes"}, {0.99, 1, true, "no"}, {2, 2, false, "yes"}, {2.01, 2, false, "no"}, {0.5, 2, false, "yes"},
		{math.NaN(), 1, true, "n/a"}, {math.Inf(1), 1, true, "n/a"}, {-1, 2, false, "n/a"},
	} {
		if got := met(tc.v, tc.limit, tc.atLeast); got != tc.want {
			t.Errorf("met(%v, %v, %v) = %q, want %q", tc.v, tc.limit, tc.atLeast, got, tc.want)
		}
	}
}

func TestTableEpollColumns(t *testing.T) {
	scens := []scenario{{key: "plaintext", name: "plaintext keep-alive"}}
	peers := []*peer{{key: "uringnet", name: "uringnet"}, {key: "epoll", name: "uringnet (epoll)"}, {key: "nginx", name: "nginx"}}
	res := map[string]map[string][]sample{"plaintext": {
		"uringnet": {{perSec: 100, cpuUsPerReq: 10}}, "epoll": {{perSec: 90, cpuUsPerReq: 12}}, "nginx": {{perSec: 60, cpuUsPerReq: 8}},
	}}
	md := table(scens, peers, res, nil).Markdown()
	lines := strings.Split(md, "\n")
	if !strings.HasSuffix(lines[0], "| epoll / peer | CPU/req epoll / peer |") {
		t.Errorf("header %q", lines[0])
	}
	for i, want := range []string{"— | — | 0.90x | 1.20x |", "1.11x | 0.83x | — | — |", "1.67x | 1.25x | 1.50x | 1.50x |"} {
		if !strings.HasSuffix(strings.Join(strings.Fields(lines[2+i]), " "), want) {
			t.Errorf("row %d %q lacks %q", i, lines[2+i], want)
		}
	}
	fixed := fixedTable(scens, peers, map[string]float64{"plaintext": 50}, res).Markdown()
	if !strings.Contains(fixed, "CPU/req epoll / peer") || !strings.Contains(fixed, "1.50x |\n") {
		t.Errorf("fixed table:\n%s", fixed)
	}
	if md := table(scens, []*peer{peers[0], peers[2]}, res, nil).Markdown(); strings.Contains(md, "epoll") {
		t.Errorf("epoll columns without the epoll peer:\n%s", md)
	}
}

// TestIssue10Floors reads issue 10's floors for the adapter, PASS and FAIL both, and the
// rows pricing its handler goroutines.
func TestIssue10Floors(t *testing.T) {
	scens := []scenario{{key: "plaintext", name: "plaintext keep-alive"}, {key: "pipelined", name: "plaintext pipelined x16"}}
	peers := []*peer{{key: "uringnet", name: "uringnet"}, {key: "adapter", name: adapterName},
		{key: "nethttp", name: "net/http"}, {key: "fasthttp", name: "fasthttp"}}
	res := map[string]map[string][]sample{
		"plaintext": {"adapter": {{perSec: 150}}, "nethttp": {{perSec: 100}}},
		"pipelined": {"adapter": {{perSec: 390}}, "nethttp": {{perSec: 100}}, "fasthttp": {{perSec: 400}}},
	}
	idle := map[string]harness.IdleResult{"adapter": {Before: 10 << 20, After: 10<<20 + 5000*4200}}
	tab := floorsTable(issue10, scens, peers, res, idle, 5000)
	fixed := map[string]map[string][]sample{"plaintext": {
		"adapter": {{cpuUsPerReq: 6}}, "uringnet": {{cpuUsPerReq: 4}}, "nethttp": {{cpuUsPerReq: 12}},
	}}
	handlerCostRows(tab, scens[:1], peers, map[string]float64{"plaintext": 20000}, fixed)
	md := strings.Join(strings.Fields(tab.Markdown()), " ")
	for _, want := range []string{
		"| floor (issue 10) | measured | met |",
		"| plaintext keep-alive: req/s ≥ 1.50x net/http's | 1.50x | PASS |",
		"| plaintext pipelined x16: req/s ≥ 4.00x net/http's | 3.90x | FAIL |",
		"| plaintext pipelined x16: req/s ≥ 1.00x fasthttp's | 0.97x | FAIL |",
		"| RSS per idle keep-alive connection ≤ 4.00 KiB (5000 connections) | 4.10 KiB | FAIL |",
		"| plaintext keep-alive at 20000 req/s offered: CPU per request, adapter vs uringnet's native callbacks (no floor) | 6.00 vs 4.00 µs (+2.00 µs, 1.50x) | — |",
		"adapter vs net/http (no floor) | 6.00 vs 12.00 µs (-6.00 µs, 0.50x) | — |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("issue 10 floors lack %q:\n%s", want, tab.Markdown())
		}
	}
	// Without a fixed-load plaintext run, or without the adapter in it, no cost rows.
	tab = floorsTable(issue10, scens, peers, res, nil, 5000)
	n := len(tab.Rows)
	handlerCostRows(tab, nil, peers, nil, fixed)
	handlerCostRows(tab, scens[:1], peers, map[string]float64{"plaintext": 1}, map[string]map[string][]sample{"plaintext": {}})
	if len(tab.Rows) != n || n != 3 {
		t.Errorf("rows = %d, want 3:\n%s", len(tab.Rows), tab.Markdown())
	}
	// A peer missing from the fixed runs is n/a.
	handlerCostRows(tab, scens[:1], peers, map[string]float64{"plaintext": 1},
		map[string]map[string][]sample{"plaintext": {"adapter": {{cpuUsPerReq: 6}}}})
	if md := strings.Join(strings.Fields(tab.Markdown()), " "); !strings.Contains(md, "uringnet's native callbacks (no floor) | n/a") {
		t.Errorf("missing native peer:\n%s", md)
	}
}

func TestAdapterColumns(t *testing.T) {
	scens := []scenario{{key: "plaintext", name: "plaintext keep-alive"}}
	peers := []*peer{{key: "uringnet", name: "uringnet"}, {key: "epoll", name: "uringnet (epoll)"},
		{key: "adapter", name: adapterName}, {key: "nethttp", name: "net/http"}}
	res := map[string]map[string][]sample{"plaintext": {
		"uringnet": {{perSec: 100, cpuUsPerReq: 10}}, "epoll": {{perSec: 90, cpuUsPerReq: 12}},
		"adapter": {{perSec: 80, cpuUsPerReq: 15}}, "nethttp": {{perSec: 40, cpuUsPerReq: 30}},
	}}
	lines := strings.Split(table(scens, peers, res, nil).Markdown(), "\n")
	if !strings.HasSuffix(lines[0], "| epoll / peer | CPU/req epoll / peer | adapter / peer | CPU/req adapter / peer |") {
		t.Errorf("header %q", lines[0])
	}
	// net/http's row: adapter / net/http = 2.00x, CPU 0.50x.
	if row := strings.Join(strings.Fields(lines[5]), " "); !strings.HasSuffix(row, "| 2.25x | 0.40x | 2.00x | 0.50x |") {
		t.Errorf("net/http row %q", row)
	}
	fixed := strings.Split(fixedTable(scens, peers, map[string]float64{"plaintext": 50}, res).Markdown(), "\n")
	if !strings.HasSuffix(fixed[0], "| CPU/req epoll / peer | CPU/req adapter / peer |") ||
		!strings.HasSuffix(strings.Join(strings.Fields(fixed[2]), " "), "| — | 1.20x | 1.50x |") {
		t.Errorf("fixed table:\n%s", strings.Join(fixed, "\n"))
	}
	if n := backendNote(peers); !strings.Contains(n, adapterName) || !strings.Contains(n, "\"adapter / peer\"") {
		t.Errorf("backend note %q", n)
	}
}
