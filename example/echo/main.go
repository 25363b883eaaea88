// Command echo is a raw echo server on uringnet: every byte a client sends
// comes back. It prints the address it listens on, stops gracefully on
// SIGINT or SIGTERM, and prints its final stats as one line of key=value
// pairs.
//
//	go run ./example/echo -addr 127.0.0.1:9000 [-loops N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/netserver"
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
	flag.Parse()
	if err := run(*addr, *loops); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run(addr string, loops int) error {
	h := &echo{}
	s, err := netserver.New(netserver.Config{Addrs: []string{addr}, Loops: loops}, h)
	if err != nil {
		return err
	}
	h.s = s
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("listening on %s\n", s.Addr())
	select {
	case err := <-errc:
		return err
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	if err := <-errc; err != nil && !errors.Is(err, netserver.ErrServerClosed) {
		return err
	}
	fmt.Printf("stats %s\n", s.Stats())
	return nil
}
