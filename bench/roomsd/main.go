// Command roomsd is the server of the WebSocket rooms benchmark (issue
// 12): uringnet's HTTP and WebSocket servers with a rooms.Hub, joined to
// the other instances over NATS (rooms/natsbus) with -nats, or local
// without it.
//
//	roomsd -addr 127.0.0.1:0 [-loops 1] [-nats nats://127.0.0.1:4222] [-name A]
//
// A WebSocket connection to /chat is a member of the room "chat", one to
// /room/NAME a member of NAME; every message it sends is broadcast to its
// room (rooms.Hub.Broadcast: its local members at once, the other
// instances' through the bus), the sender included. GET /stats?room=NAME
// answers one line, "stats key=value ...", with the Hub's counters, the
// bus's state, the WebSocket server's counters and, with room=, that
// room's members here (local=) and on every instance (presence=, from
// the others' heartbeats). It prints "listening on ADDR", runs until
// SIGINT or SIGTERM, and prints the same stats line at the end.
//
// It is a module of its own (with a replace of the repository root), so
// that the bench module does not depend on uringnet or NATS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/rooms/natsbus"
	"github.com/uringnet/uringnet/websocket"
)

type options struct {
	addr  string
	loops int
	nats  string
	name  string
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8090", "listen address")
	flag.IntVar(&o.loops, "loops", 1, "event loops")
	flag.StringVar(&o.nats, "nats", "", "NATS server URL (nats://HOST:PORT); empty: rooms on this instance only")
	flag.StringVar(&o.name, "name", "roomsd", "the NATS connection's name")
	flag.Parse()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if err := run(o, sig); err != nil {
		fmt.Fprintln(os.Stderr, "roomsd:", err)
		os.Exit(1)
	}
}

// server is the HTTP and WebSocket handler: each WebSocket connection's
// room, by loop (each map touched by its loop's callbacks only).
type server struct {
	http.NopHTTPHandler
	websocket.NopHandler
	hs    *http.Server
	ws    *websocket.Server
	hub   *rooms.Hub
	room  []map[netserver.ClientNum]string
	busy  atomic.Uint64 // Broadcasts whose local delivery a loop was too far behind for
	other atomic.Uint64 // Broadcasts that failed otherwise (ErrDropped is counted by the Hub)
}

// roomOf returns the room of a WebSocket path, "" for none.
func roomOf(path string) string {
	if path == "/chat" {
		return "chat"
	}
	if name, ok := strings.CutPrefix(path, "/room/"); ok && name != "" && !strings.Contains(name, "/") {
		return name
	}
	return ""
}

func (s *server) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	path := string(req.Path)
	if name := roomOf(path); name != "" && req.Upgrade {
		if s.ws.Upgrade(req, c) != nil {
			return
		}
		s.room[c.Loop()][c] = name
		s.hub.Join(name, c)
		return
	}
	if path == "/stats" {
		q, _ := url.ParseQuery(string(req.Query))
		s.hs.Respond(c, 200, "text/plain", []byte(s.statsLine(q.Get("room"))+"\n"))
		return
	}
	s.hs.RespondError(c, 404)
}

func (s *server) WebSocketRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	name := s.room[c.Loop()][c]
	if name == "" {
		return
	}
	switch err := s.hub.Broadcast(name, s.ws.MessageType(c), data); {
	case err == nil, errors.Is(err, rooms.ErrDropped):
	case errors.Is(err, websocket.ErrBusy):
		s.busy.Add(1)
	default:
		s.other.Add(1)
	}
}

func (s *server) WebSocketClose(c netserver.ClientNum) {
	if name := s.room[c.Loop()][c]; name != "" {
		s.hub.Leave(name, c)
		delete(s.room[c.Loop()], c)
	}
}

// statsLine is the "stats key=value ..." line: the Hub's counters, the
// bus's, the WebSocket server's, and with room its members.
func (s *server) statsLine(room string) string {
	st := s.hub.Stats()
	ws := s.ws.Stats()
	state := st.Bus.State
	if state == "" {
		state = "none"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stats backend=%s bus=%s rooms=%d members=%d sent=%d published=%d dropped=%d queued=%d "+
		"received=%d lost=%d duplicates=%d echoes=%d malformed=%d undelivered=%d heartbeats=%d subscribe_errors=%d "+
		"disconnects=%d reconnects=%d slow_consumer=%d local_busy=%d broadcast_errors=%d "+
		"ws_conns=%d ws_dropped=%d ws_overflows=%d ws_slow=%d ws_timeouts=%d",
		s.hs.Net().Backend(), state, st.Rooms, st.Members, st.Sent, st.Published, st.Dropped, st.Queued,
		st.Received, st.Lost, st.Duplicates, st.Echoes, st.Malformed, st.Undelivered, st.Heartbeats, st.SubscribeErrors,
		st.Bus.Disconnects, st.Bus.Reconnects, st.Bus.SlowConsumer, s.busy.Load(), s.other.Load(),
		ws.Conns, ws.Dropped, ws.QueueOverflows, ws.SlowConsumers, ws.Timeouts)
	if room != "" {
		fmt.Fprintf(&b, " local=%d presence=%d", s.hub.Local(room), s.hub.Presence(room))
	}
	return b.String()
}

func run(o options, stop <-chan os.Signal) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := &server{}
	hs, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{o.addr}, Loops: o.loops, Logger: log}}, s)
	if err != nil {
		return err
	}
	s.hs = hs
	s.room = make([]map[netserver.ClientNum]string, hs.Net().Loops())
	for i := range s.room {
		s.room[i] = map[netserver.ClientNum]string{}
	}
	s.ws = websocket.NewServer(hs, websocket.Config{CheckOrigin: func(string, string) bool { return true }}, s)
	var bus *natsbus.Bus
	cfg := rooms.Config{Logger: log}
	if o.nats != "" {
		if bus, err = natsbus.Dial(natsbus.Config{URL: o.nats, Name: o.name, Logger: log}); err != nil {
			return err
		}
		defer bus.Close()
		cfg.Bus = bus
	}
	if s.hub, err = rooms.New(s.ws, cfg); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-hs.Ready():
	}
	if bus != nil {
		// Announce the server once the bus is up, so that the first room
		// subscribes at once.
		deadline := time.Now().Add(10 * time.Second)
		for !bus.Status().Connected() {
			if time.Now().After(deadline) {
				return fmt.Errorf("NATS at %s: not connected after 10 s (%s)", o.nats, bus.Status().LastError)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	fmt.Printf("listening on %s\n", hs.Addr())
	select {
	case err := <-errc:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The counters before the connections close (which empties the rooms).
	line := s.statsLine("")
	if err := s.hub.Shutdown(ctx); err != nil {
		log.Warn("rooms shutdown", "err", err)
	}
	wsCtx, wsCancel := context.WithTimeout(ctx, 2*time.Second)
	if err := s.ws.Shutdown(wsCtx); err != nil {
		log.Warn("websocket shutdown", "err", err)
	}
	wsCancel()
	if err := hs.Shutdown(ctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, netserver.ErrServerClosed) {
		return err
	}
	fmt.Println(line)
	return nil
}
