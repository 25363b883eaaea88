// Command cluster is the guide's chat across instances: the chat of
// ../chat with its room kept by a rooms.Hub, which, given -nats, joins
// the room of every instance started with the same NATS server.
//
//	nats-server -a 127.0.0.1 -p 4222 &
//	go run ./example/guide/cluster -addr 127.0.0.1:8081 -nats nats://127.0.0.1:4222 &
//	go run ./example/guide/cluster -addr 127.0.0.1:8082 -nats nats://127.0.0.1:4222
//	(open http://127.0.0.1:8081/ and http://127.0.0.1:8082/)
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
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/rooms/natsbus"
	"github.com/uringnet/uringnet/websocket"
)

// page is the whole client: an input, a button, a log, and the room's
// members on every instance.
var page = []byte(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>cluster chat</title></head><body>
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

// chat is the HTTP and WebSocket handler; the Hub keeps the members.
type chat struct {
	http.NopHTTPHandler
	websocket.NopHandler
	hs  *http.Server
	ws  *websocket.Server
	hub *rooms.Hub
}

// HTTPRead serves the page, /presence (the room's members on every
// instance) and the upgrade of /ws, which joins the room.
func (h *chat) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	switch string(req.Path) {
	case "/":
		h.hs.Respond(c, 200, "text/html; charset=utf-8", page)
	case "/presence":
		h.hs.Respond(c, 200, "text/plain", fmt.Appendf(nil, "%d\n", h.hub.Presence("chat")))
	case "/ws":
		if err := h.ws.Upgrade(req, c); err == nil {
			h.hub.Join("chat", c)
		}
	default:
		h.hs.RespondError(c, 404)
	}
}

// WebSocketRead sends a message to the room: here at once, and through
// the bus to the other instances.
func (h *chat) WebSocketRead(data []byte, c netserver.ClientNum, failed bool) {
	if !failed {
		h.hub.Broadcast("chat", websocket.OpText, data)
	}
}

// WebSocketClose takes a member that left out of the room.
func (h *chat) WebSocketClose(c netserver.ClientNum) { h.hub.Leave("chat", c) }

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	natsURL := flag.String("nats", "", "NATS server joining the instances (none: this instance's room only)")
	flag.Parse()
	if err := run(*addr, *natsURL); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(addr, natsURL string) error {
	h := &chat{}
	hs, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{addr}}}, h)
	if err != nil {
		return err
	}
	h.hs = hs
	h.ws = websocket.NewServer(hs, websocket.Config{}, h) // before Serve
	var cfg rooms.Config
	if natsURL != "" {
		bus, err := natsbus.Dial(natsbus.Config{URL: natsURL, Name: "cluster " + addr})
		if err != nil {
			return err
		}
		defer bus.Close()
		cfg.Bus = bus
	}
	if h.hub, err = rooms.New(h.ws, cfg); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.hub.Shutdown(ctx) // publish what is queued, then stop
		hs.Shutdown(ctx)
	}()
	fmt.Println("listening on", hs.Addr())
	if err := hs.Serve(); !errors.Is(err, netserver.ErrServerClosed) {
		return err
	}
	st := h.hub.Stats()
	fmt.Printf("stats published=%d received=%d dropped=%d lost=%d bus=%s\n",
		st.Published, st.Received, st.Dropped, st.Lost, st.Bus.State)
	return nil
}
