package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// config holds the command-line settings.
type config struct {
	repo      string
	duration  time.Duration
	rounds    int
	conns     int
	pipeline  int
	peers     []string
	scenarios []string
	out       string
	install   bool
	loops     int
	idle      int                // connections of the idle keep-alive mode; 0 skips it
	variants  []variant          // extra uringnet peers with an environment of their own
	fixed     map[string]float64 // scenario key -> offered req/s of the fixed-load mode
	fixedKeys []string           // the keys of fixed, in flag order
	tls       []string           // the HTTPS scenarios (tlsScenarios' keys); none skips the HTTPS mode
	tlsPeers  []string           // the servers of the HTTPS mode
	tlsIdle   int                // idle TLS connections of the HTTPS mode's RSS measure; 0 skips it
	tlsFixed  float64            // offered req/s of the HTTPS keep-alive fixed-load runs; 0 skips them
}

// defaultFixed is the fixed-load mode's default: rates well below what every peer serves on
// one core of the 2-vCPU machine, so no server is saturated and CPU per request compares costs.
// Plaintext at a fixed rate puts a price on the net/http adapter's handler goroutines: its CPU
// per request against the native callbacks' (and net/http's) on the same requests.
const defaultFixed = "plaintext=20000,static4k=20000,static64k=8000,static1m=800"

// parseFixed reads -fixed: "scenario=rate,...", or "" / "none" for no fixed-load runs.
func parseFixed(v string) (map[string]float64, []string, error) {
	out := map[string]float64{}
	var keys []string
	if v = strings.TrimSpace(v); v == "" || v == "none" {
		return out, nil, nil
	}
	for e := range strings.SplitSeq(v, ",") {
		k, r, ok := strings.Cut(strings.TrimSpace(e), "=")
		rate, err := strconv.ParseFloat(r, 64)
		if !ok || err != nil || !(rate > 0) || !slices.Contains(allScenarios, k) {
			return nil, nil, fmt.Errorf("-fixed: %q is not SCENARIO=REQS_PER_SEC", e)
		}
		if _, dup := out[k]; !dup {
			keys = append(keys, k)
		}
		out[k] = rate
	}
	return out, keys, nil
}

// variant is an extra uringnet peer for an experiment: the same demo server run with
// environment variables of its own (-variant NAME=KEY=VALUE[,KEY=VALUE...]).
type variant struct {
	name string
	env  []string
}

// parseVariant reads one -variant value.
func parseVariant(v string) (variant, error) {
	name, envs, ok := strings.Cut(v, "=")
	if !ok || name == "" || envs == "" {
		return variant{}, fmt.Errorf("-variant %q: want NAME=KEY=VALUE[,KEY=VALUE...]", v)
	}
	var out variant
	out.name = name
	for e := range strings.SplitSeq(envs, ",") {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return variant{}, fmt.Errorf("-variant %q: %q is not KEY=VALUE", v, e)
		}
		out.env = append(out.env, e)
	}
	return out, nil
}

// peer is one server under test.
type peer struct {
	key, name string
	spec      harness.Spec
	// specAt returns the peer's spec listening on another address: a fresh server for the
	// idle mode. Nil when the peer is not available.
	specAt  func(addr string) (harness.Spec, error)
	backend string      // the uringnet backend it must run ("io_uring", "epoll"); "" for the other peers
	client  *tls.Config // the TLS clients' configuration when the peer serves HTTPS; nil for HTTP
	tree    bool        // count child processes (nginx workers) too
	why     string
	proc    *harness.Proc
}

// scenario is one kind of wrk run.
type scenario struct {
	key, name string
	path      string
	pipeline  int
	body      []byte // the expected response body
	newConn   bool   // one request per new TLS connection (tlsload), not wrk
	closeConn bool   // wrk with "Connection: close": one request per connection
}

// sample is what one wrk run measured.
type sample struct {
	perSec, bytesPerSec, p50ms, p99ms, cpuUsPerReq, rssMiB float64
	cpuPct                                                 float64 // server CPU time / wrk's run time, in %
	csPerReq                                               float64 // server context switches per request
	errors                                                 int64
}

