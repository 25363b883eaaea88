// Command hello is the guide's HTTP program: a handler with a few routes,
// one of which answers later, from another goroutine.
//
//	go run ./example/guide/hello -addr 127.0.0.1:8080
//	curl http://127.0.0.1:8080/hello?name=gopher
//	curl http://127.0.0.1:8080/slow
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

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// hello is the HTTPHandler; NopHTTPHandler supplies the callbacks it does
// not need.
type hello struct {
	http.NopHTTPHandler
	s *http.Server
}

// HTTPRead runs on the event loop as soon as a request head is complete.
// req and its slices are valid during the call only. It must not block:
// answer now, or hand the work to a goroutine that answers later.
func (h *hello) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	switch string(req.Path) {
	case "/":
		h.s.Respond(c, 200, "text/plain; charset=utf-8", []byte("try /hello?name=you or /slow\n"))
	case "/hello":
		name := "world"
		if q := string(req.Query); len(q) > 5 && q[:5] == "name=" {
			name = q[5:]
		}
		h.s.Respond(c, 200, "text/plain; charset=utf-8", fmt.Appendf(nil, "Hello, %s!\n", name))
	case "/slow":
		// Long work leaves the loop; Respond is safe from any goroutine.
		// Responses still go out in request order on this connection.
		go func() {
			time.Sleep(100 * time.Millisecond)
			h.s.Respond(c, 200, "text/plain; charset=utf-8", []byte("done after 100 ms\n"))
		}()
	default:
		h.s.RespondError(c, 404)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	h := &hello{}
	s, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{*addr}}}, h)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
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
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	fmt.Printf("stats %s requests=%d\n", s.Stats(), s.Requests())
}
