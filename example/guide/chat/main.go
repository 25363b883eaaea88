// Command chat is the guide's WebSocket program: a chat room. The page at
// / connects to /ws; every message a client sends goes to every client in
// the room, encoded once and shared (websocket.Server.Broadcast).
//
//	go run ./example/guide/chat -addr 127.0.0.1:8081
//	(open http://127.0.0.1:8081/ in two browser tabs)
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

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/websocket"
)

// page is the whole client: an input, a button and a log.
var page = []byte(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>chat</title></head><body>
<h1>chat</h1>
<form id="form"><input id="message" autocomplete="off" autofocus> <button id="send">send</button></form>
<pre id="log"></pre>
<script>
const log = document.getElementById("log"), input = document.getElementById("message");
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onmessage = (ev) => { log.textContent += ev.data + "\n"; };
ws.onclose = () => { log.textContent += "(disconnected)\n"; };
document.getElementById("form").onsubmit = (ev) => {
  ev.preventDefault();
  if (input.value !== "") { ws.send(input.value); input.value = ""; }
};
</script></body></html>
`)

// room is both the HTTP handler (the page and the upgrade) and the
// WebSocket handler (messages in, broadcasts out).
type room struct {
	http.NopHTTPHandler
	websocket.NopHandler
	hs *http.Server
	ws *websocket.Server

	mu      sync.Mutex // callbacks of different loops run at once
	members map[netserver.ClientNum]bool
}

// HTTPRead serves the page, and upgrades /ws. After Upgrade, c belongs to
// the WebSocket server.
func (r *room) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	switch string(req.Path) {
	case "/":
		r.hs.Respond(c, 200, "text/html; charset=utf-8", page)
	case "/ws":
		if err := r.ws.Upgrade(req, c); err == nil {
			r.mu.Lock()
			r.members[c] = true
			r.mu.Unlock()
		}
	default:
		r.hs.RespondError(c, 404)
	}
}

// WebSocketRead gets one whole message; data is valid during the call only,
// which is enough: Broadcast encodes it before returning.
func (r *room) WebSocketRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	r.mu.Lock()
	clients := make([]netserver.ClientNum, 0, len(r.members))
	for m := range r.members {
		clients = append(clients, m)
	}
	r.mu.Unlock()
	r.ws.Broadcast(clients, websocket.OpText, data)
}

// WebSocketClose removes a member that left.
func (r *room) WebSocketClose(c netserver.ClientNum) {
	r.mu.Lock()
	delete(r.members, c)
	r.mu.Unlock()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()

	r := &room{members: map[netserver.ClientNum]bool{}}
	hs, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{*addr}}}, r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
	r.hs = hs
	r.ws = websocket.NewServer(hs, websocket.Config{}, r) // before Serve
	// Subscribe before serving, so that a signal that comes at once is
	// not the default one (which kills the process).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	}()
	fmt.Println("listening on", hs.Addr())
	if err := hs.Serve(); !errors.Is(err, netserver.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
	st := r.ws.Stats()
	fmt.Printf("stats %s upgrades=%d\n", hs.Stats(), st.Upgrades)
}