const plaintext = "Hello, World!"

var allPeers = []string{"uringnet", "epoll", "adapter", "nethttp", "fasthttp", "nginx"}

// adapterName is how the reports name the net/http adapter's peer.
const adapterName = "uringnet net/http adapter"

// subject is a peer whose ratios to every other server get columns of their own when it
// runs: uringnet's epoll backend (issue 9) and its net/http adapter (issue 10).
type subject struct {
	key   string // the peer's key
	label string // the columns' "LABEL / peer"
}

var subjects = []subject{{"epoll", "epoll"}, {"adapter", "adapter"}}

// subjectsIn returns the subjects among peers, in subjects' order.
func subjectsIn(peers []*peer) []subject {
	var out []subject
	for _, s := range subjects {
		if hasPeer(peers, s.key) {
			out = append(out, s)
		}
	}
	return out
}

var allScenarios = []string{"plaintext", "pipelined", "static4k", "static64k", "static1m"}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("httpbench", flag.ContinueOnError)
	fs.StringVar(&cfg.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.DurationVar(&cfg.duration, "duration", 3*time.Second, "length of each wrk run (whole seconds)")
	fs.IntVar(&cfg.rounds, "rounds", 3, "runs per peer and scenario (alternated)")
	fs.IntVar(&cfg.conns, "conns", 128, "wrk connections")
	fs.IntVar(&cfg.pipeline, "pipeline", 16, "requests per write in the pipelined scenario")
	peers := fs.String("peers", strings.Join(allPeers, ","), "servers to compare")
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "scenarios to run")
	fs.StringVar(&cfg.out, "o", "", "also write the markdown report to this file")
	fs.BoolVar(&cfg.install, "install", true, "apt-get install wrk when it is missing")
	fs.IntVar(&cfg.loops, "loops", 1, "uringnet event loops")
	fs.IntVar(&cfg.idle, "idle", 5000, "idle keep-alive connections (one GET /plaintext each) for the RSS-per-connection mode, "+
		"on a fresh server of each peer (0: skip)")
	fixed := fs.String("fixed", defaultFixed, "fixed-load mode: SCENARIO=REQS_PER_SEC,... offered with wrk's delay() "+
		"(only scenarios also in -scenarios run), reporting server CPU per request; \"none\" skips it")
	fs.Func("variant", "an extra uringnet peer for an experiment, NAME=KEY=VALUE[,KEY=VALUE...] (repeatable): "+
		"the demo server with that environment, shown as \"uringnet (NAME)\"", func(v string) error {
		va, err := parseVariant(v)
		if err == nil {
			cfg.variants = append(cfg.variants, va)
		}
		return err
	})
	tlsScen := fs.String("tls", strings.Join(defaultTLSScenarios, ","), "HTTPS scenarios (TLS 1.3, one ECDSA P-256 certificate "+
		"generated for the run): plaintext (keep-alive, wrk), newconn (one request per connection, full handshakes, tlsload), "+
		"resumed (one request per connection with wrk, whose OpenSSL client resumes sessions); "+
		"\"none\" skips the HTTPS mode")
	tlsPeers := fs.String("tls-peers", strings.Join(defaultTLSPeers, ","), "servers of the HTTPS mode (some of "+
		strings.Join(allTLSPeers, ",")+")")
	fs.IntVar(&cfg.tlsIdle, "tls-idle", 2000, "idle TLS connections (one GET /plaintext each) for the RSS-per-TLS-connection "+
		"measure, on a fresh HTTPS server of each -tls-peers peer (0: skip)")
	fs.Float64Var(&cfg.tlsFixed, "tls-fixed", 10000, "HTTPS plaintext keep-alive at this offered req/s too (wrk's delay(), "+
		"as -fixed), reporting server CPU per request; 0 skips it")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	var err error
	if v := strings.TrimSpace(*tlsScen); v != "" && v != "none" {
		if cfg.tls, err = list(v, allTLSScenarios); err != nil {
			return cfg, fmt.Errorf("-tls: %w", err)
		}
		if cfg.tlsPeers, err = list(*tlsPeers, allTLSPeers); err != nil {
			return cfg, fmt.Errorf("-tls-peers: %w", err)
		}
	}
	if cfg.tlsIdle < 0 || cfg.tlsFixed < 0 {
		return cfg, errors.New("-tls-idle and -tls-fixed must not be negative")
	}
	if cfg.peers, err = list(*peers, allPeers); err != nil {
		return cfg, fmt.Errorf("-peers: %w", err)
	}
	if cfg.scenarios, err = list(*scen, allScenarios); err != nil {
		return cfg, fmt.Errorf("-scenarios: %w", err)
	}
	for _, v := range cfg.variants {
		cfg.peers = append(cfg.peers, "uringnet:"+v.name)
	}
	if cfg.fixed, cfg.fixedKeys, err = parseFixed(*fixed); err != nil {
		return cfg, err
	}
	if cfg.rounds < 1 || cfg.conns < 1 || cfg.duration < time.Second || cfg.pipeline < 2 || cfg.loops < 1 || cfg.idle < 0 {
		return cfg, errors.New("-rounds, -conns, -loops must be positive, -duration at least 1s, -pipeline at least 2, -idle not negative")
	}
	return cfg, nil
}

