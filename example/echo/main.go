// Command echo is a raw echo server on uringnet: every byte a client sends
// comes back. It prints the address it listens on, stops gracefully on
// SIGINT or SIGTERM, and prints its final stats as one line of key=value
// pairs.
//
// SIGHUP upgrades it (package upgrade): a new process of the same binary
// takes over the listening socket; once it serves, this one stops
// accepting, lets its clients go on for up to -drain-timeout, then closes
// them and exits. Under systemd socket activation it serves on the
// sockets it is given.
//
//	go run ./example/echo -addr 127.0.0.1:9000 [-loops N] [-drain-timeout 10s]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/upgrade"
)

// echo sends back what it reads.
type echo struct {
	netserver.NopHandler
	s *netserver.Server
}

// RawRead copies the bytes into the client's output queue; they go out
// with the loop's next flush.
func (e *echo) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	if !failed {
		e.s.Send(c, data)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	loops := flag.Int("loops", 0, "event loops (default GOMAXPROCS)")
	drain := flag.Duration("drain-timeout", 10*time.Second, "after an upgrade, how long clients may stay before they are closed")
	flag.Parse()
	if err := run(*addr, *loops, *drain); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run(addr string, loops int, drain time.Duration) error {
	up, err := upgrade.New(upgrade.Config{})
	if err != nil {
		return err
	}
	h := &echo{}
	s, err := netserver.New(netserver.Config{Addrs: []string{addr}, Loops: loops, Listeners: up.Listeners()}, h)
	if err != nil {
		return err
	}
	h.s = s
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-s.Ready():
	}
	fmt.Printf("listening on %s\n", s.Addr())
	if err := up.Ready(); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
	}
	// Wait for signals (SIGHUP upgrades, SIGINT or SIGTERM stops), or
	// for Serve to end by itself.
	ctx, cancel := context.WithCancel(context.Background())
	var serveErr error
	served := make(chan struct{})
	go func() {
		serveErr = <-errc
		close(served)
		cancel()
	}()
	if up.Wait(ctx, s) == upgrade.Upgraded {
		// The successor accepts now; the clients here stay until they
		// leave or the drain time is up.
		s.StopAccepting()
		deadline := time.Now().Add(drain)
		for s.Stats().ConnsOpen > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	<-served
	if err := serveErr; err != nil && !errors.Is(err, netserver.ErrServerClosed) {
		return err
	}
	fmt.Printf("stats %s\n", s.Stats())
	return nil
}
