// Command events is the guide's custom-event program: a goroutine outside
// the event loops fires an eventfd-backed event every -every, and the
// loop's EventTrigger callback sends a "tick N" line to every connected
// client.
//
//	go run ./example/guide/events -addr 127.0.0.1:9001
//	nc 127.0.0.1 9001
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// ticker keeps the connected clients. Callbacks of different loops may run
// at once, so the set has a mutex.
type ticker struct {
	netserver.NopHandler
	s       *netserver.Server
	mu      sync.Mutex
	clients map[netserver.ClientNum]bool
}

func (t *ticker) Accept(c netserver.ClientNum) {
	t.mu.Lock()
	t.clients[c] = true
	t.mu.Unlock()
}

func (t *ticker) RawClose(c netserver.ClientNum, _ error) {
	t.mu.Lock()
	delete(t.clients, c)
	t.mu.Unlock()
}

// EventTrigger runs on the event's loop once per trigger, with the info
// given to EventPrepare. Send is safe for clients of any loop.
func (t *ticker) EventTrigger(ev netserver.ClientNum, info uint64) {
	t.mu.Lock()
	clients := make([]netserver.ClientNum, 0, len(t.clients))
	for c := range t.clients {
		clients = append(clients, c)
	}
	t.mu.Unlock() // not held while calling into the server
	line := fmt.Appendf(nil, "tick %d (event %v)\n", info, ev)
	for _, c := range clients {
		t.s.Send(c, line) // Send copies line
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	every := flag.Duration("every", time.Second, "time between ticks")
	flag.Parse()

	h := &ticker{clients: map[netserver.ClientNum]bool{}}
	s, err := netserver.New(netserver.Config{Addrs: []string{*addr}}, h)
	if err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
	h.s = s
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()

	// An event is an eventfd on a loop's ring, so EventOpen needs running
	// loops: wait until the server is ready (or failed to start).
	select {
	case <-s.Ready():
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
	ev, err := s.EventOpen()
	if err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
	// The info is what the callback receives; EventPrepare may be called
	// again to change it. EventTrigger never blocks and works from any
	// goroutine.
	stop := make(chan struct{})
	go func() {
		for n := uint64(1); ; n++ {
			select {
			case <-stop:
				return
			case <-time.After(*every):
			}
			s.EventPrepare(ev, n)
			s.EventTrigger(ev)
		}
	}()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	fmt.Println("listening on", s.Addr())
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	case <-sig:
	}
	close(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
	fmt.Println("stats", s.Stats())
}
