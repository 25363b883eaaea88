package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uringnet/uringnet/bench/internal/harness"
	"github.com/uringnet/uringnet/bench/internal/reqlog"
)

// config holds the command-line settings.
type config struct {
	repo     string
	out      string
	rounds   int
	duration time.Duration
	upgrades []time.Duration
	rate     float64
	conns    int
	baseline time.Duration
	settle   time.Duration
	warmup   time.Duration
	poll     time.Duration
	keep     string
	// demoFlags are more flags for the demo, space-separated.
	demoFlags string
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "upgradebench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "upgradebench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("upgradebench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&cfg.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.StringVar(&cfg.out, "o", "", "also write the markdown report to this file")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds, each with a fresh demo")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "load per round")
	ups := fs.String("upgrades", "4s,8s,12s,16s", "when to send SIGHUP, from the start of the load, comma-separated")
	fs.Float64Var(&cfg.rate, "rate", 20000, "offered requests per second over all connections")
	fs.IntVar(&cfg.conns, "conns", 64, "keep-alive connections, one request at a time each")
	fs.DurationVar(&cfg.baseline, "baseline", 1500*time.Millisecond, "the window before each SIGHUP whose requests are \"without an upgrade\"")
	fs.DurationVar(&cfg.settle, "settle", 500*time.Millisecond, "time after an old process's exit left out of the next baseline")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "start of the load left out of every window")
	fs.DurationVar(&cfg.poll, "poll", 2*time.Millisecond, "how often /healthz is asked after a SIGHUP")
	fs.StringVar(&cfg.demoFlags, "demo-flags", "", "more `flags` for the demo, space-separated (e.g. \"-drain-spread 0\")")
	fs.StringVar(&cfg.keep, "keep", "", "keep each round's records, upgrade times and demo log in this `directory` (for a closer look)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for s := range strings.SplitSeq(*ups, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d >= cfg.duration {
			return cfg, fmt.Errorf("-upgrades: %q is not a duration within -duration", s)
		}
		if n := len(cfg.upgrades); n > 0 && d <= cfg.upgrades[n-1] {
			return cfg, errors.New("-upgrades must increase")
		}
		cfg.upgrades = append(cfg.upgrades, d)
	}
	if len(cfg.upgrades) == 0 || cfg.rounds < 1 || cfg.rate <= 0 || cfg.conns < 1 || cfg.baseline <= 0 ||
		cfg.settle < 0 || cfg.warmup < 0 || cfg.poll <= 0 {
		return cfg, errors.New("need -upgrades, and -rounds, -rate, -conns, -baseline and -poll > 0")
	}
	return cfg, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "upgradebench: "+format+"\n", args...)
}

// round is what one round measured.
type round struct {
	events []event
	sum    *reqlog.Summary
	a      analysis
	// pressure is the share of the load's time in which some task of the machine waited for
	// a CPU (/proc/pressure/cpu "some"), NaN where the kernel does not say.
	pressure float64
	err      error
}

