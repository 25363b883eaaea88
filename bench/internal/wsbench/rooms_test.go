package wsbench

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// TestRoomsAcrossInstances runs the rooms loads small: bench/roomsd twice over a real
// nats-server (skipped without one), a broadcast to 200 clients spread over both, then
// 4 senders through the bus for 300 ms; nothing may be lost.
func TestRoomsAcrossInstances(t *testing.T) {
	natsBin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server on PATH (apt-get install nats-server)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	roomsd := filepath.Join(t.TempDir(), "roomsd")
	if err := harness.GoBuild(ctx, filepath.Join("..", "..", "roomsd"), ".", roomsd); err != nil {
		t.Fatal(err)
	}
	var g harness.Group
	defer g.KillAll()
	natsAddr, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(natsAddr, ":")
	if _, err := g.Start(ctx, harness.Spec{Name: "nats-server", Path: natsBin, Args: []string{"-a", host, "-p", port},
		ReadyDial: natsAddr}); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	var procs []*harness.Proc
	for _, name := range []string{"A", "B"} {
		p, err := g.Start(ctx, harness.Spec{Name: "roomsd " + name, Path: roomsd,
			Args: []string{"-addr", "127.0.0.1:0", "-nats", "nats://" + natsAddr, "-name", name}, ReadyTimeout: 15 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
		addrs = append(addrs, p.Addr)
	}

	bcfg := BroadcastConfig{Addr: addrs[0], More: addrs[1:], Clients: 200, Size: 64, Rounds: 3}
	br, err := Broadcast(ctx, bcfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(br.Times) != 3 || !strings.Contains(br.Line(bcfg), "clients=200 ") {
		t.Errorf("broadcast: %s", br.Line(bcfg))
	}

	cfg := BusConfig{Addrs: addrs, Senders: 4, Size: 64, Duration: 300 * time.Millisecond, Window: 8}
	r, err := Bus(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r.Line(cfg))
	if r.Sent == 0 || r.Received != r.Sent || r.Self != r.Sent || r.Missing != 0 || r.Disorder != 0 {
		t.Errorf("bus: %s", r.Line(cfg))
	}
	time.Sleep(1200 * time.Millisecond) // a heartbeat: a loss at the end would be counted
	var published int64
	for _, p := range procs {
		line, err := p.Stop(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		kv, err := harness.ParseKV(line, "stats")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"dropped", "lost", "duplicates", "undelivered", "local_busy", "slow_consumer", "ws_dropped"} {
			if n, err := kv.Int(k); err != nil || n != 0 {
				t.Errorf("%s: %s=%d (%v)", p.Name, k, n, err)
			}
		}
		n, _ := kv.Int("published")
		published += n
	}
	// Every message of both loads was published once: 3 broadcasts and the bus's.
	if want := int64(r.Sent) + 3; published != want {
		t.Errorf("published %d, want %d", published, want)
	}
}
