// Command echo is the guide's first program: a raw TCP echo server on
// uringnet. Every byte a client sends comes back.
//
//	go run ./example/guide/echo -addr 127.0.0.1:9000
//	printf 'hello\n' | nc -q1 127.0.0.1 9000
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

// echo is the Handler. Embedding NopHandler gives it every callback as a
// no-op; it overrides only RawRead.
type echo struct {
	netserver.NopHandler
	s *netserver.Server
}

// RawRead runs on the connection's event loop with the bytes just read.
// data belongs to the server and is valid during the call only: Send
// copies it into the client's output buffer, which the loop flushes with
// one io_uring_enter for the whole batch of completions.
func (e *echo) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		return // the read failed; the client is being closed
	}
	e.s.Send(c, data)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	flag.Parse()

	h := &echo{}
	s, err := netserver.New(netserver.Config{Addrs: []string{*addr}}, h)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	h.s = s

	// Serve runs the loops (one io_uring and OS thread each) until
	// Shutdown; stop on Ctrl-C, letting writes in flight finish.
	// Subscribe before serving, so that a signal that comes at once is
	// not the default one (which kills the process).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	fmt.Println("listening on", s.Addr())
	if err := s.Serve(); !errors.Is(err, netserver.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	fmt.Println("stats", s.Stats())
}
