// Command wsbench compares WebSocket servers: uringnet's demo (/ws echo,
// /chat room) against a gorilla/websocket server on net/http (bench/wspeer),
// both pinned to one CPU (GOMAXPROCS=1, uringnet -loops 1), driven by the
// same load generator (bench/wsload, gorilla/websocket clients) on another
// CPU.
//
//	go run ./cmd/wsbench [-duration 5s] [-rounds 3] [-conns 64] [-sizes 32,4096]
//	                     [-clients 10000] [-sections echo,broadcast,nats] [-o FILE]
//	go run ./cmd/wsbench -sections nats [-nats-clients 10000] [-nats-runs 3]
//	                     [-nats-rounds 5] [-bus-senders 100] [-bus-runs 3]
//	                     [-bus-duration 5s] [-bus-window 16]
//
// Echo: messages per second at -conns connections, one message in flight
// each, per size, medians of -rounds alternated runs, with the server's CPU
// time per message. Broadcast: -clients clients in the chat room, one 64 B
// message at a time (5 of them): the time until the last client has it,
// and the server's RSS growth per connected client.
//
// NATS (issue 12, "WebSocket rooms across instances"): bench/roomsd, a
// rooms.Hub on uringnet, with a nats-server started for the run. Fan-out:
// -nats-clients clients in one room on one instance without a bus, then
// spread over two instances joined by NATS, alternated, one 64 B message at
// a time from a client of the first instance: the time until the last
// client has it, and the two-instance time against issue 12's floor (at
// most 2x the single instance's). Bus: -bus-senders senders over the two
// instances, each with a room of its own and one receiver on the other
// instance: messages per second sent, published and delivered, and every
// loss counter. Without a nats-server the section says n/a.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

type config struct {
	repo     string
	duration time.Duration
	rounds   int
	conns    int
	sizes    []int
	clients  int
	sections map[string]bool
	nats     natsConfig
	out      string
}

// peer is one server under test.
type peer struct {
	name string
	bin  string
	args []string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.repo, "repo", "", "repository root (default: found from the working directory)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each echo run")
	flag.IntVar(&cfg.rounds, "rounds", 3, "echo runs per server and size (alternated)")
	flag.IntVar(&cfg.conns, "conns", 64, "echo connections")
	sizes := flag.String("sizes", "32,4096", "echo message sizes, comma-separated")
	flag.IntVar(&cfg.clients, "clients", 10000, "broadcast clients (0: skip)")
	sections := flag.String("sections", "echo,broadcast,nats", "what to run: echo, broadcast (the demo's /chat), nats (rooms across instances)")
	flag.IntVar(&cfg.nats.clients, "nats-clients", 10000, "nats fan-out: clients in the room (spread over 2 instances)")
	flag.IntVar(&cfg.nats.runs, "nats-runs", 3, "nats fan-out: runs per configuration (alternated)")
	flag.IntVar(&cfg.nats.rounds, "nats-rounds", 5, "nats fan-out: messages per run, one at a time")
	flag.IntVar(&cfg.nats.senders, "bus-senders", 100, "nats bus: senders (each with a room and a receiver of its own)")
	flag.IntVar(&cfg.nats.busRuns, "bus-runs", 3, "nats bus: runs")
	flag.DurationVar(&cfg.nats.busDuration, "bus-duration", 5*time.Second, "nats bus: length of each run")
	flag.IntVar(&cfg.nats.window, "bus-window", 16, "nats bus: messages in flight per sender")
	flag.StringVar(&cfg.out, "o", "", "also write the markdown report to this file")
	flag.Parse()
	cfg.sections = map[string]bool{}
	for s := range strings.SplitSeq(*sections, ",") {
		switch s = strings.TrimSpace(s); s {
		case "echo", "broadcast", "nats":
			cfg.sections[s] = true
		case "":
		default:
			fmt.Fprintf(os.Stderr, "wsbench: -sections: unknown %q\n", s)
			os.Exit(2)
		}
	}
	if len(cfg.sections) == 0 || cfg.nats.clients < 2 || cfg.nats.runs < 1 || cfg.nats.rounds < 1 ||
		cfg.nats.senders < 2 || cfg.nats.busRuns < 1 || cfg.nats.busDuration <= 0 || cfg.nats.window < 1 {
		fmt.Fprintln(os.Stderr, "wsbench: bad -sections or -nats-*/-bus-* values")
		os.Exit(2)
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "wsbench: bad -sizes")
			os.Exit(2)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "wsbench: "+format+"\n", args...)
}

