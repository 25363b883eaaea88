package main

import (
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

// helloBody is what every setup answers.
const helloBody = "Hello, World!\n"

// helloScript is the CGI script of the cgi and fcgiwrap scenarios.
const helloScript = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nHello, World!\\n'\n"

// config holds the command-line settings.
type config struct {
	repo      string
	out       string
	duration  time.Duration
	rounds    int
	conns     int
	scenarios []string
	children  int
	demoFlags string
	// demoRepo is the tree whose example/ is built as the demo ("" is repo).
	demoRepo string
}

// scenario is one comparison: the demo against nginx.
type scenario struct {
	key   string
	title string
	path  string // the URL path
	// floor: the floor is uringnet req/s ≥ nginx's.
	floor bool
	// demoFlags are the demo flags the scenario needs.
	demoFlags []string
	// backend is the FastCGI application: "fcgiwrap" or "fcgiapp".
	backend string
}

var scenarios = []scenario{
	{key: "cgi", title: "CGI hello world (sh script)", path: "/cgi-bin/hello", floor: true,
		demoFlags: []string{"-cgi-dir", "-cgi-timeout"}, backend: "fcgiwrap"},
	{key: "fcgiwrap", title: "FastCGI hello world through fcgiwrap (sh script)", path: "/hello.cgi", floor: true,
		demoFlags: []string{"-fastcgi", "-fastcgi-pattern"}, backend: "fcgiwrap"},
	{key: "goapp", title: "FastCGI hello world, Go net/http/fcgi application", path: "/hello.cgi",
		demoFlags: []string{"-fastcgi", "-fastcgi-pattern"}, backend: "fcgiapp"},
}

func lookupScenario(key string) (scenario, bool) {
	for _, s := range scenarios {
		if s.key == key {
			return s, true
		}
	}
	return scenario{}, false
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cgibench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cgibench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("cgibench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&cfg.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.StringVar(&cfg.out, "o", "", "also write the markdown report to this file")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each wrk run (whole seconds)")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds, the setups alternated in each")
	fs.IntVar(&cfg.conns, "conns", 32, "wrk connections (wrk -t1)")
	var keys []string
	for _, s := range scenarios {
		keys = append(keys, s.key)
	}
	sc := fs.String("scenarios", strings.Join(keys, ","), "scenarios to run")
	fs.IntVar(&cfg.children, "fcgiwrap-children", 1, "fcgiwrap's preforked processes (-c), the same for both setups")
	fs.StringVar(&cfg.demoFlags, "demo-flags", "", "more `flags` for the demo, space-separated")
	fs.StringVar(&cfg.demoRepo, "demo-repo", "", "build the demo from this `directory`'s example/ (another checkout, such as a feature branch's; default: -repo)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for k := range strings.SplitSeq(*sc, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if _, ok := lookupScenario(k); !ok {
			return cfg, fmt.Errorf("-scenarios: unknown %q (want some of %s)", k, strings.Join(keys, ","))
		}
		cfg.scenarios = append(cfg.scenarios, k)
	}
	if len(cfg.scenarios) == 0 || cfg.rounds < 1 || cfg.conns < 1 || cfg.duration < time.Second || cfg.children < 1 {
		return cfg, errors.New("need -scenarios, -rounds, -conns and -fcgiwrap-children ≥ 1, -duration ≥ 1s")
	}
	return cfg, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cgibench: "+format+"\n", args...)
}

// tools are the programs the benchmark runs, "" where missing (with the reason in why).
type tools struct {
	wrk, nginx, fcgiwrap, demo, fcgiapp string
	// demoHelp is the demo's -h output, to see which flags it has.
	demoHelp string
	why      map[string]string
}

