package main

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/websocket"
)

// The demo's WebSocket routes.
const (
	routeEcho  uint8 = iota + 1 // /ws: every message is sent back, text or binary
	routeChat                   // /chat: every message goes to everyone in the room
	routeStats                  // /stats: the live page's feed (incoming messages ignored)
)

// chatRoom is the room of /chat, on every instance.
const chatRoom = "chat"

// wsDemo is the demo's WebSocket side: which route each connection took
// (one map per loop, touched only by that loop's callbacks), the rooms
// (the chat's), and message counters.
type wsDemo struct {
	websocket.NopHandler
	ws     *websocket.Server
	live   *liveStats
	routes []map[netserver.ClientNum]uint8 // by loop
	// hub holds the chat room: this instance's members, and with a bus
	// (-nats) the other instances'.
	hub *rooms.Hub
	bus bool // the Hub has a bus
	in  atomic.Uint64
	out atomic.Uint64
}

// newWSDemo makes the WebSocket server of hs and the Hub of its rooms:
// hubCfg.Bus nil keeps the chat on this instance.
func newWSDemo(hs *http.Server, hubCfg rooms.Config) (*wsDemo, error) {
	w := &wsDemo{routes: make([]map[netserver.ClientNum]uint8, hs.Net().Loops())}
	for i := range w.routes {
		w.routes[i] = map[netserver.ClientNum]uint8{}
	}
	w.ws = websocket.NewServer(hs, websocket.Config{}, w)
	hub, err := rooms.New(w.ws, hubCfg)
	if err != nil {
		return nil, fmt.Errorf("chat room: %w", err)
	}
	w.hub, w.bus = hub, hubCfg.Bus != nil
	return w, nil
}

// route returns the WebSocket route of a path, 0 for none.
func wsRoute(path string) uint8 {
	switch path {
	case "/ws":
		return routeEcho
	case "/chat":
		return routeChat
	case "/stats":
		return routeStats
	}
	return 0
}

// upgrade takes c over for route r (from HTTPRead). A bad handshake has
// been answered by Upgrade.
func (w *wsDemo) upgrade(req *http.Request, c netserver.ClientNum, r uint8) {
	if w.ws.Upgrade(req, c) != nil {
		return
	}
	w.routes[c.Loop()][c] = r
	switch r {
	case routeChat:
		w.hub.Join(chatRoom, c)
	case routeStats:
		if w.live != nil {
			w.live.subscribe(c)
		}
	}
}

// WebSocketRead echoes (/ws) or broadcasts to the room (/chat).
func (w *wsDemo) WebSocketRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	w.in.Add(1)
	switch w.routes[c.Loop()][c] {
	case routeEcho:
		if w.ws.Send(c, w.ws.MessageType(c), data) == nil {
			w.out.Add(1)
		}
	case routeChat:
		// The local members (the sender too) get it at once, the other
		// instances' through the bus.
		switch err := w.hub.Broadcast(chatRoom, w.ws.MessageType(c), data); {
		case err == nil, errors.Is(err, rooms.ErrDropped):
			// ErrDropped: the bus's queue was full (an outage longer
			// than it holds), so only this instance's members got it;
			// the Hub counts it, and the sender is not to blame.
			w.out.Add(uint64(w.hub.Local(chatRoom)))
		case errors.Is(err, websocket.ErrBusy):
			// The room cannot keep up with this sender: 1013, Try Again
			// Later, rather than a backlog without end.
			w.ws.Close(c, 1013, "sending too fast")
		}
	}
}

// WebSocketClose forgets c.
func (w *wsDemo) WebSocketClose(c netserver.ClientNum) {
	switch w.routes[c.Loop()][c] {
	case routeChat:
		w.hub.Leave(chatRoom, c)
	case routeStats:
		if w.live != nil {
			w.live.unsubscribe(c)
		}
	}
	delete(w.routes[c.Loop()], c)
}

// stats maps the counters for /metrics and the live page.
func (w *wsDemo) stats() wsStats {
	st := w.ws.Stats()
	s := wsStatsFrom(st, w.in.Load(), w.out.Load())
	s.QueueOverflows, s.SlowConsumers, s.MessageTimeouts = st.QueueOverflows, st.SlowConsumers, st.Timeouts
	s.BroadcastsDropped = st.Dropped
	return s
}
