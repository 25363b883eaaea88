package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// comparison is one peer comparison: a command under bench/cmd and how to
// read its ratios.
type comparison struct {
	key     string   // -benches name
	cmd     string   // directory under bench/cmd
	args    []string // arguments it always runs with (before -quick's)
	column  string   // the table column holding "uringnet / peer" ratios; "" for no chart group
	title   string   // the chart group's title
	quick   []string // arguments for -quick
	install bool     // takes -install (httpbench): passed through -install
	more    []chart  // further chart groups, drawn only when their column has ratios
	split   []split  // bars of column moved to groups of their own by their label's prefix
}

// split moves the bars of a comparison's column whose label starts with prefix to a chart
// group of their own (the HTTPS rows of httpbench's tables, say).
type split struct {
	prefix string
	title  string
}

// chart is a chart group read from one column of a comparison's tables.
type chart struct {
	column string // the table column holding the ratios
	title  string // the chart group's title
}

// comparisons are every peer comparison, in report order. A command that is
// not in the repository yet (wsbench) is reported as missing, not failed.
var comparisons = []comparison{
	{key: "echo", cmd: "echobench", column: "msgs/s vs net",
		title: "Echo: uringnet msgs/s ÷ net (size · server)",
		quick: []string{"-duration", "1s", "-rounds", "1", "-sizes", "64", "-idle", "200"}},
	{key: "http", cmd: "httpbench", column: "uringnet / peer",
		title: "HTTP: uringnet req/s ÷ peer, bytes/s for 1 MiB (scenario · peer)",
		quick: []string{"-duration", "1s", "-rounds", "1", "-scenarios", "plaintext,static1m", "-idle", "500", "-tls-idle", "200"}, install: true,
		split: []split{{prefix: "HTTPS ",
			title: "HTTPS (TLS 1.3): uringnet req/s ÷ peer, connections/s for new connections (scenario · peer)"}},
		more: []chart{{column: "epoll / peer",
			title: "HTTP, uringnet's epoll backend: req/s ÷ peer, bytes/s for 1 MiB (scenario · peer)"},
			{column: "adapter / peer",
				title: "HTTP, uringnet's net/http adapter: req/s ÷ peer, bytes/s for 1 MiB (scenario · peer)"}}},
	{key: "websocket", cmd: "wsbench", args: []string{"-sections", "echo,broadcast"}, column: "msgs/s vs gorilla",
		title: "WebSocket echo: uringnet msgs/s ÷ gorilla/websocket (size · server)",
		quick: []string{"-duration", "1s", "-rounds", "1"}},
	// Issue 12: rooms across instances over NATS (wsbench's nats section: bench/roomsd and a
	// nats-server); floors and figures, no peer, so no chart group.
	{key: "rooms", cmd: "wsbench", args: []string{"-sections", "nats"},
		title: "WebSocket rooms across instances (NATS)",
		quick: []string{"-nats-clients", "1000", "-nats-runs", "1", "-nats-rounds", "3", "-bus-runs", "1", "-bus-duration", "1s"}},
	// Issue 13: the demo's SIGHUP upgrade under a fixed load (upgradebench): p99 during an
	// upgrade against without one, failed requests, SIGHUP to serving; floors and figures, no
	// peer, so no chart group.
	{key: "upgrade", cmd: "upgradebench",
		title: "Upgrade under load",
		quick: []string{"-rounds", "1", "-duration", "4s", "-upgrades", "2s,3s", "-baseline", "500ms"}},
	// Issue 14: CGI and FastCGI (cgibench): the demo against nginx with fcgiwrap, and with a Go
	// net/http/fcgi application; req/s ratios, a chart group of their own.
	{key: "cgi", cmd: "cgibench", column: "uringnet / nginx",
		title: "CGI and FastCGI: uringnet req/s ÷ nginx (scenario · server)",
		quick: []string{"-duration", "1s", "-rounds", "1"}},
	// Issue 15: HTTP/2 in cleartext (h2bench, h2load): the demo against net/http's own HTTP/2
	// and nginx; req/s ratios, a chart group of their own.
	{key: "http2", cmd: "h2bench", column: "uringnet / peer",
		title: "HTTP/2 h2c (8 conns x 100 streams): uringnet req/s ÷ peer",
		quick: []string{"-duration", "1s", "-rounds", "1", "-idle", "500"}, install: true},
}

// config holds the command-line settings.
type config struct {
	repo    string
	docs    string
	benches []string
	quick   bool
	install bool
	extra   map[string][]string // per comparison key: extra arguments
}

