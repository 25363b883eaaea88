// Command wsload is the WebSocket benchmark's load generator (a
// gorilla/websocket client):
//
//	wsload -mode echo -addr HOST:PORT -conns 64 -size 32 -duration 5s
//	wsload -mode broadcast -addr HOST:PORT -clients 10000 -size 64 -rounds 5 -pid PID
//	wsload -mode broadcast -addr HOST:PORT -more HOST:PORT,... -clients 10000 -size 64 -rounds 5
//	wsload -mode bus -addr HOST:PORT -more HOST:PORT -senders 100 -size 64 -window 16 -duration 5s
//
// echo drives /ws with one message in flight per connection; broadcast
// fills the /chat room and times each message until the last client has
// it, reading the server's RSS (from /proc/PID) before and after the
// clients connected; with -more the room spans several bench/roomsd
// instances, the clients spread over them in turn (the sender on -addr).
// bus sends through the rooms bus between bench/roomsd instances: each
// sender has a room of its own with one receiver on the next instance
// (wsbench.Bus). Each prints one "result key=value ..." line.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
	"github.com/uringnet/uringnet/bench/internal/wsbench"
)

func main() {
	mode := flag.String("mode", "echo", "echo or broadcast")
	addr := flag.String("addr", "127.0.0.1:8080", "server address")
	conns := flag.Int("conns", 64, "echo: connections")
	size := flag.Int("size", 32, "message size in bytes")
	duration := flag.Duration("duration", 5*time.Second, "echo: run length")
	clients := flag.Int("clients", 10000, "broadcast: clients in the room")
	rounds := flag.Int("rounds", 5, "broadcast: messages, one at a time")
	pid := flag.Int("pid", 0, "broadcast: the server's pid, for its RSS")
	more := flag.String("more", "", "broadcast, bus: the other instances (bench/roomsd), comma-separated")
	senders := flag.Int("senders", 100, "bus: senders, each with a room and a receiver of its own")
	window := flag.Int("window", 16, "bus: messages in flight per sender")
	flag.Parse()
	var others []string
	for a := range strings.SplitSeq(*more, ",") {
		if a = strings.TrimSpace(a); a != "" {
			others = append(others, a)
		}
	}
	ctx := context.Background()
	switch *mode {
	case "echo":
		cfg := wsbench.EchoConfig{Addr: *addr, Conns: *conns, Size: *size, Duration: *duration}
		r, err := wsbench.Echo(ctx, cfg)
		if err != nil {
			fail(err)
		}
		fmt.Println(r.Line(cfg))
	case "broadcast":
		if _, err := harness.RaiseNoFile(uint64(*clients) + 1024); err != nil {
			fail(err)
		}
		cfg := wsbench.BroadcastConfig{Addr: *addr, More: others, Clients: *clients, Size: max(*size, 8), Rounds: *rounds, Pid: *pid, Settle: time.Second}
		r, err := wsbench.Broadcast(ctx, cfg)
		if err != nil {
			fail(err)
		}
		fmt.Println(r.Line(cfg))
	case "bus":
		if _, err := harness.RaiseNoFile(uint64(*senders)*2 + 1024); err != nil {
			fail(err)
		}
		cfg := wsbench.BusConfig{Addrs: append([]string{*addr}, others...), Senders: *senders, Size: max(*size, 16),
			Duration: *duration, Window: *window}
		r, err := wsbench.Bus(ctx, cfg)
		if err != nil {
			fail(err)
		}
		fmt.Println(r.Line(cfg))
	default:
		fail(fmt.Errorf("unknown -mode %q", *mode))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wsload:", err)
	os.Exit(1)
}
