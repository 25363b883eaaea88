package main

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/reqlog"
)

func TestQuantile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range xs {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name          string
		in            []time.Duration
		p50, p99, max time.Duration
	}{
		{"empty", nil, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"two", ms(9, 1), time.Millisecond, 9 * time.Millisecond, 9 * time.Millisecond},
		{"1..100 shuffled", ms(append(hundred[50:], hundred[:50]...)...), 50 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond},
		{"1..1000", func() []time.Duration {
			var ds []time.Duration
			for i := 1000; i >= 1; i-- {
				ds = append(ds, time.Duration(i)*time.Microsecond)
			}
			return ds
		}(), 500 * time.Microsecond, 990 * time.Microsecond, time.Millisecond},
	} {
		l := summarize(tc.in)
		if l.n != len(tc.in) || l.p50 != tc.p50 || l.p99 != tc.p99 || l.max != tc.max {
			t.Errorf("%s: got %+v, want p50 %v p99 %v max %v", tc.name, l, tc.p50, tc.p99, tc.max)
		}
	}
}

func TestWindows(t *testing.T) {
	const s = int64(time.Second)
	for _, tc := range []struct {
		name            string
		evs             []event
		baseline        time.Duration
		notBefore       int64
		during, without []window
	}{
		{"far apart", []event{{hup: 4 * s, exited: 4*s + s/4}, {hup: 8 * s, exited: 8*s + s/2}},
			1500 * time.Millisecond, 1 * s,
			[]window{{4 * s, 4*s + s/4 + 1}, {8 * s, 8*s + s/2 + 1}},
			[]window{{4*s - 3*s/2, 4 * s}, {8*s - 3*s/2, 8 * s}}},
		{"baseline cut by the warm-up", []event{{hup: 2 * s, exited: 3 * s}},
			1500 * time.Millisecond, 1 * s,
			[]window{{2 * s, 3*s + 1}}, []window{{1 * s, 2 * s}}},
		{"baseline cut by the previous upgrade and its settling", []event{{hup: 2 * s, exited: 3 * s}, {hup: 4 * s, exited: 5 * s}},
			1500 * time.Millisecond, 0,
			[]window{{2 * s, 3*s + 1}, {4 * s, 5*s + 1}}, []window{{s / 2, 2 * s}, {3*s + s/2, 4 * s}}},
		{"no room for a baseline", []event{{hup: 2 * s, exited: 3 * s}, {hup: 3*s + s/4, exited: 4 * s}},
			time.Second, 0,
			[]window{{2 * s, 3*s + 1}, {3*s + s/4, 4*s + 1}}, []window{{s, 2 * s}}},
	} {
		during, without := windows(tc.evs, tc.baseline, 500*time.Millisecond, tc.notBefore)
		if !slices.Equal(during, tc.during) || !slices.Equal(without, tc.without) {
			t.Errorf("%s: during %v without %v, want %v and %v", tc.name, during, without, tc.during, tc.without)
		}
	}
}

func TestAnalyze(t *testing.T) {
	const s = int64(time.Second)
	ms := int64(time.Millisecond)
	evs := []event{{hup: 4 * s, served: 4*s + 20*ms, exited: 4*s + 300*ms}}
	during, without := windows(evs, 1500*time.Millisecond, 500*time.Millisecond, 1*s)
	var recs []reqlog.Record
	// Without: 100 requests of 1..100 µs in [2.5 s, 4 s); during: 10 of 1..10 ms, one 2 ms late;
	// outside both: slow ones that must not count.
	for i := range int64(100) {
		recs = append(recs, reqlog.Record{Start: 2*s + s/2 + i*ms, Latency: (i + 1) * 1000})
	}
	for i := range int64(10) {
		r := reqlog.Record{Start: 4*s + i*20*ms, Latency: (i + 1) * ms}
		if i == 9 {
			r.Lag = 2 * ms
		}
		r.Dialed = i == 0 || i == 9
		recs = append(recs, r)
	}
	recs = append(recs, reqlog.Record{Start: 1 * s, Latency: 900 * ms}, reqlog.Record{Start: 4*s + 301*ms, Latency: 800 * ms})
	fails := []reqlog.Failure{{At: 5 * s, Err: "dial: later"}, {At: 4*s + 100*ms, Err: "response: EOF"}}
	a := analyze(recs, fails, during, without)
	if a.without.n != 100 || a.without.p50 != 50*time.Microsecond || a.without.p99 != 99*time.Microsecond || a.without.max != 100*time.Microsecond {
		t.Errorf("without %+v", a.without)
	}
	if a.during.n != 10 || a.during.p50 != 5*time.Millisecond || a.during.p99 != 10*time.Millisecond {
		t.Errorf("during %+v", a.during)
	}
	if a.duringSched.p99 != 12*time.Millisecond || a.withoutSched.p99 != a.without.p99 {
		t.Errorf("from schedule: during %+v without %+v", a.duringSched, a.withoutSched)
	}
	if a.duringDialed.n != 2 || a.duringDialed.p99 != 10*time.Millisecond {
		t.Errorf("during, new connections %+v", a.duringDialed)
	}
	if a.failed != 2 || a.failedDuring != 1 || a.firstFailure != "response: EOF" {
		t.Errorf("failures %d (%d during), first %q", a.failed, a.failedDuring, a.firstFailure)
	}
	if r := a.ratio(); math.Abs(r-10000.0/99) > 1e-9 {
		t.Errorf("ratio %v", r)
	}
	if r := (analysis{}).ratio(); !math.IsNaN(r) {
		t.Errorf("empty ratio %v", r)
	}
}

