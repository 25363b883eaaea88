package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// config holds the command-line settings.
type config struct {
	repo     string
	duration time.Duration
	rounds   int
	conns    int     // h2load clients (-c)
	streams  int     // concurrent streams per client (-m)
	fixed    float64 // offered req/s of the fixed-load runs, over all clients; 0 skips them
	idle     int     // idle h2c connections of the RSS measure; 0 skips it
	peers    []string
	loops    int
	install  bool
	out      string
}

var allPeers = []string{"uringnet", "epoll", "nethttp", "nginx"}

const plaintext = "Hello, World!"

// peer is one server under test.
type peer struct {
	key, name string
	spec      harness.Spec
	// specAt returns the peer's spec listening on another address: a fresh server for the
	// idle mode. Nil when the peer is not available.
	specAt  func(addr string) (harness.Spec, error)
	backend string // the uringnet backend it must run ("io_uring", "epoll"); "" for the other peers
	tree    bool   // count child processes (nginx workers) too
	why     string // why it is n/a
	failed  string // why its h2c check or a run failed (it is then not benchmarked further)
	proc    *harness.Proc
}

// sample is what one h2load run measured.
type sample struct {
	perSec, meanMs, maxMs, cpuUsPerReq, cpuPct, csPerReq, rssMiB float64
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "h2bench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("h2bench", flag.ContinueOnError)
	fs.StringVar(&cfg.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each h2load run (-D, whole seconds)")
	fs.IntVar(&cfg.rounds, "rounds", 3, "runs per peer (alternated)")
	fs.IntVar(&cfg.conns, "conns", 8, "h2load clients (connections, -c)")
	fs.IntVar(&cfg.streams, "streams", 100, "concurrent streams per connection (h2load -m)")
	fs.Float64Var(&cfg.fixed, "fixed", 5000, "the plaintext runs again at this offered req/s over all connections "+
		"(h2load --rps RATE/conns per client), reporting server CPU per request; 0 skips them")
	fs.IntVar(&cfg.idle, "idle", 5000, "idle h2c connections (one GET /plaintext each, prior knowledge) for the "+
		"RSS-per-connection measure, on a fresh server of each peer (0: skip)")
	peers := fs.String("peers", strings.Join(allPeers, ","), "servers to compare")
	fs.IntVar(&cfg.loops, "loops", 1, "uringnet event loops")
	fs.BoolVar(&cfg.install, "install", true, "apt-get install nghttp2-client (h2load) when it is missing")
	fs.StringVar(&cfg.out, "o", "", "also write the markdown report to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.peers, err = list(*peers, allPeers); err != nil {
		return cfg, fmt.Errorf("-peers: %w", err)
	}
	if cfg.rounds < 1 || cfg.conns < 1 || cfg.streams < 1 || cfg.loops < 1 || cfg.duration < time.Second ||
		cfg.idle < 0 || cfg.fixed < 0 || math.IsNaN(cfg.fixed) || math.IsInf(cfg.fixed, 0) {
		return cfg, errors.New("-rounds, -conns, -streams, -loops must be positive, -duration at least 1s, -idle and -fixed not negative")
	}
	return cfg, nil
}

// list splits a comma-separated list and checks every entry is known; duplicates are dropped.
func list(s string, known []string) ([]string, error) {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		v = strings.TrimSpace(v)
		found := false
		for _, k := range known {
			found = found || k == v
		}
		if !found {
			return nil, fmt.Errorf("unknown %q (want some of %s)", v, strings.Join(known, ","))
		}
		dup := false
		for _, o := range out {
			dup = dup || o == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "h2bench: "+format+"\n", args...)
}

// scenarioName is the load's name in the tables.
func scenarioName(cfg config) string {
	return fmt.Sprintf("plaintext h2c (%d conns x %d streams)", cfg.conns, cfg.streams)
}

func run(ctx context.Context, cfg config) error {
	command := harness.CommandLine("h2bench", os.Args[1:])
	root, err := harness.RepoRoot(cfg.repo)
	if err != nil {
		return err
	}
	cfg.repo = root
	h2load, err := harness.FindTool("h2load", "nghttp2-client", cfg.install, progress)
	if err != nil {
		return err
	}
	serverCPU, loadCPU := harness.PinLoadPair(progress)
	if _, err := harness.RaiseNoFile(max(16384, 2*uint64(cfg.idle)+1024)); err != nil {
		progress("%v", err)
	}
	tmp, err := os.MkdirTemp("", "h2bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// nginx's workers run as nobody when started by root.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(tmp, "www"), 0o755); err != nil {
		return err
	}

	peers := setupPeers(ctx, cfg, tmp, serverCPU)
	var g harness.Group
	defer g.KillAll()
	for _, p := range peers {
		if p.why != "" {
			continue
		}
		proc, err := g.StartChecked(ctx, p.spec, p.backend, nil)
		if err != nil {
			p.why = harness.FirstLine(err.Error())
			progress("%s: n/a: %v", p.name, err)
			continue
		}
		p.proc = proc
		if err := checkH2(ctx, proc.Addr, h2load, loadCPU); err != nil {
			p.failed = harness.FirstLine(err.Error())
			progress("%s: h2c check failed, not benchmarked: %v", p.name, err)
		}
	}

	sat, err := runRounds(ctx, cfg, peers, h2load, loadCPU, 0, "h2c", func(sm sample) string {
		return fmt.Sprintf("%.0f req/s mean %.2fms cpu %.2fus/req (%.0f%%)", sm.perSec, sm.meanMs, sm.cpuUsPerReq, sm.cpuPct)
	})
	if err != nil {
		return err
	}
	fixed := map[string][]sample{}
	if cfg.fixed > 0 {
		fixed, err = runRounds(ctx, cfg, peers, h2load, loadCPU, cfg.fixed/float64(cfg.conns), fmt.Sprintf("fixed %.0f/s", cfg.fixed),
			func(sm sample) string {
				return fmt.Sprintf("%.0f req/s cpu %.2fus/req (%.0f%%)", sm.perSec, sm.cpuUsPerReq, sm.cpuPct)
			})
		if err != nil {
			return err
		}
	}

	var idle map[string]harness.IdleResult
	if cfg.idle > 0 && ctx.Err() == nil {
		idle = runIdle(ctx, &g, peers, cfg.idle)
	}

	// Stop the servers, and drop the figures of a uringnet peer whose final stats line names
	// another backend than the one it was started for.
	final := map[string]string{}
	for _, p := range peers {
		if p.proc == nil {
			continue
		}
		stats, err := p.proc.StopChecked(p.backend, progress)
		final[p.key] = stats
		if err != nil {
			progress("%s: %v: its figures are dropped", p.name, err)
			p.why = err.Error() + "; its figures are dropped"
			delete(sat, p.key)
			delete(fixed, p.key)
			delete(idle, p.key)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return harness.WriteReport(render(cfg, command, serverCPU, loadCPU, peers, sat, fixed, idle, final), cfg.out)
}

// runRounds runs cfg.rounds alternated rounds of h2load against every peer still standing,
// at perClient req/s per client (0: as fast as it goes), and returns the samples by peer; its
// progress lines start with label and end with show(sample). A saturated run whose server
// has exited marks the peer failed.
func runRounds(ctx context.Context, cfg config, peers []*peer, h2load, loadCPU string, perClient float64, label string,
	show func(sample) string) (map[string][]sample, error) {
	res := map[string][]sample{}
	for round := 1; round <= cfg.rounds; round++ {
		for _, p := range peers {
			if p.proc == nil || p.failed != "" {
				continue
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			url := "http://" + p.proc.Addr + "/plaintext"
			sm, err := runOnce(ctx, cfg, p, h2load, h2loadArgs(cfg.conns, cfg.streams, cfg.duration, 0, perClient, url), loadCPU)
			if err != nil {
				progress("%s round %d/%d %s: FAILED: %v", label, round, cfg.rounds, p.name, err)
				if perClient == 0 && !p.proc.Alive() {
					p.failed = "server exited"
				}
				continue
			}
			progress("%s round %d/%d %s: %s", label, round, cfg.rounds, p.name, show(sm))
			res[p.key] = append(res[p.key], sm)
		}
	}
	return res, nil
}

// render is the markdown report.
func render(cfg config, command, serverCPU, loadCPU string, peers []*peer, sat, fixed map[string][]sample,
	idle map[string]harness.IdleResult, final map[string]string) string {
	var b strings.Builder
	b.WriteString(harness.Header("HTTP/2 (h2c): uringnet vs net/http, nginx", command))
	fmt.Fprintf(&b, "h2load -t1 -c%d -m%d (HTTP/2 over cleartext TCP by prior knowledge), GET /plaintext, %v per run, "+
		"%d rounds alternated, medians. Servers on CPU %s (GOMAXPROCS=1, uringnet -loops %d, nginx 1 worker), h2load on CPU %s. "+
		"\"uringnet\" is the demo server on its io_uring backend (%s=uring), \"uringnet (epoll)\" the same binary on its "+
		"epoll backend; \"net/http h2c\" is bench/nethttp -h2c (http.Server.Protocols with UnencryptedHTTP2: net/http's own "+
		"HTTP/2); nginx serves h2c with %s. Latency is h2load's per-request mean and max; CPU µs/req is the server's "+
		"utime+stime (/proc, nginx's worker included) over the run per 2xx response h2load received. "+
		"\"uringnet / peer\" is the ratio of requests per second. *server CPU %%* is the server's CPU time over h2load's "+
		"run time: a server well under 100%% beside others near it was held back by h2load's one thread (or by other work "+
		"on its core), not by its own cost.\n\n",
		cfg.conns, cfg.streams, cfg.duration, cfg.rounds, harness.OrAny(serverCPU), cfg.loops, harness.OrAny(loadCPU), harness.BackendEnv, nginxH2Note())
	b.WriteString(satTable(cfg, peers, sat).Markdown())
	if cfg.fixed > 0 {
		b.WriteString("\n### Fixed load: server CPU per request\n\n")
		fmt.Fprintf(&b, "The same connections and streams at a fixed offered rate of %.0f req/s (h2load --rps %s per "+
			"connection), which saturates no server: CPU per request then compares the servers' costs rather than who wins "+
			"a race for a shared core; context switches per request (every thread's, from /proc) are a cost that a busy "+
			"machine does not inflate. %v per run, %d rounds alternated, medians.\n\n",
			cfg.fixed, strconv.FormatFloat(cfg.fixed/float64(cfg.conns), 'f', -1, 64), cfg.duration, cfg.rounds)
		b.WriteString(fixedTable(cfg, peers, fixed).Markdown())
	}
	if idle != nil {
		b.WriteString("\n### Idle h2c connections\n\n")
		fmt.Fprintf(&b, "A fresh server of each peer (pinned as above), %d connections that each send the HTTP/2 preface, "+
			"SETTINGS and one GET /plaintext (HEADERS with END_STREAM), read the whole 200 response and then stay open, idle; "+
			"the server's RSS (VmRSS from /proc, nginx's worker included) 0.3 s after it started and %g s after the last "+
			"response: (after − before) / connections.\n\n", cfg.idle, harness.IdleSettle.Seconds())
		b.WriteString(idleTable(peers, cfg.idle, idle).Markdown())
	}
	if hasPeer(peers, "uringnet") {
		b.WriteString("\n### uringnet against issue 15's floors\n\n")
		b.WriteString("Read off the tables above: medians of this run's rounds, uringnet (io_uring) against the peers in the " +
			"same run. One run on a shared machine is noisy: a pass or a miss by a few percent is within the noise.\n\n")
		b.WriteString(floorsTable(cfg, peers, sat, fixed, idle).Markdown())
	}
	var notes []string
	for _, p := range peers {
		switch {
		case p.why != "":
			notes = append(notes, fmt.Sprintf("- %s: n/a (%s)", p.name, p.why))
		case p.failed != "":
			notes = append(notes, fmt.Sprintf("- %s: failed: %s", p.name, p.failed))
		}
	}
	for _, p := range peers {
		if got := rateOf(fixed[p.key]); cfg.fixed > 0 && got < 0.9*cfg.fixed {
			notes = append(notes, fmt.Sprintf("- fixed load, %s: %.0f req/s achieved, below 90%% of the %.0f offered "+
				"(saturated: its CPU per request is not comparable)", p.name, got, cfg.fixed))
		}
	}
	for _, p := range peers {
		if r, ok := idle[p.key]; ok && r.Err != nil {
			notes = append(notes, fmt.Sprintf("- idle h2c, %s: failed: %s", p.name, harness.FirstLine(r.Err.Error())))
		}
	}
	for _, p := range peers {
		if stats := final[p.key]; stats != "" {
			notes = append(notes, fmt.Sprintf("- %s final `%s`", p.name, stats))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String()
}

func median(ss []sample, f func(sample) float64) float64 { return harness.MedianOf(ss, f) }

func rateOf(ss []sample) float64 { return median(ss, func(s sample) float64 { return s.perSec }) }
func cpuOf(ss []sample) float64  { return median(ss, func(s sample) float64 { return s.cpuUsPerReq }) }

// rowName is p's name in a table, marked when it failed.
func rowName(p *peer) string {
	if p.failed != "" {
		return p.name + " (failed, see below)"
	}
	return p.name
}

// satTable is the saturated runs' table.
func satTable(cfg config, peers []*peer, res map[string][]sample) *harness.Table {
	t := &harness.Table{Labels: 2, Header: []string{"scenario", "server", "req/s", "mean ms", "max ms", "CPU µs/req",
		"server CPU %", "RSS MiB", "uringnet / peer", "CPU/req uringnet / peer"}}
	u := res["uringnet"]
	for _, p := range peers {
		ss := res[p.key]
		vs, vsCPU := "—", "—"
		if p.key != "uringnet" {
			vs, vsCPU = harness.Ratio(rateOf(u), rateOf(ss)), harness.Ratio(cpuOf(u), cpuOf(ss))
		}
		t.AddRow(scenarioName(cfg), rowName(p),
			harness.Num(rateOf(ss), 0),
			harness.Num(median(ss, func(s sample) float64 { return s.meanMs }), 2),
			harness.Num(median(ss, func(s sample) float64 { return s.maxMs }), 2),
			harness.Num(cpuOf(ss), 2),
			harness.Num(median(ss, func(s sample) float64 { return s.cpuPct }), 0),
			harness.Num(median(ss, func(s sample) float64 { return s.rssMiB }), 1),
			vs, vsCPU)
	}
	return t
}

// fixedTable is the fixed-load runs' table.
func fixedTable(cfg config, peers []*peer, res map[string][]sample) *harness.Table {
	t := &harness.Table{Labels: 2, Header: []string{"scenario", "server", "offered req/s", "req/s", "mean ms", "max ms",
		"server CPU %", "CPU µs/req", "ctx switches/req", "CPU/req uringnet / peer"}}
	u := res["uringnet"]
	for _, p := range peers {
		ss := res[p.key]
		vs := "—"
		if p.key != "uringnet" {
			vs = harness.Ratio(cpuOf(u), cpuOf(ss))
		}
		t.AddRow(scenarioName(cfg), rowName(p),
			harness.Num(cfg.fixed, 0),
			harness.Num(rateOf(ss), 0),
			harness.Num(median(ss, func(s sample) float64 { return s.meanMs }), 2),
			harness.Num(median(ss, func(s sample) float64 { return s.maxMs }), 2),
			harness.Num(median(ss, func(s sample) float64 { return s.cpuPct }), 0),
			harness.Num(cpuOf(ss), 2),
			harness.Num(median(ss, func(s sample) float64 { return s.csPerReq }), 2),
			vs)
	}
	return t
}

// Issue 15's floors for uringnet's HTTP/2.
const (
	floorVsNethttp = 1.5 // plaintext h2c req/s ≥ 1.5x net/http h2c's
	floorVsNginx   = 1.0 // ≥ nginx's
	maxIdleKiB     = 8.0 // RSS per idle h2c connection
)

// floorsTable reads issue 15's floors off this run, PASS or FAIL (n/a when a side was not
// measured), then the CPU per request at the fixed load against each peer, with no floor.
func floorsTable(cfg config, peers []*peer, sat, fixed map[string][]sample, idle map[string]harness.IdleResult) *harness.Table {
	t := &harness.Table{Labels: 1, Header: []string{"floor (issue 15)", "measured", "met"}}
	name := map[string]string{}
	for _, p := range peers {
		name[p.key] = p.name
	}
	u := rateOf(sat["uringnet"])
	for _, f := range []struct {
		peer string
		min  float64
	}{{"nethttp", floorVsNethttp}, {"nginx", floorVsNginx}} {
		if name[f.peer] == "" {
			continue
		}
		o := rateOf(sat[f.peer])
		t.AddRow(fmt.Sprintf("%s: req/s ≥ %.2fx %s's", scenarioName(cfg), f.min, name[f.peer]),
			harness.Ratio(u, o), verdict(u/o, f.min, true))
	}
	if r, ok := idle["uringnet"]; ok {
		kib := r.PerConnKiB(cfg.idle)
		measured := harness.Num(kib, 2)
		if measured != harness.NA {
			measured += " KiB"
		}
		t.AddRow(fmt.Sprintf("RSS per idle h2c connection ≤ %.2f KiB (%d connections)", maxIdleKiB, cfg.idle),
			measured, verdict(kib, maxIdleKiB, false))
	}
	if cfg.fixed > 0 {
		uc := cpuOf(fixed["uringnet"])
		for _, p := range peers {
			if p.key == "uringnet" {
				continue
			}
			o := cpuOf(fixed[p.key])
			measured := harness.NA
			if uc > 0 && o > 0 {
				measured = fmt.Sprintf("%.2f vs %.2f µs (%s)", uc, o, harness.Ratio(uc, o))
			}
			t.AddRow(fmt.Sprintf("CPU per request at %.0f req/s offered, uringnet vs %s (no floor)", cfg.fixed, p.name),
				measured, "—")
		}
	}
	return t
}

// verdict says whether v reaches the floor (atLeast) or stays under the ceiling: PASS, FAIL,
// or n/a when v is not a number.
func verdict(v, limit float64, atLeast bool) string {
	return harness.Floor(v, limit, atLeast, true, "PASS", "FAIL")
}

func hasPeer(peers []*peer, key string) bool {
	for _, p := range peers {
		if p.key == key {
			return true
		}
	}
	return false
}

// nginxVersion is what `nginx -v` printed, set by setupPeers.
var nginxVersion string

// nginxH2Note says how nginx's h2c listener is configured.
func nginxH2Note() string {
	on, _ := harness.NginxHTTP2On(nginxVersion)
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(nginxVersion), "nginx version: "))
	if v == "" {
		v = "nginx"
	}
	if on {
		return "\"http2 on;\" (" + v + ")"
	}
	return "\"listen ADDR http2;\" (" + v + ")"
}

// setupPeers builds the Go peers and prepares nginx's configurations. A peer that cannot be
// set up keeps a reason in why.
func setupPeers(ctx context.Context, cfg config, tmp, cpu string) []*peer {
	www := filepath.Join(tmp, "www")
	bench := filepath.Join(cfg.repo, "bench")
	built := map[string]error{}
	var peers []*peer
	for _, key := range cfg.peers {
		p := &peer{key: key}
		goPeer := func(dir, pkg, bin string, env []string, extra ...string) {
			specAt, err := harness.GoServer(ctx, built, dir, pkg, filepath.Join(tmp, bin), cpu, www, env, extra)
			if err != nil {
				p.why = harness.FirstLine(err.Error())
				return
			}
			p.specAt = specAt
		}
		switch key {
		case "uringnet", "epoll":
			p.name, p.backend = "uringnet", harness.UringBackend
			env := []string{harness.BackendEnv + "=uring"}
			if key == "epoll" {
				p.name, p.backend = "uringnet (epoll)", harness.EpollBackend
				env = []string{harness.BackendEnv + "=epoll"}
			}
			if _, err := os.Stat(filepath.Join(cfg.repo, "example")); err != nil {
				p.why = "example/ (the demo server) is not in the repository"
				break
			}
			goPeer(cfg.repo, "./example", "uringnet-demo", env, "-loops", strconv.Itoa(cfg.loops), "-access-log=false")
		case "nethttp":
			p.name = "net/http h2c"
			goPeer(bench, "./nethttp", "nethttp", nil, "-h2c")
		case "nginx":
			p.name, p.tree = "nginx", true
			nginx, err := harness.LookNginx()
			if err != nil {
				p.why = err.Error()
				break
			}
			var out bytes.Buffer
			cmd := exec.CommandContext(ctx, nginx, "-v")
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				p.why = fmt.Sprintf("nginx -v: %v", err)
				break
			}
			nginxVersion = strings.TrimSpace(out.String())
			on, _ := harness.NginxHTTP2On(nginxVersion) // unknown: "listen ... http2", which newer nginx still takes
			p.specAt = harness.NginxServer(nginx, tmp, "nginx", cpu, func(dir, addr string) string {
				return harness.NginxConfigH2(dir, addr, www, on)
			})
		}
		if p.why == "" {
			addr, err := harness.FreePort()
			if err == nil {
				p.spec, err = p.specAt(addr)
			}
			if err != nil {
				p.why = err.Error()
			}
		}
		p.spec.Name = p.name
		if p.why != "" {
			progress("%s: n/a: %s", p.name, p.why)
		}
		peers = append(peers, p)
	}
	return peers
}

// checkH2 checks the server at addr once before it is benchmarked: a Go client speaking
// HTTP/2 by prior knowledge must get a 200 with the plaintext body over HTTP/2, and a short
// h2load run (1,000 requests, 1 connection x 10 streams) must use h2c and have every
// request succeed with a 2xx.
func checkH2(ctx context.Context, addr, h2load, loadCPU string) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, "GET", "http://"+addr+"/plaintext", nil)
	if err != nil {
		return err
	}
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protos, DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("h2c GET /plaintext: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("h2c GET /plaintext: body: %w", err)
	case resp.ProtoMajor != 2:
		return fmt.Errorf("h2c GET /plaintext: answered over %s", resp.Proto)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("h2c GET /plaintext: status %s", resp.Status)
	case string(body) != plaintext:
		return fmt.Errorf("h2c GET /plaintext: body %q, want %q", body, plaintext)
	}
	out, err := harness.Run(ctx, harness.Spec{Name: "h2load", Path: h2load, CPU: loadCPU,
		Args: h2loadArgs(1, 10, 0, 1000, 0, "http://"+addr+"/plaintext")}, 30*time.Second)
	if err != nil {
		return err
	}
	r, err := parseH2load(out)
	if err == nil {
		err = r.check()
	}
	if err == nil && r.succeeded != 1000 {
		err = fmt.Errorf("%d of 1000 requests succeeded", r.succeeded)
	}
	if err != nil {
		return fmt.Errorf("h2load -n 1000: %w", err)
	}
	return nil
}

// runOnce runs h2load once with args against p and measures the server meanwhile.
func runOnce(ctx context.Context, cfg config, p *peer, h2load string, args []string, loadCPU string) (sample, error) {
	out, use, err := p.proc.MeasureLoad(ctx, p.tree, harness.Spec{Name: "h2load", Path: h2load, Args: args, CPU: loadCPU}, cfg.duration+30*time.Second)
	if err != nil {
		return sample{}, err
	}
	r, err := parseH2load(out)
	if err != nil {
		return sample{}, err
	}
	if err := r.check(); err != nil {
		return sample{}, err
	}
	resp := float64(r.status2xx) // every response the server sent during the run
	return sample{
		perSec:      r.perSec,
		meanMs:      r.meanMs,
		maxMs:       r.maxMs,
		cpuUsPerReq: use.CPUUsPer(resp),
		cpuPct:      use.CPUPct(r.duration),
		csPerReq:    use.CtxSwitchesPer(resp),
		rssMiB:      use.RSSMiB(),
	}, nil
}
