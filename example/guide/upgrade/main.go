// Command upgrade is the guide's zero-downtime program: an HTTP server
// that replaces its own process on SIGHUP without refusing a connection,
// serves on systemd's sockets when socket-activated, and answers /healthz
// and /readyz for an orchestrator.
//
//	go run ./example/guide/upgrade -addr 127.0.0.1:8080 &
//	curl http://127.0.0.1:8080/     # "hello from process N"
//	kill -HUP %1                    # a new process takes over; N changes
//	systemd-socket-activate -l 127.0.0.1:8080 ./upgrade   # socket activation
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/upgrade"
)

type server struct {
	http.NopHTTPHandler
	s *http.Server
}

func (h *server) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	switch string(req.Path) {
	case "/healthz": // alive: the process answers
		h.s.Respond(c, 200, "text/plain", []byte("ok\n"))
	case "/readyz": // ready: 503 once a drain began, so the load balancer stops sending
		if h.s.Draining() {
			h.s.Respond(c, 503, "text/plain", []byte("draining\n"))
			return
		}
		h.s.Respond(c, 200, "text/plain", []byte("ready\n"))
	default:
		h.s.Respond(c, 200, "text/plain", fmt.Appendf(nil, "hello from process %d\n", os.Getpid()))
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (unless given sockets)")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "upgrade:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	// 1. The sockets this process was given, by its predecessor or by
	//    systemd; none when it starts afresh.
	up, err := upgrade.New(upgrade.Config{})
	if err != nil {
		return err
	}
	h := &server{}
	s, err := http.NewServer(http.Config{Net: netserver.Config{
		Addrs:     []string{addr}, // not bound again when a given socket covers it
		Listeners: up.Listeners(),
	}}, h)
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
	fmt.Println("listening on", s.Addr())
	// 2. Serving: tell the predecessor, which now drains and exits.
	if err := up.Ready(); err != nil {
		return err
	}
	// 3. Signals: SIGHUP upgrades (and Wait returns once the successor
	//    serves), SIGINT or SIGTERM stops.
	if up.Wait(context.Background(), s.Net()) == upgrade.Upgraded {
		// 4. Drain: no more accepts, requests in flight finish, keep-alive
		//    connections close after their next response.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s.Drain(ctx)
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
		return err
	}
	return nil
}
