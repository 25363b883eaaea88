package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/cref"
	"github.com/uringnet/uringnet/bench/internal/echo"
	"github.com/uringnet/uringnet/bench/internal/harness"
)

// config holds the command-line settings.
type config struct {
	repo     string
	duration time.Duration
	rounds   int
	conns    int
	sizes    []int
	idle     int
	series   []string
	out      string
	loops    int
	rate     float64 // offered msgs/s of the fixed-load mode; 0 skips it
}

// series is one kind of server run.
type series struct {
	name  string // as shown in the table
	key   string // as given to -series
	bin   string // built binary; "" when unavailable
	why   string // why bin is "" (shown in the report)
	env   []string
	args  []string
	isNet bool
	isRef bool // the C reference: not uringnet, so no "vs net" ratio for the chart
	// backend is the uringnet backend the series must run ("io_uring", "epoll"), checked
	// against the server's final stats line when it names one; "" for the other servers.
	backend string
}

// sample is what one run measured.
type sample struct {
	perSec, p50us, p99us, entersPerMsg, cpuUsPerMsg, rssMiB float64
	cpuPct                                                  float64 // server CPU time / wall time of the run, in %
	csPerMsg                                                float64 // server context switches per message
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "echobench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "echobench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("echobench", flag.ContinueOnError)
	fs.StringVar(&cfg.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each run")
	fs.IntVar(&cfg.rounds, "rounds", 3, "runs per series and size (alternated)")
	fs.IntVar(&cfg.conns, "conns", 64, "load connections")
	sizes := fs.String("sizes", "64,16384", "message sizes in bytes, comma-separated")
	fs.IntVar(&cfg.idle, "idle", 10000, "idle connections for the RSS-per-connection mode (0: skip)")
	ser := fs.String("series", "uringnet,net,nobatch,cref", "series to run: uringnet (its io_uring backend), net, "+
		"nobatch (uringnet with URINGNET_DISABLE=batch), epoll (uringnet on its epoll backend, URINGNET_BACKEND=epoll), "+
		"cref (the liburing C reference, bench/cref/echo.c, built with gcc)")
	fs.Float64Var(&cfg.rate, "rate", 50000, "offered msgs/s of the fixed-load mode, which reports server CPU per message (0: skip it)")
	fs.StringVar(&cfg.out, "o", "", "also write the markdown report to this file")
	fs.IntVar(&cfg.loops, "loops", 1, "uringnet event loops")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1<<24 {
			return cfg, fmt.Errorf("-sizes: bad size %q", s)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	for s := range strings.SplitSeq(*ser, ",") {
		switch s = strings.TrimSpace(s); s {
		case "uringnet", "net", "nobatch", "epoll", "cref":
			cfg.series = append(cfg.series, s)
		default:
			return cfg, fmt.Errorf("-series: unknown %q", s)
		}
	}
	if cfg.rounds < 1 || cfg.conns < 1 || cfg.duration <= 0 || cfg.idle < 0 || cfg.loops < 1 || cfg.rate < 0 {
		return cfg, errors.New("-rounds, -conns, -duration and -loops must be positive, -idle and -rate not negative")
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config) error {
	command := harness.CommandLine("echobench", os.Args[1:])
	root, err := harness.RepoRoot(cfg.repo)
	if err != nil {
		return err
	}
	cfg.repo = root
	if cfg.idle > 0 {
		if got, err := harness.RaiseNoFile(uint64(cfg.idle)*2 + 1024); err != nil {
			fmt.Fprintf(os.Stderr, "echobench: %v (soft limit %d); the idle mode may fail\n", err, got)
		}
	}
	serverCPU, loadCPU := harness.PinLoadPair(progress)

	bin, err := os.MkdirTemp("", "echobench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	benchDir := filepath.Join(cfg.repo, "bench")
	progress("building echoload and netecho")
	load := filepath.Join(bin, "echoload")
	if err := harness.GoBuild(ctx, benchDir, "./echoload", load); err != nil {
		return err
	}
	all := buildSeries(ctx, cfg, bin, benchDir)
	var runs []*series
	for _, key := range cfg.series {
		for i := range all {
			if all[i].key == key {
				runs = append(runs, &all[i])
			}
		}
	}

	var g harness.Group
	defer g.KillAll()
	results := map[string]map[int][]sample{} // series name -> size -> samples
	for _, size := range cfg.sizes {
		for round := 1; round <= cfg.rounds; round++ {
			for _, s := range runs {
				if s.bin == "" {
					continue
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				sm, err := runOnce(ctx, &g, cfg, s, size, 0, load, serverCPU, loadCPU)
				if err != nil {
					progress("size %d round %d/%d %s: FAILED: %v", size, round, cfg.rounds, s.name, err)
					continue
				}
				progress("size %d round %d/%d %s: %.0f msgs/s p99 %.0fus enters/msg %s cpu %.2fus/msg rss %.1fMiB",
					size, round, cfg.rounds, s.name, sm.perSec, sm.p99us, harness.Num(sm.entersPerMsg, 3), sm.cpuUsPerMsg, sm.rssMiB)
				if results[s.name] == nil {
					results[s.name] = map[int][]sample{}
				}
				results[s.name][size] = append(results[s.name][size], sm)
			}
		}
	}

	// The fixed-load mode: the same servers at an offered rate that saturates neither side,
	// so CPU per message compares the servers' costs rather than who wins a race.
	fixed := map[string]map[int][]sample{}
	if cfg.rate > 0 {
		for _, size := range cfg.sizes {
			for round := 1; round <= cfg.rounds; round++ {
				for _, s := range runs {
					if s.bin == "" {
						continue
					}
					if ctx.Err() != nil {
						return ctx.Err()
					}
					sm, err := runOnce(ctx, &g, cfg, s, size, cfg.rate, load, serverCPU, loadCPU)
					if err != nil {
						progress("fixed %.0f/s size %d round %d/%d %s: FAILED: %v", cfg.rate, size, round, cfg.rounds, s.name, err)
						continue
					}
					progress("fixed %.0f/s size %d round %d/%d %s: %.0f msgs/s cpu %.2fus/msg (%.0f%%)",
						cfg.rate, size, round, cfg.rounds, s.name, sm.perSec, sm.cpuUsPerMsg, sm.cpuPct)
					if fixed[s.name] == nil {
						fixed[s.name] = map[int][]sample{}
					}
					fixed[s.name][size] = append(fixed[s.name][size], sm)
				}
			}
		}
	}

	var report strings.Builder
	report.WriteString(harness.Header("Echo: uringnet vs net", command))
	fmt.Fprintf(&report, "%d connections, one message in flight each, %v per run, %d rounds alternated, medians. "+
		"Servers on CPU %s with GOMAXPROCS=1 (uringnet -loops %d), load on CPU %s.\n\n",
		cfg.conns, cfg.duration, cfg.rounds, orAny(serverCPU), cfg.loops, orAny(loadCPU))
	report.WriteString(echoTable(cfg, runs, results).Markdown())
	for _, s := range runs {
		if s.bin == "" {
			fmt.Fprintf(&report, "\n%s: n/a (%s)\n", s.name, s.why)
		}
	}
	if cfg.rate > 0 {
		fmt.Fprintf(&report, "\n### Fixed load: server CPU per message at %.0f msgs/s offered\n\n", cfg.rate)
		fmt.Fprintf(&report, "The same %d connections, each sending on a fixed schedule (%.0f msgs/s in all) instead of as fast as "+
			"echoes return, so neither the server nor the load generator is saturated and the server's CPU time per message "+
			"(utime+stime from /proc) compares the servers' costs, as do context switches per message (every thread's, from /proc), which a busy machine does not inflate. \"liburing C\" is bench/cref/echo.c (multishot accept, "+
			"multishot recv into a 16 KiB x 1024 buffer ring, send from the received buffer, one enter per loop turn): "+
			"the cost of the kernel and io_uring themselves, the limit for any server here. %v per run, %d rounds alternated, medians.\n\n",
			cfg.conns, cfg.rate, cfg.duration, cfg.rounds)
		report.WriteString(fixedTable(cfg, runs, fixed).Markdown())
		if short := shortOfRate(cfg, runs, fixed); len(short) > 0 {
			fmt.Fprintf(&report, "\nBelow 90%% of the offered rate (the machine could not keep up; CPU per message then "+
				"includes less batching, so compare these rows with care): %s.\n", strings.Join(short, ", "))
		}
	}
	if cfg.idle > 0 {
		fmt.Fprintf(&report, "\n### Idle connections\n\n%d idle connections (each echoed one byte first), RSS of the server before and after.\n\n", cfg.idle)
		report.WriteString(idleTable(ctx, &g, cfg, runs, serverCPU).Markdown())
	}
	return harness.WriteReport(report.String(), cfg.out)
}

func orAny(cpu string) string {
	if cpu == "" {
		return "any (unpinned)"
	}
	return cpu
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "echobench: "+format+"\n", args...)
}

// buildSeries builds the servers; one that cannot be built keeps an empty bin and a reason.
func buildSeries(ctx context.Context, cfg config, bin, benchDir string) []series {
	loops := []string{"-loops", strconv.Itoa(cfg.loops)}
	uring := []string{"URINGNET_BACKEND=uring"} // fail rather than fall back to epoll
	all := []series{
		{name: "uringnet", key: "uringnet", args: loops, env: uring, backend: "io_uring"},
		{name: "net", key: "net", isNet: true},
		{name: "uringnet (no batching)", key: "nobatch", args: loops, env: append(uring, "URINGNET_DISABLE=batch"), backend: "io_uring"},
		{name: "uringnet (epoll)", key: "epoll", args: loops, env: []string{"URINGNET_BACKEND=epoll"}, backend: "epoll"},
		{name: refName, key: "cref", isRef: true},
	}
	uringBin := filepath.Join(bin, "uringnet-echo")
	progress("building example/echo")
	var uerr error
	if _, err := os.Stat(filepath.Join(cfg.repo, "example", "echo")); err != nil {
		uerr = fmt.Errorf("example/echo is not in %s yet", cfg.repo)
	} else {
		uerr = harness.GoBuild(ctx, cfg.repo, "./example/echo", uringBin)
	}
	netBin := filepath.Join(bin, "netecho")
	nerr := harness.GoBuild(ctx, benchDir, "./netecho", netBin)
	refBin := ""
	var rerr error
	if slices.Contains(cfg.series, "cref") {
		progress("building bench/cref/echo.c")
		refBin = filepath.Join(bin, "cref-echo")
		rerr = cref.BuildEcho(ctx, cfg.repo, refBin)
	}
	for i := range all {
		switch {
		case all[i].isRef && rerr == nil:
			all[i].bin = refBin
		case all[i].isRef:
			all[i].why = firstLine(rerr.Error())
		case all[i].isNet && nerr == nil:
			all[i].bin = netBin
		case all[i].isNet:
			all[i].why = nerr.Error()
		case uerr == nil:
			all[i].bin = uringBin
		default:
			all[i].why = firstLine(uerr.Error())
		}
		if all[i].why != "" {
			progress("%s: n/a: %s", all[i].name, all[i].why)
		}
	}
	return all
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// startServer starts one server of series s on a free port.
func startServer(ctx context.Context, g *harness.Group, s *series, cpu string) (*harness.Proc, error) {
	addr, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	return g.Start(ctx, harness.Spec{
		Name: s.name,
		Path: s.bin,
		Args: append([]string{"-addr", addr}, s.args...),
		Env:  append([]string{"GOMAXPROCS=1"}, s.env...),
		CPU:  cpu,
	})
}

// runOnce measures one run: a fresh server, one echoload run against it (at the offered
// rate, or as fast as it goes when rate is 0), the server's CPU time over the run, its RSS at
// the end and its final stats line.
func runOnce(ctx context.Context, g *harness.Group, cfg config, s *series, size int, rate float64, load, serverCPU, loadCPU string) (sample, error) {
	p, err := startServer(ctx, g, s, serverCPU)
	if err != nil {
		return sample{}, err
	}
	defer p.Kill()
	cpu0, err := harness.CPUTime(p.Pid(), false)
	if err != nil {
		return sample{}, err
	}
	cs0, err := harness.CtxSwitches(p.Pid(), false)
	if err != nil {
		return sample{}, err
	}
	out, err := harness.Run(ctx, harness.Spec{
		Name: "echoload",
		Path: load,
		Args: []string{"-addr", p.Addr, "-conns", strconv.Itoa(cfg.conns), "-size", strconv.Itoa(size),
			"-duration", cfg.duration.String(), "-rate", strconv.FormatFloat(rate, 'f', -1, 64)},
		CPU: loadCPU,
	}, cfg.duration+30*time.Second)
	if err != nil {
		return sample{}, err
	}
	cpu1, err := harness.CPUTime(p.Pid(), false)
	if err != nil {
		return sample{}, err
	}
	cs1, err := harness.CtxSwitches(p.Pid(), false)
	if err != nil {
		return sample{}, err
	}
	rss, err := harness.RSS(p.Pid(), false)
	if err != nil {
		return sample{}, err
	}
	stats, err := p.Stop(5 * time.Second)
	if err != nil {
		return sample{}, err
	}
	line, err := harness.FindLine(out, "result")
	if err != nil {
		return sample{}, err
	}
	msgs, perSec, p50, p99, err := echo.ParseResult(line)
	if err != nil {
		return sample{}, err
	}
	kvRes, err := harness.ParseKV(line, "result")
	if err != nil {
		return sample{}, err
	}
	secs, err := kvRes.Float("secs")
	if err != nil {
		return sample{}, err
	}
	if msgs == 0 {
		return sample{}, errors.New("no message completed")
	}
	sm := sample{
		perSec:       perSec,
		p50us:        float64(p50) / float64(time.Microsecond),
		p99us:        float64(p99) / float64(time.Microsecond),
		entersPerMsg: math.NaN(),
		cpuUsPerMsg:  float64(cpu1-cpu0) / float64(time.Microsecond) / float64(msgs),
		rssMiB:       float64(rss) / (1 << 20),
		cpuPct:       100 * (cpu1 - cpu0).Seconds() / secs,
		csPerMsg:     float64(cs1-cs0) / float64(msgs),
	}
	if !s.isNet {
		kv, err := harness.ParseKV(stats, "stats")
		if err != nil {
			return sample{}, fmt.Errorf("final stats line: %w", err)
		}
		if enters, err := kv.Int("enters"); err == nil {
			sm.entersPerMsg = float64(enters) / float64(msgs)
		}
		if err := checkBackend(kv, s.backend); err != nil {
			return sample{}, err
		}
	}
	return sm, nil
}

// median applies f to every sample and returns the median.
func median(ss []sample, f func(sample) float64) float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return harness.Median(xs)
}

func echoTable(cfg config, runs []*series, results map[string]map[int][]sample) *harness.Table {
	t := &harness.Table{Labels: 2, Header: []string{"size", "server", "msgs/s", "p50 µs", "p99 µs",
		"enters/msg", "CPU µs/msg", "RSS MiB", "msgs/s vs net", "CPU/msg vs net"}}
	for _, size := range cfg.sizes {
		net := results["net"][size]
		netRate := median(net, func(s sample) float64 { return s.perSec })
		netCPU := median(net, func(s sample) float64 { return s.cpuUsPerMsg })
		for _, s := range runs {
			ss := results[s.name][size]
			rate := median(ss, func(s sample) float64 { return s.perSec })
			cpu := median(ss, func(s sample) float64 { return s.cpuUsPerMsg })
			vsRate, vsCPU := harness.Ratio(rate, netRate), harness.Ratio(cpu, netCPU)
			if s.isNet || s.isRef {
				vsRate, vsCPU = "—", "—"
			}
			t.AddRow(sizeName(size), s.name,
				harness.Num(rate, 0),
				harness.Num(median(ss, func(s sample) float64 { return s.p50us }), 0),
				harness.Num(median(ss, func(s sample) float64 { return s.p99us }), 0),
				harness.Num(median(ss, func(s sample) float64 { return s.entersPerMsg }), 3),
				harness.Num(cpu, 2),
				harness.Num(median(ss, func(s sample) float64 { return s.rssMiB }), 1),
				vsRate, vsCPU)
		}
	}
	return t
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return strconv.Itoa(n/1024) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

// idleTable runs the idle mode for every distinct server binary (uringnet and net) and
// returns its table.
func idleTable(ctx context.Context, g *harness.Group, cfg config, runs []*series, cpu string) *harness.Table {
	t := &harness.Table{Header: []string{"server", "idle conns", "RSS before MiB", "RSS after MiB", "KiB per conn", "vs net"}}
	type row struct {
		name          string
		before, after float64
		perConn       float64
		err           error
	}
	var rows []row
	netPer := math.NaN()
	for _, s := range runs {
		if s.key == "nobatch" { // same binary as uringnet; batching does not matter when idle
			continue
		}
		r := row{name: s.name, before: math.NaN(), after: math.NaN(), perConn: math.NaN()}
		if s.bin == "" {
			r.err = errors.New(s.why)
		} else {
			var b, a int64
			b, a, r.err = idleOnce(ctx, g, cfg, s, cpu)
			if r.err == nil {
				r.before, r.after = float64(b)/(1<<20), float64(a)/(1<<20)
				r.perConn = float64(a-b) / 1024 / float64(cfg.idle)
			}
		}
		if r.err != nil {
			progress("idle %s: FAILED: %v", s.name, r.err)
		} else {
			progress("idle %s: %.1f KiB per connection", s.name, r.perConn)
		}
		if s.isNet {
			netPer = r.perConn
		}
		rows = append(rows, r)
	}
	for _, r := range rows {
		vs := harness.Ratio(r.perConn, netPer)
		if r.name == "net" {
			vs = "—"
		}
		t.AddRow(r.name, strconv.Itoa(cfg.idle), harness.Num(r.before, 1), harness.Num(r.after, 1), harness.Num(r.perConn, 2), vs)
	}
	return t
}

// idleOnce starts a server, reads its RSS, opens cfg.idle idle connections, lets it settle,
// reads the RSS again and stops the server.
func idleOnce(ctx context.Context, g *harness.Group, cfg config, s *series, cpu string) (before, after int64, err error) {
	p, err := startServer(ctx, g, s, cpu)
	if err != nil {
		return 0, 0, err
	}
	defer p.Kill()
	time.Sleep(300 * time.Millisecond)
	if before, err = harness.RSS(p.Pid(), false); err != nil {
		return 0, 0, err
	}
	conns, err := echo.OpenIdle(ctx, p.Addr, cfg.idle, 64, 120*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer echo.CloseAll(conns)
	time.Sleep(500 * time.Millisecond)
	if after, err = harness.RSS(p.Pid(), false); err != nil {
		return 0, 0, err
	}
	if !p.Alive() {
		return 0, 0, errors.New("server exited")
	}
	if s.backend == "" {
		return before, after, nil
	}
	echo.CloseAll(conns)
	stats, err := p.Stop(5 * time.Second)
	if err != nil {
		return 0, 0, err
	}
	kv, err := harness.ParseKV(stats, "stats")
	if err != nil {
		return 0, 0, fmt.Errorf("final stats line: %w", err)
	}
	return before, after, checkBackend(kv, s.backend)
}

// refName is the C reference's name in the tables.
const refName = "liburing C"

// fixedTable is the fixed-load mode's table: CPU per message of each server at the offered
// rate, and its ratio to the C reference's.
func fixedTable(cfg config, runs []*series, results map[string]map[int][]sample) *harness.Table {
	t := &harness.Table{Labels: 2, Header: []string{"size", "server", "offered msgs/s", "msgs/s", "p50 µs", "p99 µs",
		"server CPU %", "CPU µs/msg", "ctx switches/msg", "CPU/msg vs liburing C"}}
	for _, size := range cfg.sizes {
		refCPU := median(results[refName][size], func(s sample) float64 { return s.cpuUsPerMsg })
		for _, s := range runs {
			ss := results[s.name][size]
			cpu := median(ss, func(s sample) float64 { return s.cpuUsPerMsg })
			vs := harness.Ratio(cpu, refCPU)
			if s.isRef {
				vs = "—"
			}
			t.AddRow(sizeName(size), s.name,
				harness.Num(cfg.rate, 0),
				harness.Num(median(ss, func(s sample) float64 { return s.perSec }), 0),
				harness.Num(median(ss, func(s sample) float64 { return s.p50us }), 0),
				harness.Num(median(ss, func(s sample) float64 { return s.p99us }), 0),
				harness.Num(median(ss, func(s sample) float64 { return s.cpuPct }), 0),
				harness.Num(cpu, 2),
				harness.Num(median(ss, func(s sample) float64 { return s.csPerMsg }), 2),
				vs)
		}
	}
	return t
}

// shortOfRate names the fixed-load rows whose achieved rate was under 90% of the offered one.
func shortOfRate(cfg config, runs []*series, results map[string]map[int][]sample) []string {
	var out []string
	for _, size := range cfg.sizes {
		for _, s := range runs {
			ss := results[s.name][size]
			if len(ss) > 0 && median(ss, func(s sample) float64 { return s.perSec }) < 0.9*cfg.rate {
				out = append(out, sizeName(size)+" "+s.name)
			}
		}
	}
	return out
}

// checkBackend fails when the final stats line names a backend other than want. A line
// without "backend=" passes for io_uring (the example before the epoll backend existed ran
// nothing else) and fails for epoll.
func checkBackend(stats harness.KV, want string) error {
	got, ok := stats["backend"]
	if got == "uring" {
		got = "io_uring"
	}
	switch {
	case want == "" || got == want || !ok && want == "io_uring":
		return nil
	case !ok:
		return fmt.Errorf("the final stats line names no backend: URINGNET_BACKEND=%s is not known to work in this tree", want)
	}
	return fmt.Errorf("ran the %q backend, not %s", got, want)
}
