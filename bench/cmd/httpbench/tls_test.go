package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func TestParseFlagsTLS(t *testing.T) {
	def, err := parseFlags(nil)
	if err != nil || !slices.Equal(def.tls, []string{"plaintext", "newconn"}) || def.tlsIdle != 2000 ||
		!slices.Equal(def.tlsPeers, []string{"uringnet", "adapter", "nethttp", "nginx"}) || def.tlsFixed != 10000 {
		t.Errorf("defaults = %+v, %v", def, err)
	}
	cfg, err := parseFlags([]string{"-tls", "none", "-tls-peers", "bogus"})
	if err != nil || len(cfg.tls) != 0 {
		t.Errorf("-tls none: %+v, %v", cfg.tls, err)
	}
	cfg, err = parseFlags([]string{"-tls", "newconn", "-tls-peers", "epoll,nginx", "-tls-idle", "0"})
	if err != nil || !slices.Equal(cfg.tls, []string{"newconn"}) || !slices.Equal(cfg.tlsPeers, []string{"epoll", "nginx"}) || cfg.tlsIdle != 0 {
		t.Errorf("parseFlags = %+v, %v", cfg, err)
	}
	for _, bad := range [][]string{{"-tls", "pipelined"}, {"-tls-peers", "fasthttp"}, {"-tls-idle", "-1"}, {"-tls-fixed", "-5"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
	sc := tlsScenarios([]string{"newconn", "plaintext"})
	if len(sc) != 2 || sc[0].key != tlsNewConn || !sc[0].newConn || sc[1].key != tlsPlaintext || sc[1].newConn || string(sc[1].body) != plaintext {
		t.Errorf("tlsScenarios = %+v", sc)
	}
}

func TestParseTLSLoad(t *testing.T) {
	r, err := parseTLSLoad("noise\nTLSLOADRESULT conns=3000 resumed=0 errors=2 duration_us=3000000 p50_us=1500 p99_us=9000\n")
	if err != nil || r.conns != 3000 || r.errors != 2 || r.duration != 3*time.Second || r.p50 != 1500*time.Microsecond || r.p99 != 9*time.Millisecond {
		t.Errorf("parseTLSLoad = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "TLSLOADRESULT conns=0 resumed=0 errors=0 duration_us=1 p50_us=0 p99_us=0",
		"TLSLOADRESULT conns=1 resumed=0 errors=0 duration_us=1 p50_us=0"} {
		if _, err := parseTLSLoad(bad); err == nil {
			t.Errorf("parseTLSLoad(%q) succeeded", bad)
		}
	}
}

func TestIssue11Floors(t *testing.T) {
	r := &tlsRun{
		scens: tlsScenarios([]string{"plaintext", "newconn"}),
		peers: []*peer{{key: "uringnet", name: "uringnet"}, {key: "nethttp", name: "net/http"}, {key: "nginx", name: "nginx"}},
		results: map[string]map[string][]sample{
			tlsPlaintext: {"uringnet": {{perSec: 140, cpuPct: 70}}, "nethttp": {{perSec: 100, cpuPct: 98}}, "nginx": {{perSec: 160, cpuPct: 95}}},
			tlsNewConn: {"uringnet": {{perSec: 900, cpuUsPerReq: 300}}, "nethttp": {{perSec: 1000, cpuUsPerReq: 350}},
				"nginx": {{perSec: 1100, cpuUsPerReq: 250}}},
		},
		fixed: map[string]map[string][]sample{tlsPlaintext: {"uringnet": {{perSec: 10000, cpuUsPerReq: 10}},
			"nethttp": {{perSec: 10000, cpuUsPerReq: 25}}, "nginx": {{perSec: 10000, cpuUsPerReq: 12.5}}}},
		idle: map[string]harness.IdleResult{
			"uringnet": {Before: 10 << 20, After: 10<<20 + 1000*12*1024},
			"nethttp":  {Before: 10 << 20, After: 10<<20 + 1000*40*1024},
			"nginx":    {Err: errors.New("x")},
		},
	}
	tb := floorsTable(issue11, r.scens, r.peers, r.results, r.idle, 1000)
	tlsExtraRows(tb, r, 1000)
	md := collapse(tb.Markdown())
	for _, want := range []string{
		"| HTTPS plaintext keep-alive: req/s ≥ 1.30x net/http's | 1.40x | PASS |",
		"| HTTPS plaintext keep-alive: req/s ≥ 0.90x nginx's | 0.88x | FAIL |",
		"| HTTPS new connection per request: connections/s ≥ 1.00x net/http's | 0.90x | FAIL |",
		"| RSS per idle TLS connection ≤ 16.00 KiB (1000 connections) | 12.00 KiB | PASS |",
		"| new connection: server CPU per connection, uringnet vs net/http (no floor) | 300.0 vs 350.0 µs (0.86x) | — |",
		"| new connection: server CPU per connection, uringnet vs nginx (no floor) | 300.0 vs 250.0 µs (1.20x) | — |",
		"| RSS per idle TLS connection: net/http (1000 connections; no floor) | 40.00 KiB | — |",
		"| HTTPS plaintext keep-alive: server CPU busy during the runs (one core = 100%; no floor) | uringnet 70%, net/http 98%, nginx 95% | — |",
		"| HTTPS plaintext keep-alive at a fixed rate: server CPU per request, uringnet vs net/http (no floor) | 10.00 vs 25.00 µs (0.40x) | — |",
		"| HTTPS plaintext keep-alive at a fixed rate: server CPU per request, uringnet vs nginx (no floor) | 10.00 vs 12.50 µs (0.80x) | — |",
		"| RSS per idle TLS connection: nginx (1000 connections; no floor) | n/a KiB | — |",
	} {
		if !strings.Contains(md, collapse(want)) {
			t.Errorf("floors lack %q:\n%s", want, md)
		}
	}
	out := tlsReport(config{duration: time.Second, rounds: 1, conns: 8, tlsIdle: 1000, tlsFixed: 10000}, r, "0", "1")
	for _, want := range []string{"### HTTPS: TLS 1.3", "#### HTTPS at a fixed load: server CPU per request", "10000 req/s offered", "#### Idle TLS connections", "#### uringnet with TLS against issue 11's floors",
		"| HTTPS new connection per request | nginx", "resumes it"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestResumedScenario(t *testing.T) {
	sc := tlsScenarios([]string{"resumed"})
	if len(sc) != 1 || !sc[0].closeConn || sc[0].newConn || sc[0].key != tlsResumed {
		t.Errorf("tlsScenarios(resumed) = %+v", sc)
	}
	if s := wrkCloseScript(); !strings.HasPrefix(s, `wrk.headers["Connection"] = "close"`+"\n") || !strings.Contains(s, "WRKRESULT") {
		t.Errorf("script:\n%s", s)
	}
}