func TestReadyAfter(t *testing.T) {
	log := `time=2026-12-01T11:34:01Z level=INFO msg="upgrade: starting successor" path=/tmp/demo listeners=1
time=2026-12-01T11:34:01Z level=INFO msg="upgrade: successor ready" pid=123 after=16.5ms
time=2026-12-01T11:34:03Z level=INFO msg="upgrade: successor ready" pid=124 after=1.2s
`
	evs := make([]event, 3)
	readyAfter(log, evs)
	if evs[0].after != 16500*time.Microsecond || evs[1].after != 1200*time.Millisecond || evs[2].after != 0 {
		t.Errorf("%+v", evs)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-upgrades", "2s, 5s", "-duration", "6s", "-rate", "1000"}, io.Discard)
	if err != nil || !slices.Equal(cfg.upgrades, []time.Duration{2 * time.Second, 5 * time.Second}) || cfg.rate != 1000 {
		t.Errorf("%+v %v", cfg, err)
	}
	def, err := parseFlags(nil, io.Discard)
	if err != nil || len(def.upgrades) != 4 || def.rounds != 3 || def.conns != 64 || def.rate != 20000 || def.duration != 20*time.Second {
		t.Errorf("defaults %+v %v", def, err)
	}
	for _, bad := range [][]string{{"-upgrades", "5s,2s"}, {"-upgrades", "30s"}, {"-upgrades", ","}, {"-rate", "0"}, {"stray"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRender(t *testing.T) {
	cfg, _ := parseFlags(nil, io.Discard)
	ms := time.Millisecond
	good := round{events: []event{{hup: 0, served: int64(20 * ms), exited: int64(250 * ms), after: 15 * ms}},
		sum: &reqlog.Summary{Requests: 400000, StartNs: 0, EndNs: int64(20 * time.Second)},
		a:   analysis{without: latencies{n: 10, p99: ms}, during: latencies{n: 5, p99: 3 * ms / 2}}}
	bad := round{err: errDemo}
	failing := good
	failing.a.failed, failing.a.failedDuring, failing.a.firstFailure = 3, 2, "response: EOF"
	md := render(cfg, "pinned", "6.1", []round{good, bad, failing})
	for _, want := range []string{"| 2      |", "1.50x", "PASS (2 of 2 rounds)", "| 3 ", "FAIL", "FAILED: no demo",
		"**Round 3: 3 requests FAILED**", "20.00", "Kernel 6.1"} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
}

var errDemo = errorString("no demo")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestQuickRun builds the demo and upgradeload and runs one short round for real: two
// upgrades under load, no failed request, every figure present.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo (about 10 s)")
	}
	out := filepath.Join(t.TempDir(), "upgrade.md")
	args := []string{"-rounds", "1", "-duration", "4s", "-upgrades", "2s,3s", "-baseline", "500ms", "-rate", "5000", "-o", out}
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, cfg, args); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Upgrade under load (issue 13)", "| 1      |", "5000 req/s offered", " 0 (0) |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
}
