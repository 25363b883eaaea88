package main

import (
	"errors"
	"math"
	"strings"
	"testing"
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
	idle := map[string]idleResult{"epoll": {before: 10 << 20, after: 10<<20 + 1000*1024}}
	md := floorsTable(scens, peers, res, idle, 1000).Markdown()
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
	md = floorsTable(scens[:1], peers[:2], res, map[string]idleResult{"epoll": {err: errors.New("x")}}, 1000).Markdown()
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
