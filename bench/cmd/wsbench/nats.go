package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// natsTitle is the heading of the rooms-across-instances section (issue 12).
const natsTitle = "WebSocket rooms across instances (NATS)"

// natsConfig holds the rooms-across-instances settings.
type natsConfig struct {
	clients     int           // fan-out: clients in the room, spread over the instances
	runs        int           // fan-out runs per configuration, alternated
	rounds      int           // messages per fan-out run
	senders     int           // bus: senders, each with a room of its own
	busRuns     int           // bus runs
	busDuration time.Duration // length of each bus run
	window      int           // bus: messages in flight per sender
}

// natsServer returns the nats-server to run: $NATS_SERVER, nats-server on PATH, or
// Debian's /usr/sbin/nats-server.
func natsServer() (string, error) {
	if b := os.Getenv("NATS_SERVER"); b != "" {
		return b, nil
	}
	if b, err := exec.LookPath("nats-server"); err == nil {
		return b, nil
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server", nil
	}
	return "", errors.New("no nats-server (apt-get install nats-server, or set NATS_SERVER)")
}

// varz is what the bench reads of nats-server's /varz.
type varz struct {
	InMsgs        uint64 `json:"in_msgs"`
	OutMsgs       uint64 `json:"out_msgs"`
	SlowConsumers uint64 `json:"slow_consumers"`
}

func readVarz(ctx context.Context, addr string) (varz, error) {
	var v varz
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/varz", nil)
	if err != nil {
		return v, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(b, &v)
}

// lossKeys are the counters of roomsd's stats line that count a message not delivered
// (or delivered twice): each must stay 0.
var lossKeys = []string{"dropped", "lost", "duplicates", "undelivered", "local_busy", "broadcast_errors",
	"slow_consumer", "disconnects", "subscribe_errors", "malformed", "ws_dropped", "ws_overflows", "ws_slow", "ws_timeouts"}

// losses sums loss counters over runs and instances.
type losses map[string]uint64

func (l losses) addStats(line string) error {
	kv, err := harness.ParseKV(line, "stats")
	if err != nil {
		return err
	}
	for _, k := range lossKeys {
		n, err := kv.Int(k)
		if err != nil {
			return err
		}
		l[k] += uint64(n)
	}
	return nil
}

func (l losses) total() uint64 {
	var n uint64
	for _, v := range l {
		n += v
	}
	return n
}

// loadKeys are the load's and nats-server's loss counters, listed after lossKeys when set.
var loadKeys = []string{"missing", "disorder", "nats_slow_consumers"}

// String lists the counters of lossKeys, then those of loadKeys that are set, in that order.
func (l losses) String() string {
	var parts []string
	for _, k := range lossKeys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, l[k]))
	}
	for _, k := range loadKeys {
		if n, ok := l[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n))
		}
	}
	return strings.Join(parts, " ")
}

// natsRun is the environment of the section's runs.
type natsRun struct {
	g                  *harness.Group
	roomsd, load, nats string
	natsURL, monitor   string
	serverCPU, loadCPU string
}

// startRooms starts a bench/roomsd instance, on the bus when bus is set.
func (r *natsRun) startRooms(ctx context.Context, name string, bus bool) (*harness.Proc, error) {
	addr, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-addr", addr, "-loops", "1"}
	if bus {
		args = append(args, "-nats", r.natsURL, "-name", name)
	}
	return r.g.Start(ctx, harness.Spec{Name: "roomsd " + name, Path: r.roomsd, Args: args,
		Env: []string{"GOMAXPROCS=1", "URINGNET_BACKEND=uring"}, CPU: r.serverCPU, ReadyTimeout: 15 * time.Second})
}

// stopAll stops the instances, adds their final loss counters to l and returns how many
// messages they published to the bus.
func stopAll(l losses, procs ...*harness.Proc) (published uint64, err error) {
	var errs []error
	for _, p := range procs {
		line, err := p.Stop(10 * time.Second)
		if err != nil {
			errs = append(errs, err)
		}
		if line == "" {
			errs = append(errs, fmt.Errorf("%s printed no stats line", p.Name))
			continue
		}
		if err := l.addStats(line); err != nil {
			errs = append(errs, err)
		}
		if kv, err := harness.ParseKV(line, "stats"); err == nil {
			n, _ := kv.Int("published")
			published += uint64(n)
		}
	}
	return published, errors.Join(errs...)
}

// fanSample is one fan-out run.
type fanSample struct{ p50, max, connect float64 }