// list splits a comma-separated list and checks every entry is known.
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
		out = append(out, v)
	}
	return out, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "httpbench: "+format+"\n", args...)
}

func run(ctx context.Context, cfg config) error {
	command := harness.CommandLine("httpbench", os.Args[1:])
	root, err := harness.RepoRoot(cfg.repo)
	if err != nil {
		return err
	}
	cfg.repo = root
	wrk, err := findWrk(cfg.install)
	if err != nil {
		return err
	}
	serverCPU, loadCPU := harness.PinLoadPair(progress)
	if _, err := harness.RaiseNoFile(max(16384, 2*uint64(max(cfg.idle, cfg.tlsIdle))+1024)); err != nil {
		progress("%v", err)
	}

	tmp, err := os.MkdirTemp("", "httpbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// nginx's workers run as nobody when started by root: let them read the files.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	scens, err := setupScenarios(tmp, cfg)
	if err != nil {
		return err
	}
	scripts := map[int]string{}
	for _, sc := range scens {
		if _, ok := scripts[sc.pipeline]; !ok {
			p := filepath.Join(tmp, fmt.Sprintf("wrk-%d.lua", sc.pipeline))
			if err := os.WriteFile(p, []byte(harness.WrkScript(sc.pipeline)), 0o644); err != nil {
				return err
			}
			scripts[sc.pipeline] = p
		}
	}

	built := map[string]error{}
	peers := setupPeers(ctx, cfg, cfg.peers, tmp, serverCPU, nil, built)
	var g harness.Group
	defer g.KillAll()
	for _, p := range peers {
		if p.why != "" {
			continue
		}
		proc, err := g.StartChecked(ctx, p.spec, p.backend, p.client)
		if err != nil {
			p.why = harness.FirstLine(err.Error())
			progress("%s: n/a: %v", p.name, err)
			continue
		}
		p.proc = proc
	}

	results := map[string]map[string][]sample{} // scenario -> peer -> samples
	failed := map[string]map[string]string{}    // scenario -> peer -> reason
	for _, sc := range scens {
		results[sc.key] = map[string][]sample{}
		failed[sc.key] = map[string]string{}
		for _, p := range peers {
			if p.proc == nil {
				continue
			}
			if err := check(ctx, p.proc.Addr, sc); err != nil {
				failed[sc.key][p.key] = harness.FirstLine(err.Error())
				progress("%s %s: wrong response, not benchmarked: %v", sc.name, p.name, err)
			}
		}
		for round := 1; round <= cfg.rounds; round++ {
			for _, p := range peers {
				if p.proc == nil || failed[sc.key][p.key] != "" {
					continue
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				sm, err := runOnce(ctx, cfg, p, sc, wrk, scripts[sc.pipeline], loadCPU)
				if err != nil {
					progress("%s round %d/%d %s: FAILED: %v", sc.name, round, cfg.rounds, p.name, err)
					if !p.proc.Alive() {
						failed[sc.key][p.key] = "server exited"
					}
					continue
				}
				progress("%s round %d/%d %s: %.0f req/s %.1f MB/s p99 %.2fms cpu %.2fus/req errors %d",
					sc.name, round, cfg.rounds, p.name, sm.perSec, sm.bytesPerSec/1e6, sm.p99ms, sm.cpuUsPerReq, sm.errors)
				results[sc.key][p.key] = append(results[sc.key][p.key], sm)
			}
		}
	}

	// The fixed-load mode: each scenario of -fixed that was run above, again at its offered rate.
	fixedRes := map[string]map[string][]sample{}
	var fixedScens []scenario
	for _, k := range cfg.fixedKeys {
		for _, sc := range scens {
			if sc.key == k {
				fixedScens = append(fixedScens, sc)
			}
		}
	}
	for _, sc := range fixedScens {
		rate := cfg.fixed[sc.key]
		script := filepath.Join(tmp, "wrk-fixed-"+sc.key+".lua")
		if err := os.WriteFile(script, []byte(harness.WrkScriptRate(sc.pipeline, cfg.conns, rate)), 0o644); err != nil {
			return err
		}
		fixedRes[sc.key] = map[string][]sample{}
		for round := 1; round <= cfg.rounds; round++ {
			for _, p := range peers {
				if p.proc == nil || failed[sc.key][p.key] != "" {
					continue
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				sm, err := runOnce(ctx, cfg, p, sc, wrk, script, loadCPU)
				if err != nil {
					progress("fixed %.0f/s %s round %d/%d %s: FAILED: %v", rate, sc.name, round, cfg.rounds, p.name, err)
					continue
				}
				progress("fixed %.0f/s %s round %d/%d %s: %.0f req/s cpu %.2fus/req (%.0f%%)",
					rate, sc.name, round, cfg.rounds, p.name, sm.perSec, sm.cpuUsPerReq, sm.cpuPct)
				fixedRes[sc.key][p.key] = append(fixedRes[sc.key][p.key], sm)
			}
		}
	}

	// The idle mode: fresh servers, RSS per idle keep-alive connection.
	var idle map[string]harness.IdleResult
	if cfg.idle > 0 && ctx.Err() == nil {
		idle = runIdle(ctx, &g, peers, cfg.idle, "/plaintext")
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
			for _, m := range []map[string]map[string][]sample{results, fixedRes} {
				for _, bySc := range m {
					delete(bySc, p.key)
				}
			}
			delete(idle, p.key)
		}
	}

	// The HTTPS mode (issue 11), once the plain servers are stopped.
	var tlsRes *tlsRun
	var tlsErr error
	if ctx.Err() == nil {
		if tlsRes, tlsErr = runTLS(ctx, cfg, &g, tmp, serverCPU, loadCPU, wrk, built); tlsErr != nil {
			progress("HTTPS: %v", tlsErr)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}

	epoll := hasPeer(peers, "epoll")
	var report strings.Builder
	report.WriteString(harness.Header("HTTP: uringnet vs net/http, fasthttp, nginx", command))
	fmt.Fprintf(&report, "wrk -t1 -c%d, %v per run, %d rounds alternated, medians. Servers on CPU %s "+
		"(GOMAXPROCS=1, uringnet -loops %d, nginx 1 worker with sendfile), wrk on CPU %s. "+
		"\"uringnet / peer\" is the ratio of requests per second (bytes per second for the 1 MiB file).",
		cfg.conns, cfg.duration, cfg.rounds, harness.OrAny(serverCPU), cfg.loops, harness.OrAny(loadCPU))
	report.WriteString(backendNote(peers))
	report.WriteString("\n\n")
	report.WriteString(table(scens, peers, results, failed).Markdown())
	if len(fixedScens) > 0 {
		report.WriteString("\n### Fixed load: server CPU per request\n\n")
		fmt.Fprintf(&report, "The same wrk connections, each waiting between a response and its next request so that the "+
			"offered load is a fixed rate (wrk's delay(), conns/rate on average) that saturates no server: CPU per request "+
			"(utime+stime from /proc, nginx's workers included) then compares the servers' costs rather than who wins a race "+
			"for a shared core; context switches per request (every thread's, from /proc) are a cost that a busy machine does not inflate. %v per run, %d rounds alternated, medians.\n\n", cfg.duration, cfg.rounds)
		report.WriteString(fixedTable(fixedScens, peers, cfg.fixed, fixedRes).Markdown())
	}
	if idle != nil {
		report.WriteString("\n### Idle keep-alive connections\n\n")
		fmt.Fprintf(&report, "A fresh server of each peer (pinned as above), %d connections that each make one "+
			"GET /plaintext and then stay open, idle; the server's RSS (VmRSS from /proc, nginx's workers included) "+
			"0.3 s after it started and %g s after the last connection got its response.\n\n", cfg.idle, harness.IdleSettle.Seconds())
		report.WriteString(idleTable(peers, cfg.idle, idle).Markdown())
	}
	if epoll {
		report.WriteString("\n### The epoll backend against issue 9's floors\n\n")
		report.WriteString("Read off the tables above: medians of this run's rounds, the epoll backend against the peers " +
			"in the same run. One run on a shared machine is noisy: a pass or a miss by a few percent is within the noise.\n\n")
		report.WriteString(floorsTable(issue9, scens, peers, results, idle, cfg.idle).Markdown())
	}
	if hasPeer(peers, "adapter") {
		report.WriteString("\n### The net/http adapter against issue 10's floors\n\n")
		report.WriteString("Read off the tables above: medians of this run's rounds, the net/http adapter (bench/nethttp's " +
			"ServeMux, handler for handler, served by stdhttp: example/stdhttpd) against the peers in the same run, net/http " +
			"serving the same ServeMux. The last rows price the adapter's handler goroutines, with no floor: its CPU per " +
			"request at a fixed offered rate against uringnet's native callbacks and net/http's. One run on a shared machine " +
			"is noisy: a pass or a miss by a few percent is within the noise.\n\n")
		t := floorsTable(issue10, scens, peers, results, idle, cfg.idle)
		handlerCostRows(t, fixedScens, peers, cfg.fixed, fixedRes)
		report.WriteString(t.Markdown())
	}
	var notes []string
	for _, p := range peers {
		if p.why != "" {
			notes = append(notes, fmt.Sprintf("- %s: n/a (%s)", p.name, p.why))
		}
	}
	for _, sc := range scens {
		for _, p := range peers {
			if why := failed[sc.key][p.key]; why != "" {
				notes = append(notes, fmt.Sprintf("- %s, %s: failed: %s", sc.name, p.name, why))
			}
		}
	}
	for _, p := range peers {
		if r, ok := idle[p.key]; ok && r.Err != nil {
			notes = append(notes, fmt.Sprintf("- idle keep-alive, %s: failed: %s", p.name, harness.FirstLine(r.Err.Error())))
		}
	}
	for _, p := range peers {
		if stats := final[p.key]; stats != "" {
			notes = append(notes, fmt.Sprintf("- %s final `%s`", p.name, stats))
		}
	}
	if len(notes) > 0 {
		report.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	switch {
	case tlsRes != nil:
		report.WriteString(tlsReport(cfg, tlsRes, serverCPU, loadCPU))
	case tlsErr != nil:
		fmt.Fprintf(&report, "\n### HTTPS: TLS 1.3\n\nNot run: %s\n", harness.FirstLine(tlsErr.Error()))
	}
	return harness.WriteReport(report.String(), cfg.out)
}

// findWrk returns the path of wrk, installing the Debian package when allowed.
func findWrk(install bool) (string, error) { return harness.FindTool("wrk", "wrk", install, progress) }

// setupScenarios writes the static files under tmp/www and returns the chosen scenarios.
func setupScenarios(tmp string, cfg config) ([]scenario, error) {
	www := filepath.Join(tmp, "www")
	if err := os.Mkdir(www, 0o755); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	file := func(name string, size int) ([]byte, error) {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b, os.WriteFile(filepath.Join(www, name), b, 0o644)
	}
	f4k, err := file("4k.bin", 4<<10)
	if err != nil {
		return nil, err
	}
	f64k, err := file("64k.bin", 64<<10)
	if err != nil {
		return nil, err
	}
	f1m, err := file("1m.bin", 1<<20)
	if err != nil {
		return nil, err
	}
	all := map[string]scenario{
		"plaintext": {key: "plaintext", name: "plaintext keep-alive", path: "/plaintext", pipeline: 1, body: []byte(plaintext)},
		"pipelined": {key: "pipelined", name: fmt.Sprintf("plaintext pipelined x%d", cfg.pipeline), path: "/plaintext",
			pipeline: cfg.pipeline, body: []byte(plaintext)},
		"static4k":  {key: "static4k", name: "static 4 KiB", path: "/4k.bin", pipeline: 1, body: f4k},
		"static64k": {key: "static64k", name: "static 64 KiB", path: "/64k.bin", pipeline: 1, body: f64k},
		"static1m":  {key: "static1m", name: "static 1 MiB", path: "/1m.bin", pipeline: 1, body: f1m},
	}
	var out []scenario
	for _, k := range cfg.scenarios {
		out = append(out, all[k])
	}
	return out, nil
}

// setupPeers builds the Go peers of keys and writes nginx's configuration. A peer that
// cannot be set up keeps a reason in why. With cert, every peer serves HTTPS with it (Go
// peers get -tls-cert and -tls-key, nginx an ssl listener) and gets its client
// configuration. built maps a binary to its build error, so that each is built once for
// all its peers and calls.
func setupPeers(ctx context.Context, cfg config, keys []string, tmp, cpu string, cert *harness.TLSCert, built map[string]error) []*peer {
	www := filepath.Join(tmp, "www")
	bench := filepath.Join(cfg.repo, "bench")
	var peers []*peer
	var tlsArgs []string
	if cert != nil {
		tlsArgs = []string{"-tls-cert", cert.CertFile, "-tls-key", cert.KeyFile}
	}
	for _, key := range keys {
		p := &peer{key: key}
		if cert != nil {
			p.client = harness.ClientTLS(cert.Pool)
		}
		goPeer := func(dir, pkg, bin string, env []string, extra ...string) {
			extra = append(extra, tlsArgs...)
			specAt, err := harness.GoServer(ctx, built, dir, pkg, filepath.Join(tmp, bin), cpu, www, env, extra)
			if err != nil {
				p.why = harness.FirstLine(err.Error())
				return
			}
			p.specAt = specAt
		}
		switch {
		case key == "uringnet" || key == "epoll" || strings.HasPrefix(key, "uringnet:"):
			var env []string
			p.name, env = demoPeer(key, cfg.variants)
			p.backend = backendOf(env)
			if _, err := os.Stat(filepath.Join(cfg.repo, "example")); err != nil {
				p.why = "example/ (the demo server) is not in the repository yet"
				break
			}
			goPeer(cfg.repo, "./example", "uringnet-demo", env, "-loops", strconv.Itoa(cfg.loops), "-access-log=false")
		case key == "adapter":
			// The same ServeMux as bench/nethttp, served by the adapter on io_uring.
			p.name = adapterName
			env := []string{harness.BackendEnv + "=uring"}
			p.backend = backendOf(env)
			if _, err := os.Stat(filepath.Join(cfg.repo, "example", "stdhttpd")); err != nil {
				p.why = "example/stdhttpd (the net/http adapter's server) is not in the repository yet"
				break
			}
			goPeer(cfg.repo, "./example/stdhttpd", "uringnet-stdhttpd", env, "-loops", strconv.Itoa(cfg.loops))
		case key == "nethttp":
			p.name = "net/http"
			goPeer(bench, "./nethttp", "nethttp", nil)
		case key == "fasthttp":
			p.name = "fasthttp"
			goPeer(bench, "./fasthttpd", "fasthttpd", nil)
		case key == "nginx":
			p.name = "nginx"
			p.tree = true
			nginx, err := harness.LookNginx()
			if err != nil {
				p.why = err.Error()
				break
			}
			name := "nginx"
			if cert != nil {
				name = "nginx-tls"
			}
			p.specAt = harness.NginxServer(nginx, tmp, name, cpu, func(dir, addr string) string {
				if cert != nil {
					return harness.NginxConfigTLS(dir, addr, www, cert.CertFile, cert.KeyFile)
				}
				return harness.NginxConfig(dir, addr, www)
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

// check fetches the scenario's path once and compares status and body.
func check(ctx context.Context, addr string, sc scenario) error {
	_, err := checkTLS(ctx, addr, sc, nil)
	return err
}

// checkTLS is check over HTTPS with tlsc (plain HTTP when nil); it returns what the
// handshake negotiated (harness.TLSDescription), "" for plain HTTP.
func checkTLS(ctx context.Context, addr string, sc scenario, tlsc *tls.Config) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", harness.BaseURL(addr, tlsc)+sc.path, nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true, TLSClientConfig: tlsc}}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var negotiated string
	if resp.TLS != nil {
		negotiated = harness.TLSDescription(*resp.TLS)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(sc.body))+1024))
	if err != nil {
		return negotiated, fmt.Errorf("GET %s: body: %w", sc.path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return negotiated, fmt.Errorf("GET %s: status %s", sc.path, resp.Status)
	}
	if !bytes.Equal(body, sc.body) {
		return negotiated, fmt.Errorf("GET %s: body of %d bytes differs from the expected %d", sc.path, len(body), len(sc.body))
	}
	return negotiated, nil
}

// runOnce runs wrk once against p and measures the server's CPU time meanwhile.
func runOnce(ctx context.Context, cfg config, p *peer, sc scenario, wrk, script, loadCPU string) (sample, error) {
	out, use, err := p.proc.MeasureLoad(ctx, p.tree, harness.Spec{
		Name: "wrk",
		Path: wrk,
		Args: harness.WrkArgs(cfg.conns, cfg.duration, script, harness.BaseURL(p.proc.Addr, p.client)+sc.path),
		CPU:  loadCPU,
	}, cfg.duration+30*time.Second)
	if err != nil {
		return sample{}, err
	}
	r, err := harness.ParseWrk(out)
	if err != nil {
		return sample{}, err
	}
	if r.StatusErrors > 0 {
		return sample{}, fmt.Errorf("%d responses with a non-2xx/3xx status", r.StatusErrors)
	}
	if r.Requests == 0 {
		return sample{}, errors.New("no request completed")
	}
	return sample{
		perSec:      r.PerSec(),
		bytesPerSec: r.BytesPerSec(),
		p50ms:       latencyMs(r.P50),
		p99ms:       latencyMs(r.P99),
		cpuUsPerReq: use.CPUUsPer(float64(r.Requests)),
		cpuPct:      use.CPUPct(r.Duration),
		csPerReq:    use.CtxSwitchesPer(float64(r.Requests)),
		rssMiB:      use.RSSMiB(),
		errors:      r.Errors,
	}, nil
}

// latencyMs returns a wrk latency percentile in milliseconds, or NaN (n/a in the tables)
// for 0. No response takes 0 µs: wrk says 0 when its coordinated-omission correction
// (stats_correct) has put counts below the histogram's recorded minimum, where its
// stats_percentile, which starts at that minimum, never reaches the rank (seen in pipelined
// runs, whose expected interval between responses is short).
func latencyMs(d time.Duration) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return float64(d) / float64(time.Millisecond)
}

func median(ss []sample, f func(sample) float64) float64 { return harness.MedianOf(ss, f) }

// rateOf returns the median throughput of ss in the scenario's unit: bytes per second for
// the 1 MiB file, requests per second otherwise.
func rateOf(sc scenario, ss []sample) float64 {
	if sc.key == "static1m" {
		return median(ss, func(s sample) float64 { return s.bytesPerSec })
	}
	return median(ss, func(s sample) float64 { return s.perSec })
}

func cpuOf(ss []sample) float64 { return median(ss, func(s sample) float64 { return s.cpuUsPerReq }) }

// hasPeer reports whether peers holds the peer key.
func hasPeer(peers []*peer, key string) bool {
	return slices.ContainsFunc(peers, func(p *peer) bool { return p.key == key })
}

// ratios returns the cells "base / peer" for throughput and CPU per request of peer p's
// samples ss against base's samples bs, or dashes on base's own row.
func ratios(sc scenario, base string, bs []sample, p *peer, ss []sample) (rate, cpu string) {
	if p.key == base {
		return "—", "—"
	}
	return harness.Ratio(rateOf(sc, bs), rateOf(sc, ss)), harness.Ratio(cpuOf(bs), cpuOf(ss))
}

// table is the saturated runs' table. With the epoll or the adapter peer (see subjects),
// two more columns each compare it with every other server.
func table(scens []scenario, peers []*peer, results map[string]map[string][]sample, failed map[string]map[string]string) *harness.Table {
	t := &harness.Table{Labels: 2, Header: []string{"scenario", "server", "req/s", "MB/s", "p50 ms", "p99 ms",
		"CPU µs/req", "RSS MiB", "socket errors", "uringnet / peer", "CPU/req uringnet / peer"}}
	subj := subjectsIn(peers)
	for _, s := range subj {
		t.Header = append(t.Header, s.label+" / peer", "CPU/req "+s.label+" / peer")
	}
	for _, sc := range scens {
		for _, p := range peers {
			ss := results[sc.key][p.key]
			name := p.name
			if failed[sc.key][p.key] != "" {
				name += " (failed, see below)"
			}
			errs := harness.NA
			if len(ss) > 0 {
				errs = harness.Num(median(ss, func(s sample) float64 { return float64(s.errors) }), 0)
			}
			vs, vsCPU := ratios(sc, "uringnet", results[sc.key]["uringnet"], p, ss)
			row := []string{sc.name, name,
				harness.Num(median(ss, func(s sample) float64 { return s.perSec }), 0),
				harness.Num(median(ss, func(s sample) float64 { return s.bytesPerSec / 1e6 }), 1),
				harness.Num(median(ss, func(s sample) float64 { return s.p50ms }), 2),
				harness.Num(median(ss, func(s sample) float64 { return s.p99ms }), 2),
				harness.Num(cpuOf(ss), 2),
				harness.Num(median(ss, func(s sample) float64 { return s.rssMiB }), 1),
				errs, vs, vsCPU}
			for _, s := range subj {
				svs, svsCPU := ratios(sc, s.key, results[sc.key][s.key], p, ss)
				row = append(row, svs, svsCPU)
			}
			t.AddRow(row...)
		}
	}
	return t
}

// fixedTable is the fixed-load mode's table. With the epoll or the adapter peer (see
// subjects), one more column each compares its CPU per request with every other server's.
func fixedTable(scens []scenario, peers []*peer, rates map[string]float64, results map[string]map[string][]sample) *harness.Table {
	t := &harness.Table{Labels: 2, Header: []string{"scenario", "server", "offered req/s", "req/s", "p50 ms", "p99 ms",
		"server CPU %", "CPU µs/req", "ctx switches/req", "CPU/req uringnet / peer"}}
	subj := subjectsIn(peers)
	for _, s := range subj {
		t.Header = append(t.Header, "CPU/req "+s.label+" / peer")
	}
	for _, sc := range scens {
		for _, p := range peers {
			ss := results[sc.key][p.key]
			_, vs := ratios(sc, "uringnet", results[sc.key]["uringnet"], p, ss)
			row := []string{sc.name, p.name,
				harness.Num(rates[sc.key], 0),
				harness.Num(median(ss, func(s sample) float64 { return s.perSec }), 0),
				harness.Num(median(ss, func(s sample) float64 { return s.p50ms }), 2),
				harness.Num(median(ss, func(s sample) float64 { return s.p99ms }), 2),
				harness.Num(median(ss, func(s sample) float64 { return s.cpuPct }), 0),
				harness.Num(cpuOf(ss), 2),
				harness.Num(median(ss, func(s sample) float64 { return s.csPerReq }), 2),
				vs}
			for _, s := range subj {
				_, svs := ratios(sc, s.key, results[sc.key][s.key], p, ss)
				row = append(row, svs)
			}
			t.AddRow(row...)
		}
	}
	return t
}
