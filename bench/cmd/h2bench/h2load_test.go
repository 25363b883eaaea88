package main

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// netHTTPOut is h2load 1.52's output of a 2 s run against bench/nethttp -h2c.
const netHTTPOut = `starting benchmark...
spawning thread #0: 8 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
progress: 12% of clients started
Main benchmark duration is started for thread #0.
Application protocol: h2c
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 2.00s, 22593.50 req/s, 773.33KB/s
requests: 45187 total, 45987 started, 45187 done, 45187 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 45272 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 1.51MB (1583778) total, 177.47KB (181728) headers (space savings 95.04%), 573.66KB (587431) data
                     min         max         mean         sd        +/- sd
time for request:      804us    222.89ms     35.03ms     22.10ms    78.16%
time for connect:      193us      2.07ms      1.20ms       645us    75.00%
time to 1st byte:    79.01ms    118.70ms     93.69ms     14.75ms    75.00%
req/s           :    2593.57     3065.18     2822.18      163.69    62.50%
`

// http1Out is h2load's output against a server that speaks HTTP/1.1 only (the demo before
// h2c): h2load exits 0 all the same.
const http1Out = `starting benchmark...
spawning thread #0: 1 total client(s). 100 total requests
Application protocol: h2c

finished in 3.08ms, 0.00 req/s, 81.19KB/s
requests: 100 total, 10 started, 0 done, 0 succeeded, 100 failed, 100 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 256B (256) total, 0B (0) headers (space savings 0.00%), 0B (0) data
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
time for connect:      592us       592us       592us         0us   100.00%
time to 1st byte:        0us         0us         0us         0us     0.00%
req/s           :       0.00        0.00        0.00        0.00   100.00%
`

func TestParseH2load(t *testing.T) {
	for _, tc := range []struct {
		name     string
		out      string
		want     h2loadResult
		parseErr string // a substring of parseH2load's error; "" for none
		checkErr string // a substring of check's error; "" for none
	}{
		{name: "net/http h2c", out: netHTTPOut, want: h2loadResult{
			duration: 2 * time.Second, perSec: 22593.50, protocol: "h2c",
			total: 45187, started: 45987, done: 45187, succeeded: 45187, status2xx: 45272,
			meanMs: 35.03, maxMs: 222.89,
		}},
		{name: "HTTP/1.1 server", out: http1Out, want: h2loadResult{
			duration: 3080 * time.Microsecond, protocol: "h2c",
			total: 100, started: 10, failed: 100, errored: 100,
		}, checkErr: "100 failed, 100 errored"},
		{name: "4xx", out: strings.Replace(netHTTPOut, "0 3xx, 0 4xx", "0 3xx, 5 4xx", 1), want: h2loadResult{
			duration: 2 * time.Second, perSec: 22593.50, protocol: "h2c",
			total: 45187, started: 45987, done: 45187, succeeded: 45187, status2xx: 45272, status4xx: 5,
			meanMs: 35.03, maxMs: 222.89,
		}, checkErr: "5 responses with a non-2xx status"},
		{name: "not h2c", out: strings.Replace(netHTTPOut, "Application protocol: h2c", "No protocol negotiated. Aborted.", 1),
			want: h2loadResult{
				duration: 2 * time.Second, perSec: 22593.50,
				total: 45187, started: 45987, done: 45187, succeeded: 45187, status2xx: 45272,
				meanMs: 35.03, maxMs: 222.89,
			}, checkErr: "not h2c"},
		{name: "no summary", out: "starting benchmark...\nconnect to 127.0.0.1:1 failed\n", parseErr: "no summary"},
		{name: "bad rate", out: strings.Replace(netHTTPOut, "22593.50 req/s", "lots req/s", 1), parseErr: "cannot read the rate"},
		{name: "missing counter", out: strings.Replace(netHTTPOut, ", 0 timeout", "", 1), parseErr: "6 of 7 counters"},
		{name: "bad latency", out: strings.Replace(netHTTPOut, "35.03ms", "35.03xs", 1), parseErr: "time for request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseH2load(tc.out)
			if tc.parseErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.parseErr) {
					t.Fatalf("parseH2load error %v, want one with %q", err, tc.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r != tc.want {
				t.Errorf("parseH2load =\n%+v\nwant\n%+v", r, tc.want)
			}
			err = r.check()
			if tc.checkErr == "" && err != nil {
				t.Errorf("check: %v", err)
			}
			if tc.checkErr != "" && (err == nil || !strings.Contains(err.Error(), tc.checkErr)) {
				t.Errorf("check error %v, want one with %q", err, tc.checkErr)
			}
		})
	}
}

func TestH2loadArgs(t *testing.T) {
	for _, tc := range []struct {
		conns, streams int
		d              time.Duration
		n              int
		rps            float64
		want           string
	}{
		{8, 100, 5 * time.Second, 0, 0, "-t1 -c 8 -m 100 -D 5 URL"},
		{8, 100, 2500 * time.Millisecond, 0, 1000, "-t1 -c 8 -m 100 -D 3 --rps 1000 URL"},
		{8, 100, 5 * time.Second, 0, 1250.5, "-t1 -c 8 -m 100 -D 5 --rps 1250.5 URL"},
		{1, 10, 0, 1000, 0, "-t1 -c 1 -m 10 -n 1000 URL"},
	} {
		got := strings.Join(h2loadArgs(tc.conns, tc.streams, tc.d, tc.n, tc.rps, "URL"), " ")
		if got != tc.want {
			t.Errorf("h2loadArgs(%d, %d, %v, %d, %v) = %q, want %q", tc.conns, tc.streams, tc.d, tc.n, tc.rps, got, tc.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.duration != 5*time.Second || cfg.rounds != 3 || cfg.conns != 8 || cfg.streams != 100 || cfg.idle != 5000 ||
		!slices.Equal(cfg.peers, allPeers) {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg, err = parseFlags([]string{"-peers", "nethttp, nginx,nethttp", "-fixed", "0", "-idle", "0"})
	if err != nil || !slices.Equal(cfg.peers, []string{"nethttp", "nginx"}) || cfg.fixed != 0 || cfg.idle != 0 {
		t.Errorf("parseFlags = %+v, %v", cfg, err)
	}
	for _, bad := range [][]string{
		{"-peers", "apache"}, {"-rounds", "0"}, {"-duration", "500ms"}, {"-fixed", "-1"}, {"-idle", "-1"},
		{"-streams", "0"}, {"stray"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestVerdict(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		v, limit float64
		atLeast  bool
		want     string
	}{
		{1.6, 1.5, true, "PASS"},
		{1.5, 1.5, true, "PASS"},
		{1.4, 1.5, true, "FAIL"},
		{0, 1, true, "n/a"},
		{nan, 1, true, "n/a"},
		{7.9, 8, false, "PASS"},
		{8.1, 8, false, "FAIL"},
		{nan, 8, false, "n/a"},
	} {
		if got := verdict(tc.v, tc.limit, tc.atLeast); got != tc.want {
			t.Errorf("verdict(%v, %v, %v) = %s, want %s", tc.v, tc.limit, tc.atLeast, got, tc.want)
		}
	}
}