// demoHas reports whether the demo has every flag of flags ("" when it has, else the reason).
func (t *tools) demoLacks(flags []string) string {
	if t.demo == "" {
		return t.why["demo"]
	}
	var missing []string
	for _, f := range flags {
		if !hasFlag(t.demoHelp, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return "the demo has no " + strings.Join(missing, ", ") + " flag (issue 14's feature not in this tree)"
	}
	return ""
}

// hasFlag reports whether a Go flag package usage text lists flag name (such as "-cgi-dir").
func hasFlag(help, name string) bool {
	for line := range strings.Lines(help) {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

// lookTool finds a program on PATH or in /usr/sbin (not on a normal user's PATH).
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if p := "/usr/sbin/" + name; isExec(p) {
		return p, nil
	}
	pkg := name
	if name == "nginx" {
		pkg = "nginx-light"
	}
	return "", fmt.Errorf("%s not installed (apt-get install %s)", name, pkg)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// findTools looks up wrk, nginx and fcgiwrap and builds the demo (from demoRepo's example/)
// and fcgiapp (from repo's bench/) into tmp.
func findTools(ctx context.Context, repo, demoRepo, tmp string) *tools {
	t := &tools{why: map[string]string{}}
	var err error
	if t.wrk, err = lookTool("wrk"); err != nil {
		t.why["wrk"] = err.Error()
	}
	if t.nginx, err = lookTool("nginx"); err != nil {
		t.why["nginx"] = err.Error()
	}
	if t.fcgiwrap, err = lookTool("fcgiwrap"); err != nil {
		t.why["fcgiwrap"] = err.Error()
	}
	demo := filepath.Join(tmp, "uringnet-demo")
	if err := harness.GoBuild(ctx, demoRepo, "./example", demo); err != nil {
		t.why["demo"] = firstLine(err.Error())
	} else {
		t.demo = demo
		// The flag package prints the usage on -h to stderr and exits 0 (or 2).
		out, _ := exec.CommandContext(ctx, demo, "-h").CombinedOutput()
		t.demoHelp = string(out)
	}
	app := filepath.Join(tmp, "fcgiapp")
	if err := harness.GoBuild(ctx, filepath.Join(repo, "bench"), "./cmd/fcgiapp", app); err != nil {
		t.why["fcgiapp"] = firstLine(err.Error())
	} else {
		t.fcgiapp = app
	}
	return t
}

// sample is what one wrk run measured.
type sample struct {
	perSec       float64
	okPerSec     float64 // responses with a 2xx/3xx status per second
	p50, p99     time.Duration
	errors       int64 // socket errors
	statusErrors int64 // non-2xx/3xx responses
	requests     int64
	cpuMsPerReq  float64
	round        int // from 1
}

// side is one setup of a scenario: "uringnet" or "nginx".
type side struct {
	name  string
	why   string // n/a reason
	url   string
	procs []*harness.Proc // every server-side process started
	runs  []sample
	errs  []error // failed runs
}

// result is one scenario's outcome.
type result struct {
	sc    scenario
	sides [2]*side // uringnet, nginx
}

func run(ctx context.Context, cfg config, args []string) error {
	command := harness.CommandLine("cgibench", args)
	root, err := harness.RepoRoot(cfg.repo)
	if err != nil {
		return err
	}
	cfg.repo = root
	if _, err := harness.RaiseNoFile(uint64(cfg.conns)*8 + 1024); err != nil {
		progress("%v", err)
	}
	serverCPU, err0 := harness.PinCPU(0)
	loadCPU, err1 := harness.PinCPU(1)
	pinning := "Every server-side process on CPU 0 (`taskset -c 0`: the demo with GOMAXPROCS=1 and -loops 1, " +
		"and the CGI processes it forks; nginx's master and its one worker; fcgiwrap and the scripts it forks; " +
		"fcgiapp with GOMAXPROCS=1), wrk on CPU 1"
	if err0 != nil || err1 != nil {
		progress("running unpinned: %v", errors.Join(err0, err1))
		serverCPU, loadCPU, pinning = "", "", "Unpinned ("+errors.Join(err0, err1).Error()+")"
	}
	tmp, err := os.MkdirTemp("", "cgibench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// nginx's workers run as nobody when started by root: let them reach the sockets.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	progress("building the demo and fcgiapp")
	if cfg.demoRepo == "" {
		cfg.demoRepo = cfg.repo
	}
	t := findTools(ctx, cfg.repo, cfg.demoRepo, tmp)
	if t.wrk == "" {
		return errors.New(t.why["wrk"])
	}
	files, err := writeFiles(tmp)
	if err != nil {
		return err
	}
	var results []*result
	var errs []error
	for _, key := range cfg.scenarios {
		sc, _ := lookupScenario(key)
		progress("%s: %s", sc.key, sc.title)
		r, err := runScenario(ctx, cfg, t, files, sc, tmp, serverCPU, loadCPU)
		results = append(results, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sc.key, err))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	report := harness.Header("CGI and FastCGI (issue 14)", command) + render(cfg, pinning, results)
	if err := harness.WriteReport(report, cfg.out); err != nil {
		return err
	}
	for _, r := range results {
		for _, s := range r.sides {
			for _, e := range s.errs {
				errs = append(errs, fmt.Errorf("%s, %s: %w", r.sc.key, s.name, e))
			}
		}
	}
	return errors.Join(errs...)
}

// benchFiles are the files the setups serve.
type benchFiles struct {
	cgiDir string // holds the script "hello"
	root   string // the document root, holds "hello.cgi"
}

func writeFiles(tmp string) (benchFiles, error) {
	f := benchFiles{cgiDir: filepath.Join(tmp, "cgi-bin"), root: filepath.Join(tmp, "www")}
	for _, p := range []string{filepath.Join(f.cgiDir, "hello"), filepath.Join(f.root, "hello.cgi")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return f, err
		}
		if err := os.WriteFile(p, []byte(helloScript), 0o755); err != nil {
			return f, err
		}
	}
	return f, nil
}

// runScenario starts both setups of sc, checks them, and runs the alternated rounds.
func runScenario(ctx context.Context, cfg config, t *tools, files benchFiles, sc scenario, tmp, serverCPU, loadCPU string) (*result, error) {
	r := &result{sc: sc, sides: [2]*side{{name: "uringnet"}, {name: "nginx"}}}
	var g harness.Group
	defer g.KillAll()
	dir := filepath.Join(tmp, sc.key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	for _, s := range r.sides {
		if err := startSide(ctx, cfg, t, files, sc, s, &g, dir, serverCPU); err != nil {
			s.why = firstLine(err.Error())
			progress("%s, %s: n/a: %v", sc.key, s.name, err)
			continue
		}
		if err := check(ctx, s.url); err != nil {
			s.why = err.Error()
			progress("%s, %s: n/a: %v", sc.key, s.name, err)
		}
	}
	script := filepath.Join(dir, "wrk.lua")
	if err := os.WriteFile(script, []byte(harness.WrkScript(1)), 0o644); err != nil {
		return r, err
	}
	for i := range cfg.rounds {
		for _, s := range r.sides {
			if s.why != "" {
				continue
			}
			sm, err := runOnce(ctx, cfg, t.wrk, script, serverCPU, loadCPU, s)
			if err != nil {
				progress("%s, round %d, %s: %v", sc.key, i+1, s.name, err)
				s.errs = append(s.errs, fmt.Errorf("round %d: %w", i+1, err))
				if ctx.Err() != nil {
					return r, ctx.Err()
				}
				continue
			}
			progress("%s, round %d, %s: %.0f req/s, p99 %v, %d socket errors, %d non-2xx, %.3f CPU 0 ms/req", sc.key, i+1, s.name,
				sm.perSec, sm.p99, sm.errors, sm.statusErrors, sm.cpuMsPerReq)
			sm.round = i + 1
			s.runs = append(s.runs, sm)
		}
	}
	return r, nil
}

// startSide starts the processes of one setup, each in g, and sets s.url and s.procs.
func startSide(ctx context.Context, cfg config, t *tools, files benchFiles, sc scenario, s *side, g *harness.Group, dir, cpu string) error {
	if s.name == "uringnet" {
		if why := t.demoLacks(sc.demoFlags); why != "" {
			return errors.New(why)
		}
	} else if t.nginx == "" {
		return errors.New(t.why["nginx"])
	}
	// The FastCGI application, one of each setup's own (none for the demo's own CGI).
	var sock string
	backend := sc.backend
	if s.name == "uringnet" && sc.key == "cgi" {
		backend = ""
	}
	switch backend {
	case "fcgiwrap":
		if t.fcgiwrap == "" {
			return errors.New(t.why["fcgiwrap"])
		}
		sock = filepath.Join(dir, s.name+"-fcgiwrap.sock")
		p, err := g.Start(ctx, harness.Spec{Name: s.name + "'s fcgiwrap", Path: t.fcgiwrap, CPU: cpu,
			Args: []string{"-c", strconv.Itoa(cfg.children), "-s", "unix:" + sock}, ReadyUnix: sock})
		if err != nil {
			return err
		}
		s.procs = append(s.procs, p)
		// fcgiwrap runs as root here; nginx's worker (nobody) must be able to connect.
		if err := os.Chmod(sock, 0o666); err != nil {
			return err
		}
	case "fcgiapp":
		if t.fcgiapp == "" {
			return errors.New(t.why["fcgiapp"])
		}
		sock = filepath.Join(dir, s.name+"-fcgiapp.sock")
		p, err := g.Start(ctx, harness.Spec{Name: s.name + "'s fcgiapp", Path: t.fcgiapp, CPU: cpu,
			Env: []string{"GOMAXPROCS=1"}, Args: []string{"-listen", "unix:" + sock}})
		if err != nil {
			return err
		}
		s.procs = append(s.procs, p)
	}
	var spec harness.Spec
	if s.name == "uringnet" {
		args := []string{"-addr", "127.0.0.1:0", "-loops", "1", "-access-log=false"}
		if sc.key == "cgi" {
			args = append(args, "-cgi-dir", files.cgiDir, "-cgi-timeout", "30s")
		} else {
			args = append(args, "-root", files.root, "-fastcgi", "unix:"+sock, "-fastcgi-pattern", ".cgi")
		}
		args = append(args, strings.Fields(cfg.demoFlags)...)
		spec = harness.Spec{Name: "uringnet", Path: t.demo, CPU: cpu, Args: args,
			Env: []string{"GOMAXPROCS=1", "URINGNET_BACKEND=uring"}}
	} else {
		addr, err := harness.FreePort()
		if err != nil {
			return err
		}
		ndir := filepath.Join(dir, "nginx")
		if err := os.MkdirAll(ndir, 0o755); err != nil {
			return err
		}
		conf := filepath.Join(ndir, "nginx.conf")
		c := nginxConfig(ndir, addr, files.root, files.cgiDir, sock, sc.backend == "fcgiapp")
		if err := os.WriteFile(conf, []byte(c), 0o644); err != nil {
			return err
		}
		spec = harness.Spec{Name: "nginx", Path: t.nginx, Args: harness.NginxArgs(ndir, conf), CPU: cpu, ReadyDial: addr}
	}
	p, err := g.Start(ctx, spec)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	s.url = "http://" + p.Addr + sc.path
	return nil
}

// check fetches url once and wants 200 and helloBody.
func check(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("check GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("check GET %s: %w", url, err)
	}
	if resp.StatusCode != 200 || string(b) != helloBody {
		return fmt.Errorf("check GET %s: %s %q, want 200 %q", url, resp.Status, truncate(string(b), 200), helloBody)
	}
	return nil
}

// runOnce runs wrk once against s and measures the server CPU's busy time meanwhile (when
// the servers are pinned to serverCPU; NaN otherwise).
func runOnce(ctx context.Context, cfg config, wrk, script, serverCPU, loadCPU string, s *side) (sample, error) {
	for _, p := range s.procs {
		if !p.Alive() {
			return sample{}, fmt.Errorf("%s exited:\n%s", p.Name, p.Tail())
		}
	}
	var busy0, busy1 time.Duration
	var err0, err1 error
	if serverCPU != "" {
		busy0, err0 = readCPUBusy(serverCPU)
	}
	out, err := harness.Run(ctx, harness.Spec{Name: "wrk", Path: wrk,
		Args: harness.WrkArgs(cfg.conns, cfg.duration, script, s.url), CPU: loadCPU}, cfg.duration+30*time.Second)
	if err != nil {
		return sample{}, err
	}
	if serverCPU != "" {
		busy1, err1 = readCPUBusy(serverCPU)
	}
	w, err := harness.ParseWrk(out)
	if err != nil {
		return sample{}, err
	}
	if w.Requests == 0 {
		return sample{}, errors.New("no request completed")
	}
	sm := sample{perSec: w.PerSec(), okPerSec: float64(w.Requests-w.StatusErrors) / w.Duration.Seconds(), p50: w.P50, p99: w.P99, errors: w.Errors, statusErrors: w.StatusErrors,
		requests: w.Requests, cpuMsPerReq: math.NaN()}
	if serverCPU != "" && err0 == nil && err1 == nil {
		sm.cpuMsPerReq = (busy1 - busy0).Seconds() * 1000 / float64(w.Requests)
	}
	return sm, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