// outcome is what running one comparison gave.
type outcome struct {
	c       comparison
	report  string // its markdown report
	missing bool   // the command is not in the repository
	err     error
	took    time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	cfg := config{extra: map[string][]string{}}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&cfg.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.StringVar(&cfg.docs, "docs", "", "where benchmarks.md and benchmarks.svg go (default REPO/docs)")
	var keys []string
	for _, c := range comparisons {
		keys = append(keys, c.key)
	}
	benches := fs.String("benches", strings.Join(keys, ","), "comparisons to run")
	fs.BoolVar(&cfg.quick, "quick", false, "1 s runs and 1 round (a smoke test; the numbers mean little)")
	fs.BoolVar(&cfg.install, "install", true, "let httpbench apt-get install wrk when it is missing")
	extra := map[string]*string{}
	for _, c := range comparisons {
		extra[c.key] = fs.String(c.key+"-args", "", "extra arguments for "+c.cmd+" (space-separated, after -quick's)")
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for v := range strings.SplitSeq(*benches, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if _, ok := lookup(v); !ok {
			return cfg, fmt.Errorf("-benches: unknown %q (want some of %s)", v, strings.Join(keys, ","))
		}
		cfg.benches = append(cfg.benches, v)
	}
	if len(cfg.benches) == 0 {
		return cfg, errors.New("-benches: nothing to run")
	}
	for k, s := range extra {
		cfg.extra[k] = strings.Fields(*s)
	}
	return cfg, nil
}

func lookup(key string) (comparison, bool) {
	for _, c := range comparisons {
		if c.key == key {
			return c, true
		}
	}
	return comparison{}, false
}

// args returns the arguments comparison c runs with, before -o and -repo.
func (cfg *config) args(c comparison) []string {
	a := append([]string(nil), c.args...)
	if cfg.quick {
		a = append(a, c.quick...)
	}
	if c.install && !cfg.install {
		a = append(a, "-install=false")
	}
	return append(a, cfg.extra[c.key]...)
}

func run(ctx context.Context, cfg config, args []string, progress io.Writer) error {
	root, err := harness.RepoRoot(cfg.repo)
	if err != nil {
		return err
	}
	cfg.repo = root
	if cfg.docs == "" {
		cfg.docs = filepath.Join(cfg.repo, "docs")
	}
	tmp, err := os.MkdirTemp("", "report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bench := filepath.Join(cfg.repo, "bench")
	start := time.Now()
	var outs []outcome
	for _, key := range cfg.benches {
		c, _ := lookup(key)
		o := runComparison(ctx, cfg, c, bench, tmp, progress)
		if o.err != nil {
			fmt.Fprintf(progress, "report: %s: %v\n", c.cmd, o.err)
		}
		outs = append(outs, o)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	md, svg := render(harness.CommandLine("report", args), start.UTC(), outs)
	if err := writeDocs(cfg.docs, md, svg); err != nil {
		return err
	}
	fmt.Fprintf(progress, "report: wrote %s and %s (%v)\n", filepath.Join(cfg.docs, "benchmarks.md"),
		filepath.Join(cfg.docs, "benchmarks.svg"), time.Since(start).Round(time.Second))
	var errs []error
	for _, o := range outs {
		if o.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.c.cmd, o.err))
		}
	}
	return errors.Join(errs...)
}

// runComparison builds bench/cmd/CMD and runs it with its report going to a
// file under tmp; its progress goes to progress.
func runComparison(ctx context.Context, cfg config, c comparison, bench, tmp string, progress io.Writer) outcome {
	o := outcome{c: c}
	if _, err := os.Stat(filepath.Join(bench, "cmd", c.cmd)); err != nil {
		o.missing = true
		fmt.Fprintf(progress, "report: %s: not in the repository yet, skipped\n", c.cmd)
		return o
	}
	bin := filepath.Join(tmp, c.cmd)
	if err := harness.GoBuild(ctx, bench, "./cmd/"+c.cmd, bin); err != nil {
		o.err = err
		return o
	}
	out := filepath.Join(tmp, c.key+".md")
	argv := append(cfg.args(c), "-repo", cfg.repo, "-o", out)
	fmt.Fprintf(progress, "report: running %s\n", harness.CommandLine(c.cmd, argv[:len(argv)-4]))
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = bench
	cmd.Stdout = io.Discard // the report also goes to -o
	cmd.Stderr = progress
	err := cmd.Run()
	o.took = time.Since(t0)
	if b, rerr := os.ReadFile(out); rerr == nil {
		o.report = string(b)
	} else if err == nil {
		err = rerr
	}
	if err != nil {
		o.err = fmt.Errorf("%s: %w", c.cmd, err)
	}
	return o
}
