// Command nethttp is the guide's net/http program: a standard ServeMux,
// with a chi sub-router mounted under /api/, a file server and a
// gorilla/websocket echo, served by uringnet through the stdhttp adapter.
// The handlers are plain net/http code: nothing in them knows about rings,
// except /native, which hands its WebSocket to the loops (TakeOver).
//
//	go run ./example/guide/nethttp -addr 127.0.0.1:8082
//	curl 'http://127.0.0.1:8082/hello?name=gopher'
//	curl http://127.0.0.1:8082/api/users/42
//	curl http://127.0.0.1:8082/files/main.go
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/stdhttp"
	uws "github.com/uringnet/uringnet/websocket"
)

// api is a chi router: URL parameters, middleware, its own 404 and 405.
func api() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recoverer)
	r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", middleware.GetReqID(r.Context()))
		fmt.Fprintf(w, "user %s\n", chi.URLParam(r, "id"))
	})
	r.Post("/echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body) // the body streams from the ring
	})
	return r
}

// upgrader upgrades /ws through the adapter's Hijack.
var upgrader websocket.Upgrader

// echo sends every WebSocket message back.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil) // answers the handshake itself on error
	if err != nil {
		return
	}
	defer c.Close()
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(typ, msg); err != nil {
			return
		}
	}
}

// nativeEcho is a WebSocket echo of uringnet's own (section 3): it runs on
// the loops, with no goroutine per connection.
type nativeEcho struct {
	uws.NopHandler
	ws *uws.Server
}

// WebSocketRead sends every message back, on the connection's loop.
func (e *nativeEcho) WebSocketRead(data []byte, c netserver.ClientNum, failed bool) {
	if !failed {
		e.ws.Send(c, e.ws.MessageType(c), data) // Send copies data
	}
}

// ServeHTTP hands the request to the native WebSocket server: the upgrade
// runs on the connection's loop, and the connection is the loops' from
// then on.
func (e *nativeEcho) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	stdhttp.TakeOver(w, func(req *uhttp.Request, c netserver.ClientNum) {
		e.ws.Upgrade(req, c) // answers a bad handshake itself
	})
}

// routes is the whole site: a ServeMux as any net/http program has.
func routes(root string, native http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		fmt.Fprintf(w, "Hello, %s!\n", name)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		// Blocking is fine: this handler has a goroutine of its own.
		select {
		case <-time.After(100 * time.Millisecond):
			io.WriteString(w, "done after 100 ms\n")
		case <-r.Context().Done(): // the client left, or the server is shutting down
		}
	})
	mux.Handle("/api/", http.StripPrefix("/api", api()))
	mux.Handle("GET /files/", http.StripPrefix("/files/", http.FileServer(http.Dir(root))))
	mux.HandleFunc("GET /ws", echo)
	mux.Handle("GET /native", native)
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	root := flag.String("root", ".", "directory served under /files/")
	maxHandlers := flag.Int("max-handlers", stdhttp.DefaultMaxHandlers, "handlers running at once")
	flag.Parse()

	// The one-liner is stdhttp.ListenAndServe(*addr, mux); a Server gives
	// the address before serving, the server beneath (for the native
	// WebSocket server) and a clean shutdown.
	native := &nativeEcho{}
	s := &stdhttp.Server{Addr: *addr, Handler: routes(*root, native), MaxHandlers: *maxHandlers}
	if err := s.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
	native.ws = uws.NewServer(s.Uringnet(), uws.Config{}, native) // after Listen, before Serve
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		native.ws.Shutdown(ctx) // native WebSockets get their close frame first
		s.Shutdown(ctx)         // running handlers finish; idle connections close
	}()
	fmt.Println("listening on", s.BoundAddr())
	if err := s.Serve(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
	c := s.Counters()
	fmt.Printf("stats requests=%d waited=%d panics=%d hijacked=%d upgrades=%d\n",
		c.Requests, c.Waited, c.Panics, c.Hijacked, native.ws.Stats().Upgrades)
}