// natsSection measures issue 12's floors and returns the section's markdown (with heading
// when heading is not empty).
func natsSection(ctx context.Context, g *harness.Group, nc natsConfig, roomsd, load, serverCPU, loadCPU, heading string) string {
	var b strings.Builder
	if heading != "" {
		b.WriteString(heading)
	}
	natsBin, err := natsServer()
	if err != nil {
		fmt.Fprintf(&b, "n/a: %v\n", err)
		return b.String()
	}
	version := "nats-server"
	if out, err := exec.CommandContext(ctx, natsBin, "--version").Output(); err == nil {
		// "nats-server: v2.9.10"
		version = strings.Replace(strings.TrimSpace(string(out)), "nats-server: ", "nats-server ", 1)
	}
	r := &natsRun{g: g, roomsd: roomsd, load: load, nats: natsBin, serverCPU: serverCPU, loadCPU: loadCPU}
	addr, err1 := harness.FreePort()
	mon, err2 := harness.FreePort()
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(&b, "n/a: %v\n", err)
		return b.String()
	}
	host, port, _ := strings.Cut(addr, ":")
	_, mport, _ := strings.Cut(mon, ":")
	r.natsURL, r.monitor = "nats://"+addr, mon
	ns, err := g.Start(ctx, harness.Spec{Name: "nats-server", Path: natsBin,
		Args: []string{"-a", host, "-p", port, "-m", mport}, Env: []string{"GOMAXPROCS=1"}, CPU: serverCPU, ReadyDial: addr})
	if err != nil {
		fmt.Fprintf(&b, "n/a: %v\n", firstLine(err.Error()))
		return b.String()
	}
	defer ns.Kill()

	// Fan-out: one instance without a bus, then two over NATS, alternated.
	progress("rooms: fan-out to %d clients, %d runs of %d messages per configuration, alternated", nc.clients, nc.runs, nc.rounds)
	modes := []string{"1 instance (no bus)", "2 instances over NATS"}
	fan := map[string][]fanSample{}
	fanLoss := losses{}
	var fanErrs []string
	for run := 1; run <= nc.runs; run++ {
		for mi, mode := range modes {
			var procs []*harness.Proc
			var err error
			for i := 0; i <= mi && err == nil; i++ {
				var p *harness.Proc
				if p, err = r.startRooms(ctx, string(rune('A'+i)), mi == 1); err == nil {
					procs = append(procs, p)
				}
			}
			var out string
			if err == nil {
				args := []string{"-mode", "broadcast", "-addr", procs[0].Addr, "-clients", strconv.Itoa(nc.clients),
					"-size", "64", "-rounds", strconv.Itoa(nc.rounds)}
				if len(procs) > 1 {
					args = append(args, "-more", procs[1].Addr)
				}
				out, err = harness.Run(ctx, harness.Spec{Name: "wsload", Path: load, CPU: loadCPU, Args: args}, 5*time.Minute)
			}
			if _, serr := stopAll(fanLoss, procs...); err == nil {
				err = serr
			}
			var kv harness.KV
			if err == nil {
				kv, err = resultKV(out)
			}
			if err != nil {
				progress("rooms fan-out run %d %s: FAILED: %v", run, mode, err)
				fanErrs = append(fanErrs, fmt.Sprintf("run %d, %s: %s", run, mode, firstLine(err.Error())))
				continue
			}
			var s fanSample
			s.p50, _ = kv.Float("last_ms_p50")
			s.max, _ = kv.Float("last_ms_max")
			s.connect, _ = kv.Float("connect_secs")
			progress("rooms fan-out run %d/%d %s: last client p50 %.1f ms, max %.1f ms (connect %.1f s)", run, nc.runs, mode, s.p50, s.max, s.connect)
			fan[mode] = append(fan[mode], s)
		}
	}

	// The bus: 2 instances, nc.senders senders, each with a room of its own.
	progress("rooms: bus, %d senders over 2 instances, %d runs of %v", nc.senders, nc.busRuns, nc.busDuration)
	type busSample struct{ sent, published, delivered, p50, p99, natsIn, cpuUs float64 }
	var bus []busSample
	busLoss := losses{"missing": 0, "disorder": 0, "nats_slow_consumers": 0}
	var busErrs []string
	for run := 1; run <= nc.busRuns; run++ {
		var procs []*harness.Proc
		var err error
		for i := 0; i < 2 && err == nil; i++ {
			var p *harness.Proc
			if p, err = r.startRooms(ctx, string(rune('A'+i)), true); err == nil {
				procs = append(procs, p)
			}
		}
		var out string
		var v0, v1 varz
		// The servers' CPU time: both instances and the nats-server.
		pids := []int{ns.Pid()}
		for _, p := range procs {
			pids = append(pids, p.Pid())
		}
		cpu := func() time.Duration {
			var sum time.Duration
			for _, pid := range pids {
				d, _ := harness.CPUTime(pid, false)
				sum += d
			}
			return sum
		}
		var cpu0, cpu1 time.Duration
		if err == nil {
			v0, err = readVarz(ctx, r.monitor)
			cpu0 = cpu()
		}
		if err == nil {
			out, err = harness.Run(ctx, harness.Spec{Name: "wsload", Path: load, CPU: loadCPU,
				Args: []string{"-mode", "bus", "-addr", procs[0].Addr, "-more", procs[1].Addr, "-senders", strconv.Itoa(nc.senders),
					"-size", "64", "-window", strconv.Itoa(nc.window), "-duration", nc.busDuration.String()}}, nc.busDuration+3*time.Minute)
		}
		cpu1 = cpu()
		if err == nil {
			// Past a heartbeat, so that a loss at the end of the run is counted.
			time.Sleep(1500 * time.Millisecond)
			v1, err = readVarz(ctx, r.monitor)
		}
		runLoss := losses{}
		published, serr := stopAll(runLoss, procs...)
		if err == nil {
			err = serr
		}
		var kv harness.KV
		if err == nil {
			kv, err = resultKV(out)
		}
		if err != nil {
			progress("rooms bus run %d: FAILED: %v", run, err)
			busErrs = append(busErrs, fmt.Sprintf("run %d: %s", run, firstLine(err.Error())))
			continue
		}
		for k, n := range runLoss {
			busLoss[k] += n
		}
		missing, _ := kv.Int("missing")
		disorder, _ := kv.Int("disorder")
		busLoss["missing"] += uint64(missing)
		busLoss["disorder"] += uint64(disorder)
		busLoss["nats_slow_consumers"] += v1.SlowConsumers - v0.SlowConsumers
		sendSecs, _ := kv.Float("send_secs")
		secs, _ := kv.Float("secs")
		var s busSample
		s.sent, _ = kv.Float("sent_per_sec")
		s.delivered, _ = kv.Float("received_per_sec")
		s.p50, _ = kv.Float("p50_us")
		s.p99, _ = kv.Float("p99_us")
		s.published = float64(published) / sendSecs
		s.natsIn = float64(v1.InMsgs-v0.InMsgs) / secs
		if received, _ := kv.Float("received"); received > 0 {
			s.cpuUs = float64(cpu1-cpu0) / float64(time.Microsecond) / received
		}
		bus = append(bus, s)
		progress("rooms bus run %d/%d: sent %.0f msgs/s, published %.0f/s, delivered %.0f msgs/s, p50 %.1f ms, server CPU %.1f µs/msg, losses %d",
			run, nc.busRuns, s.sent, s.published, s.delivered, s.p50/1e3, s.cpuUs, runLoss.total()+uint64(missing)+uint64(disorder))
	}

	// The report.
	where := fmt.Sprintf("Servers on CPU %s: every bench/roomsd instance (uringnet's HTTP and WebSocket servers "+
		"with a rooms.Hub, `-loops 1`, GOMAXPROCS=1, io_uring) and the one %s (GOMAXPROCS=1) share that CPU; the load "+
		"(wsload, gorilla/websocket clients) on CPU %s. Everything on 127.0.0.1.", orAny(serverCPU), version, orAny(loadCPU))
	fmt.Fprintf(&b, "Fan-out: %d clients in one room, one 64 B message at a time (%d messages per run), sent by one "+
		"client of the first instance; time from the send until the last of the %d clients has it. With 2 instances "+
		"the clients alternate between them (%d each) and the measurement starts once both count all %d members "+
		"(each has subscribed and hears the other's heartbeats). %d runs per configuration, alternated; fresh "+
		"servers each run; medians of the runs' p50s, and the largest time of all. Both configurations "+
		"do their work on the same core; on a busy machine, though, the scheduler gives two instances and the "+
		"nats-server more of that core than one instance, which favours the two. %s\n\n",
		nc.clients, nc.rounds, nc.clients, nc.clients/2, nc.clients, nc.runs, where)
	t := &harness.Table{Labels: 1, Header: []string{"configuration", "clients", "runs", "last client p50 ms",
		"last client max ms", "p50 vs 1 instance", "max vs 1 instance", "floor: p50 ≤ 2x"}}
	med := func(ss []fanSample, f func(fanSample) float64) float64 {
		xs := make([]float64, len(ss))
		for i, s := range ss {
			xs[i] = f(s)
		}
		return harness.Median(xs)
	}
	worst := func(ss []fanSample) float64 {
		m := -1.0
		for _, s := range ss {
			m = max(m, s.max)
		}
		if m < 0 {
			return harness.Median(nil)
		}
		return m
	}
	base50, baseMax := med(fan[modes[0]], func(s fanSample) float64 { return s.p50 }), worst(fan[modes[0]])
	for i, mode := range modes {
		ss := fan[mode]
		p50, mx := med(ss, func(s fanSample) float64 { return s.p50 }), worst(ss)
		r50, rmax, verdict := "—", "—", "—"
		if i > 0 {
			r50, rmax = harness.Ratio(p50, base50), harness.Ratio(mx, baseMax)
			verdict = harness.NA
			if p50 > 0 && base50 > 0 {
				verdict = "FAIL"
				if p50 <= 2*base50 {
					verdict = "PASS"
				}
			}
		}
		t.AddRow(mode, strconv.Itoa(nc.clients), strconv.Itoa(len(ss)), harness.Num(p50, 1), harness.Num(mx, 1), r50, rmax, verdict)
	}
	b.WriteString(t.Markdown())
	fmt.Fprintf(&b, "\nPer run (ms, p50 / max): %s.\n", perRun(modes, fan))
	fmt.Fprintf(&b, "Loss counters of the fan-out runs (summed over runs and instances; each should be 0): %s.\n", fanLoss)
	for _, e := range fanErrs {
		fmt.Fprintf(&b, "- FAILED %s\n", e)
	}

	fmt.Fprintf(&b, "\nThrough the bus: 2 instances, %d senders (%d on each), each a member of a room of its own with "+
		"one receiver on the other instance, so every message crosses NATS once (the sender also gets its own "+
		"copy, locally). 64 B binary messages, each sender with at most %d in flight (sent and not yet received), "+
		"as fast as the servers and the bus take them, for %v; %d runs, medians. *sent*: the senders' messages per "+
		"second; *published*: what the two Hubs handed to NATS per second; *delivered*: what the receivers got per "+
		"second (until the last one arrived); *NATS in*: messages NATS received per second (heartbeats included); "+
		"latency from the send to the receiver; *server CPU*: the CPU time of both instances and the nats-server "+
		"(from the clients' connecting to the end of the run) per delivered message, the figure a busy machine "+
		"disturbs least. %s\n\n",
		nc.senders, nc.senders/2, nc.window, nc.busDuration, nc.busRuns, where)
	bt := &harness.Table{Labels: 1, Header: []string{"configuration", "senders", "runs", "sent msgs/s", "published msgs/s",
		"delivered msgs/s", "NATS in msgs/s", "latency p50 ms", "latency p99 ms", "server CPU µs/msg", "lost"}}
	bmed := func(f func(busSample) float64) float64 {
		xs := make([]float64, len(bus))
		for i, s := range bus {
			xs[i] = f(s)
		}
		return harness.Median(xs)
	}
	lost := harness.NA
	if len(bus) > 0 {
		lost = strconv.FormatUint(busLoss.total(), 10)
	}
	bt.AddRow("2 instances over NATS", strconv.Itoa(nc.senders), strconv.Itoa(len(bus)),
		harness.Num(bmed(func(s busSample) float64 { return s.sent }), 0),
		harness.Num(bmed(func(s busSample) float64 { return s.published }), 0),
		harness.Num(bmed(func(s busSample) float64 { return s.delivered }), 0),
		harness.Num(bmed(func(s busSample) float64 { return s.natsIn }), 0),
		harness.Num(bmed(func(s busSample) float64 { return s.p50 })/1e3, 1),
		harness.Num(bmed(func(s busSample) float64 { return s.p99 })/1e3, 1),
		harness.Num(bmed(func(s busSample) float64 { return s.cpuUs }), 1), lost)
	b.WriteString(bt.Markdown())
	var runs []string
	for _, s := range bus {
		runs = append(runs, fmt.Sprintf("%.0f", s.delivered))
	}
	fmt.Fprintf(&b, "\nDelivered msgs/s per run: %s. Loss counters (summed over runs and instances; *lost* above is "+
		"their sum; each should be 0): %s.\n", strings.Join(runs, ", "), busLoss)
	for _, e := range busErrs {
		fmt.Fprintf(&b, "- FAILED %s\n", e)
	}
	return b.String()
}

// perRun lists each configuration's runs.
func perRun(modes []string, fan map[string][]fanSample) string {
	var parts []string
	for _, m := range modes {
		var xs []string
		for _, s := range fan[m] {
			xs = append(xs, fmt.Sprintf("%.1f / %.1f", s.p50, s.max))
		}
		parts = append(parts, m+": "+strings.Join(xs, ", "))
	}
	return strings.Join(parts, "; ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