func run(ctx context.Context, cfg config) error {
	command := harness.CommandLine("wsbench", os.Args[1:])
	root, err := harness.RepoRoot(cfg.repo)
	if err != nil {
		return err
	}
	cfg.repo = root
	if _, err := harness.RaiseNoFile(uint64(max(cfg.clients, cfg.nats.clients))*2 + 1024); err != nil {
		progress("%v; the broadcast may fail", err)
	}
	serverCPU, loadCPU := harness.PinLoadPair(progress)
	bin, err := os.MkdirTemp("", "wsbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	benchDir := filepath.Join(cfg.repo, "bench")
	progress("building")
	load := filepath.Join(bin, "wsload")
	peers := []peer{
		{name: "uringnet", bin: filepath.Join(bin, "uringnet-demo"), args: []string{"-loops", "1", "-access-log=false"}},
		{name: "gorilla/websocket (net/http)", bin: filepath.Join(bin, "wspeer")},
	}
	roomsd := filepath.Join(bin, "roomsd")
	builds := []struct{ dir, pkg, out string }{{benchDir, "./wsload", load}}
	if cfg.sections["echo"] || cfg.sections["broadcast"] {
		builds = append(builds, struct{ dir, pkg, out string }{cfg.repo, "./example", peers[0].bin},
			struct{ dir, pkg, out string }{benchDir, "./wspeer", peers[1].bin})
	}
	if cfg.sections["nats"] {
		// roomsd is a module of its own (it imports uringnet and NATS; the bench module does not).
		builds = append(builds, struct{ dir, pkg, out string }{filepath.Join(benchDir, "roomsd"), ".", roomsd})
	}
	for _, b := range builds {
		if err := harness.GoBuild(ctx, b.dir, b.pkg, b.out); err != nil {
			return err
		}
	}
	var g harness.Group
	defer g.KillAll()
	var report strings.Builder
	if !cfg.sections["echo"] && !cfg.sections["broadcast"] {
		report.WriteString(harness.Header(natsTitle, command))
		report.WriteString(natsSection(ctx, &g, cfg.nats, roomsd, load, serverCPU, loadCPU, ""))
		return harness.WriteReport(report.String(), cfg.out)
	}
	report.WriteString(harness.Header("WebSocket: uringnet vs gorilla/websocket", command))

	type echoSample struct{ perSec, p99us, cpuUs float64 }
	results := map[string]map[int][]echoSample{}
	sizes := cfg.sizes
	if !cfg.sections["echo"] {
		sizes = nil
	}
	for _, size := range sizes {
		for round := 1; round <= cfg.rounds; round++ {
			for _, p := range peers {
				proc, err := start(ctx, &g, p, serverCPU)
				if err != nil {
					return err
				}
				cpu0, _ := harness.CPUTime(proc.Pid(), false)
				out, err := harness.Run(ctx, harness.Spec{Name: "wsload", Path: load, CPU: loadCPU,
					Args: []string{"-mode", "echo", "-addr", proc.Addr, "-conns", strconv.Itoa(cfg.conns),
						"-size", strconv.Itoa(size), "-duration", cfg.duration.String()}}, cfg.duration+60*time.Second)
				cpu1, _ := harness.CPUTime(proc.Pid(), false)
				proc.Kill()
				if err != nil {
					progress("echo %d B round %d %s: FAILED: %v", size, round, p.name, err)
					continue
				}
				kv, err := resultKV(out)
				if err != nil {
					return err
				}
				msgs, _ := kv.Int("msgs")
				rate, _ := kv.Float("msgs_per_sec")
				p99, _ := kv.Float("p99_us")
				sm := echoSample{perSec: rate, p99us: p99, cpuUs: float64(cpu1-cpu0) / float64(time.Microsecond) / float64(max(msgs, 1))}
				progress("echo %d B round %d/%d %s: %.0f msgs/s p99 %.0fus cpu %.2fus/msg", size, round, cfg.rounds, p.name, sm.perSec, sm.p99us, sm.cpuUs)
				if results[p.name] == nil {
					results[p.name] = map[int][]echoSample{}
				}
				results[p.name][size] = append(results[p.name][size], sm)
			}
		}
	}
	med := func(ss []echoSample, f func(echoSample) float64) float64 {
		xs := make([]float64, len(ss))
		for i, s := range ss {
			xs[i] = f(s)
		}
		return harness.Median(xs)
	}
	if cfg.sections["echo"] {
		fmt.Fprintf(&report, "Echo: %d connections, one message in flight each (binary, every echo checked), %v per run, "+
			"%d rounds alternated, medians. Servers on CPU %s with GOMAXPROCS=1 (uringnet -loops 1), "+
			"load (wsload, gorilla/websocket clients) on CPU %s.\n\n", cfg.conns, cfg.duration, cfg.rounds, orAny(serverCPU), orAny(loadCPU))
		t := &harness.Table{Labels: 2, Header: []string{"size", "server", "msgs/s", "p99 µs", "CPU µs/msg", "msgs/s vs gorilla"}}
		for _, size := range cfg.sizes {
			base := med(results[peers[1].name][size], func(s echoSample) float64 { return s.perSec })
			for _, p := range peers {
				ss := results[p.name][size]
				rate := med(ss, func(s echoSample) float64 { return s.perSec })
				vs := harness.Ratio(rate, base)
				if p.name == peers[1].name {
					vs = "—"
				}
				t.AddRow(strconv.Itoa(size)+" B", p.name, harness.Num(rate, 0),
					harness.Num(med(ss, func(s echoSample) float64 { return s.p99us }), 0),
					harness.Num(med(ss, func(s echoSample) float64 { return s.cpuUs }), 2), vs)
			}
		}
		report.WriteString(t.Markdown())
	}

	if cfg.clients > 0 && cfg.sections["broadcast"] {
		fmt.Fprintf(&report, "\nBroadcast: %d clients in the /chat room, one 64 B message at a time (5 messages), "+
			"sent by one client; time from the send until the last client has it. RSS: the server's, "+
			"before the clients connected and 1 s after.\n\n", cfg.clients)
		bt := &harness.Table{Header: []string{"server", "clients", "last client p50 ms", "last client max ms", "RSS before MiB", "RSS after MiB", "RSS per client"}}
		for _, p := range peers {
			proc, err := start(ctx, &g, p, serverCPU)
			if err != nil {
				return err
			}
			out, err := harness.Run(ctx, harness.Spec{Name: "wsload", Path: load, CPU: loadCPU,
				Args: []string{"-mode", "broadcast", "-addr", proc.Addr, "-clients", strconv.Itoa(cfg.clients),
					"-size", "64", "-rounds", "5", "-pid", strconv.Itoa(proc.Pid())}}, 5*time.Minute)
			proc.Kill()
			if err != nil {
				progress("broadcast %s: FAILED: %v", p.name, err)
				bt.AddRow(p.name, strconv.Itoa(cfg.clients), harness.NA, harness.NA, harness.NA, harness.NA, harness.NA)
				continue
			}
			kv, err := resultKV(out)
			if err != nil {
				return err
			}
			p50, _ := kv.Float("last_ms_p50")
			worst, _ := kv.Float("last_ms_max")
			before, _ := kv.Float("rss_before_kib")
			after, _ := kv.Float("rss_after_kib")
			per, _ := kv.Float("bytes_per_client")
			progress("broadcast %s: last client p50 %.1f ms, max %.1f ms, %.0f B per client", p.name, p50, worst, per)
			bt.AddRow(p.name, strconv.Itoa(cfg.clients), harness.Num(p50, 1), harness.Num(worst, 1),
				harness.Num(before/1024, 1), harness.Num(after/1024, 1), harness.Num(per/1024, 2)+" KiB")
		}
		report.WriteString(bt.Markdown())
	}
	if cfg.sections["nats"] {
		report.WriteString("\n")
		report.WriteString(natsSection(ctx, &g, cfg.nats, roomsd, load, serverCPU, loadCPU, "### "+natsTitle+"\n\n"))
	}
	return harness.WriteReport(report.String(), cfg.out)
}

func resultKV(out string) (harness.KV, error) {
	line, err := harness.FindLine(out, "result")
	if err != nil {
		return nil, err
	}
	return harness.ParseKV(line, "result")
}

func start(ctx context.Context, g *harness.Group, p peer, cpu string) (*harness.Proc, error) {
	addr, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	// uringnet runs its io_uring backend, as in the other comparisons (gorilla ignores it).
	return g.Start(ctx, harness.Spec{Name: p.name, Path: p.bin, Args: append([]string{"-addr", addr}, p.args...),
		Env: []string{"GOMAXPROCS=1", "URINGNET_BACKEND=uring"}, CPU: cpu})
}

func orAny(cpu string) string {
	if cpu == "" {
		return "any (unpinned)"
	}
	return cpu
}