func run(ctx context.Context, cfg config, args []string) error {
	command := harness.CommandLine("upgradebench", args)
	root, err := harness.RepoRoot(cfg.repo)
	if err != nil {
		return err
	}
	cfg.repo = root
	if _, err := harness.RaiseNoFile(uint64(cfg.conns)*4 + 1024); err != nil {
		progress("%v", err)
	}
	// The successors' parent exits: make them this process's children, to reap them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	serverCPU, err0 := harness.PinCPU(0)
	loadCPU, err1 := harness.PinCPU(1)
	pinning := "demo and its successors on CPU 0 (`taskset -c 0`), upgradeload on CPU 1"
	if err0 != nil || err1 != nil {
		progress("running unpinned: %v", errors.Join(err0, err1))
		serverCPU, loadCPU, pinning = "", "", "unpinned ("+errors.Join(err0, err1).Error()+")"
	}
	tmp, err := os.MkdirTemp("", "upgradebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	progress("building")
	demo, load := filepath.Join(tmp, "demo"), filepath.Join(tmp, "upgradeload")
	if err := harness.GoBuild(ctx, cfg.repo, "./example", demo); err != nil {
		return err
	}
	if err := harness.GoBuild(ctx, filepath.Join(cfg.repo, "bench"), "./upgradeload", load); err != nil {
		return err
	}
	var rounds []round
	for i := range cfg.rounds {
		progress("round %d of %d: %v of load at %.0f req/s, SIGHUP at %v", i+1, cfg.rounds, cfg.duration, cfg.rate, cfg.upgrades)
		dir := filepath.Join(tmp, fmt.Sprintf("round%d", i+1))
		r := runRound(ctx, cfg, demo, load, serverCPU, loadCPU, dir)
		if cfg.keep != "" {
			if err := keep(cfg.keep, dir, i+1, r); err != nil {
				progress("-keep: %v", err)
			}
		}
		if r.err != nil {
			progress("round %d: %v", i+1, r.err)
		} else {
			progress("round %d: p99 without %v, during %v (%.2fx), %d failed, SIGHUP→serving %v", i+1,
				r.a.without.p99, r.a.during.p99, r.a.ratio(), r.a.failed, toServe(r.events))
		}
		rounds = append(rounds, r)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	report := harness.Header("Upgrade under load (issue 13)", command) + render(cfg, pinning, kernel(), rounds)
	if err := harness.WriteReport(report, cfg.out); err != nil {
		return err
	}
	var errs []error
	for i, r := range rounds {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("round %d: %w", i+1, r.err))
		} else if r.a.failed > 0 {
			errs = append(errs, fmt.Errorf("round %d: %d requests FAILED (first: %s)", i+1, r.a.failed, r.a.firstFailure))
		}
	}
	return errors.Join(errs...)
}

// keep copies round n's files from dir into the directory out: roundN.records (package
// reqlog's format), roundN.json (the upgrades' times, Unix nanoseconds, and the load's
// summary) and roundN.log (the demo processes' stderr).
func keep(out, dir string, n int, r round) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	type upgradeTimes struct {
		Hup, Served, Exited int64
		ReadyAfterNs        int64
	}
	times := []upgradeTimes{}
	for _, e := range r.events {
		times = append(times, upgradeTimes{e.hup, e.served, e.exited, int64(e.after)})
	}
	b, err := json.MarshalIndent(struct {
		Upgrades []upgradeTimes
		Load     *reqlog.Summary
	}{times, r.sum}, "", "  ")
	if err != nil {
		return err
	}
	name := filepath.Join(out, fmt.Sprintf("round%d", n))
	if err := os.WriteFile(name+".json", b, 0o644); err != nil {
		return err
	}
	for from, to := range map[string]string{"records": ".records", "demo.log": ".log"} {
		b, err := os.ReadFile(filepath.Join(dir, from))
		if err != nil {
			return err
		}
		if err := os.WriteFile(name+to, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// toServe lists the SIGHUP to serving times of evs.
func toServe(evs []event) []time.Duration {
	var ds []time.Duration
	for _, e := range evs {
		ds = append(ds, e.toServe().Round(100*time.Microsecond))
	}
	return ds
}

// kernel returns uname -r.
func kernel() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// demoProcs is a demo and its successors: one process group, stdout on a pipe that this
// process reads ("listening on" lines), stderr in a file.
type demoProcs struct {
	pgid    int
	serving int
	addr    string
	stderr  string
	lines   chan string
}

// startDemo starts the demo in dir and waits until it serves.
func startDemo(ctx context.Context, bin, cpu, dir, extra string) (*demoProcs, error) {
	argv := []string{bin, "-addr", "127.0.0.1:0", "-loops", "1", "-access-log=false", "-log-level", "info",
		"-big-file", "1024", "-ws-grace", "200ms", "-drain-timeout", "10s", "-upgrade-timeout", "10s"}
	argv = append(argv, strings.Fields(extra)...)
	if cpu != "" {
		argv = append([]string{"taskset", "-c", cpu}, argv...)
	}
	d := &demoProcs{stderr: filepath.Join(dir, "demo.log"), lines: make(chan string, 64)}
	errf, err := os.Create(d.stderr)
	if err != nil {
		return nil, err
	}
	defer errf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "URINGNET_BACKEND=uring")
	// Files, not io.Writers: the successors inherit them, and exec's copy goroutines would
	// end only with the last of them. Its own process group, which the successors stay in.
	cmd.Stdout, cmd.Stderr = pw, errf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("start the demo: %w", err)
	}
	d.pgid, d.serving = cmd.Process.Pid, cmd.Process.Pid
	cmd.Process.Release() // reaped with wait4, as its successors
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				select {
				case d.lines <- a:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
		pr.Close()
	}()
	select {
	case d.addr = <-d.lines:
	case <-time.After(15 * time.Second):
		d.kill()
		return nil, fmt.Errorf("the demo did not print \"listening on\" in 15 s:\n%s", tail(d.stderr))
	case <-ctx.Done():
		d.kill()
		return nil, ctx.Err()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pid, err := health(d.addr, time.Second)
		if err == nil && pid == d.serving {
			return d, nil
		}
		if err == nil {
			err = fmt.Errorf("/healthz names pid %d, the demo is %d", pid, d.serving)
		}
		if time.Now().After(deadline) {
			d.kill()
			return nil, fmt.Errorf("%w\n%s", err, tail(d.stderr))
		}
	}
}

