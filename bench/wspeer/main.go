// Command wspeer is the gorilla/websocket peer of the WebSocket benchmark:
// a net/http server with /ws, an echo (text and binary), and /chat, a room
// in the style of gorilla's chat example (a hub, a buffered send channel
// and a writer goroutine per client; a client whose channel is full is
// dropped). It prints "listening on ADDR" and runs until SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "wspeer:", err)
		os.Exit(1)
	}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// hub is the chat room.
type hub struct {
	mu      sync.Mutex
	clients map[*client]bool
}

type client struct {
	c    *websocket.Conn
	send chan []byte
}

func (h *hub) broadcast(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cl := range h.clients {
		select {
		case cl.send <- msg:
		default:
			delete(h.clients, cl)
			close(cl.send)
		}
	}
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	cl := &client{c: c, send: make(chan []byte, 256)}
	h.mu.Lock()
	h.clients[cl] = true
	h.mu.Unlock()
	go func() {
		for msg := range cl.send {
			if c.WriteMessage(websocket.TextMessage, msg) != nil {
				break
			}
		}
		c.Close()
	}()
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			break
		}
		h.broadcast(msg)
	}
	h.mu.Lock()
	if h.clients[cl] {
		delete(h.clients, cl)
		close(cl.send)
	}
	h.mu.Unlock()
}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if c.WriteMessage(mt, msg) != nil {
			return
		}
	}
}

func run(addr string) error {
	h := &hub{clients: map[*client]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", echo)
	mux.HandleFunc("/chat", h.serve)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	fmt.Printf("listening on %s\n", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
