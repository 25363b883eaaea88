// Command nethttp is the guide's net/http program: a standard ServeMux,
// with a chi sub-router mounted under /api/, a file server and a
// gorilla/websocket echo, served by uringnet through the stdhttp adapter.
// The handlers are plain net/http code: nothing in them knows about rings.
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

	"github.com/uringnet/uringnet/stdhttp"
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

// routes is the whole site: a ServeMux as any net/http program has.
func routes(root string) http.Handler {
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
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	root := flag.String("root", ".", "directory served under /files/")
	maxHandlers := flag.Int("max-handlers", stdhttp.DefaultMaxHandlers, "handlers running at once")
	flag.Parse()

	// The one-liner is stdhttp.ListenAndServe(*addr, routes(*root)); a
	// Server gives the address before serving and a clean shutdown.
	s := &stdhttp.Server{Addr: *addr, Handler: routes(*root), MaxHandlers: *maxHandlers}
	if err := s.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx) // running handlers finish; idle connections close
	}()
	fmt.Println("listening on", s.BoundAddr())
	if err := s.Serve(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "nethttp:", err)
		os.Exit(1)
	}
	c := s.Counters()
	fmt.Printf("stats requests=%d waited=%d panics=%d hijacked=%d\n", c.Requests, c.Waited, c.Panics, c.Hijacked)
}