// kill kills every process of the demo's group and reaps them.
func (d *demoProcs) kill() {
	syscall.Kill(-d.pgid, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-d.pgid, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.ECHILD) {
			return
		}
		if pid <= 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// reap waits, in the background, for process pid (a child or an adopted orphan) to exit,
// and sends the time it was reaped.
func reap(pid int) <-chan time.Time {
	c := make(chan time.Time, 1)
	go func() {
		for {
			var ws unix.WaitStatus
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ECHILD) { // not (yet) ours: watch it instead
				for syscall.Kill(pid, 0) == nil {
					time.Sleep(time.Millisecond)
				}
			}
			c <- time.Now()
			return
		}
	}()
	return c
}

// health asks /healthz at addr, on a new connection, which process serves.
func health(addr string, timeout time.Duration) (int, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"); err != nil {
		return 0, err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return 0, err
	}
	_, body, ok := strings.Cut(string(b), "\r\n\r\n")
	if !ok || !strings.HasPrefix(string(b), "HTTP/1.1 200 ") {
		return 0, fmt.Errorf("/healthz: %q", firstLine(string(b)))
	}
	var h struct {
		Status string `json:"status"`
		Pid    int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Status != "ok" || h.Pid <= 0 {
		return 0, fmt.Errorf("/healthz body %q", body)
	}
	return h.Pid, nil
}

// upgrade sends SIGHUP to the serving process, waits until /healthz names another and
// until the old one has exited.
func (d *demoProcs) upgrade(ctx context.Context, poll time.Duration) (event, error) {
	old := d.serving
	exited := reap(old)
	var e event
	t0 := time.Now()
	e.hup = t0.UnixNano()
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		return e, fmt.Errorf("SIGHUP %d: %w", old, err)
	}
	for {
		pid, err := health(d.addr, time.Second)
		if err == nil && pid != old {
			e.served = time.Now().UnixNano()
			d.serving = pid
			break
		}
		if time.Since(t0) > 15*time.Second {
			return e, fmt.Errorf("15 s after SIGHUP %d still serves (last: %d, %v)", old, pid, err)
		}
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return e, ctx.Err()
		}
	}
	select {
	case t := <-exited:
		e.exited = t.UnixNano()
	case <-time.After(20 * time.Second):
		return e, fmt.Errorf("the old process %d still runs 20 s after SIGHUP", old)
	case <-ctx.Done():
		return e, ctx.Err()
	}
	return e, nil
}

// stop sends SIGTERM to the serving process and waits for it.
func (d *demoProcs) stop() error {
	exited := reap(d.serving)
	syscall.Kill(d.serving, syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(15 * time.Second):
		return fmt.Errorf("process %d did not exit 15 s after SIGTERM", d.serving)
	}
}

