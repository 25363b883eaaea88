// Command batch is the guide's queue/Submit program: every new connection
// gets a banner made of three linked operations (two writes and a close)
// built with a netserver.Group and submitted together. They run in order,
// and if one fails the rest are cancelled and report failed=true: the
// client never gets half a banner followed by silence.
//
//	go run ./example/guide/batch -addr 127.0.0.1:9002
//	nc 127.0.0.1 9002
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// The banner's parts. The kernel reads them until the RawWrite callbacks,
// so they must not change: immutable package-level bytes are ideal.
var (
	head = []byte("uringnet batch demo\n")
	body = []byte("these two lines were written by one linked group\n")
)

type banner struct {
	netserver.NopHandler
	s                *netserver.Server
	written, cancels atomic.Uint64
}

// Accept queues the group. Operations in a group must all be for clients
// of one loop; here they are all for c.
func (b *banner) Accept(c netserver.ClientNum) {
	g := b.s.NewGroup()
	g.QueueWrite(c, head)
	g.QueueWrite(c, body)
	g.QueueClose(c)
	if err := g.Submit(); err != nil {
		b.s.RawClose(c)
	}
}

// RawWrite fires once per queued write: failed is true when it failed or
// was cancelled because an earlier operation of its group failed.
func (b *banner) RawWrite(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		b.cancels.Add(1)
		return
	}
	b.written.Add(1)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	flag.Parse()

	h := &banner{}
	s, err := netserver.New(netserver.Config{Addrs: []string{*addr}}, h)
	if err != nil {
		fmt.Fprintln(os.Stderr, "batch:", err)
		os.Exit(1)
	}
	h.s = s
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
		fmt.Fprintln(os.Stderr, "batch:", err)
		os.Exit(1)
	}
	fmt.Printf("stats %s writes=%d failed=%d\n", s.Stats(), h.written.Load(), h.cancels.Load())
}