// runRound runs one round with a fresh demo, its files in dir.
func runRound(ctx context.Context, cfg config, demo, load, serverCPU, loadCPU, dir string) (r round) {
	if r.err = os.MkdirAll(dir, 0o755); r.err != nil {
		return r
	}
	d, err := startDemo(ctx, demo, serverCPU, dir, cfg.demoFlags)
	if err != nil {
		r.err = err
		return r
	}
	defer d.kill() // whatever is left, on any way out
	records := filepath.Join(dir, "records")
	type loadOut struct {
		out string
		err error
	}
	loadc := make(chan loadOut, 1)
	p0, pok0 := cpuPressure()
	launched := time.Now()
	go func() {
		out, err := harness.Run(ctx, harness.Spec{Name: "upgradeload", Path: load, CPU: loadCPU,
			Args: []string{"-addr", d.addr, "-path", "/plaintext", "-conns", strconv.Itoa(cfg.conns),
				"-rate", strconv.FormatFloat(cfg.rate, 'f', -1, 64), "-duration", cfg.duration.String(),
				"-records", records}}, cfg.duration+60*time.Second)
		loadc <- loadOut{out, err}
	}()
	for _, off := range cfg.upgrades {
		select {
		case <-time.After(time.Until(launched.Add(off))):
		case lo := <-loadc:
			r.err = fmt.Errorf("the load ended before the upgrade at %v: %v\n%s", off, lo.err, lo.out)
			return r
		case <-ctx.Done():
			r.err = ctx.Err()
			return r
		}
		e, err := d.upgrade(ctx, cfg.poll)
		if err != nil {
			r.err = fmt.Errorf("upgrade at %v: %w\n%s", off, err, tail(d.stderr))
			<-loadc
			return r
		}
		r.events = append(r.events, e)
	}
	lo := <-loadc
	r.pressure = math.NaN()
	if p1, pok1 := cpuPressure(); pok0 && pok1 {
		r.pressure = float64(p1-p0) / float64(time.Since(launched).Microseconds())
	}
	if lo.err != nil {
		r.err = lo.err
		return r
	}
	if err := d.stop(); err != nil {
		r.err = err
		return r
	}
	r.sum = new(reqlog.Summary)
	if err := json.Unmarshal([]byte(strings.TrimSpace(lo.out)), r.sum); err != nil {
		r.err = fmt.Errorf("upgradeload's output: %w: %q", err, lo.out)
		return r
	}
	recs, err := reqlog.Read(records)
	if err != nil {
		r.err = err
		return r
	}
	if int64(len(recs)) != r.sum.Requests {
		r.err = fmt.Errorf("%d records for %d requests", len(recs), r.sum.Requests)
		return r
	}
	if log, err := os.ReadFile(d.stderr); err == nil {
		readyAfter(string(log), r.events)
	}
	during, without := windows(r.events, cfg.baseline, cfg.settle, r.sum.StartNs+int64(cfg.warmup))
	r.a = analyze(recs, r.sum.Failures, during, without)
	return r
}

// cpuPressure returns the "some" total of /proc/pressure/cpu: microseconds in which some
// runnable task of the machine waited for a CPU.
func cpuPressure() (int64, bool) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "some "); ok {
			for _, f := range strings.Fields(rest) {
				if v, ok := strings.CutPrefix(f, "total="); ok {
					n, err := strconv.ParseInt(v, 10, 64)
					return n, err == nil
				}
			}
		}
	}
	return 0, false
}

var readyRE = regexp.MustCompile(`msg="upgrade: successor ready" pid=(\d+) after=(\S+)`)

// readyAfter fills in each event's "after=" from the old processes' "upgrade: successor
// ready" log lines, in order.
func readyAfter(log string, evs []event) {
	i := 0
	for _, m := range readyRE.FindAllStringSubmatch(log, -1) {
		if i >= len(evs) {
			return
		}
		if d, err := time.ParseDuration(m[2]); err == nil {
			evs[i].after = d
		}
		i++
	}
}

// tail returns the last lines of the file at path, indented.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
