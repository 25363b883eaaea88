package main

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/websocket"
)

// The demo's WebSocket routes.
const (
	routeEcho  uint8 = iota + 1 // /ws: every message is sent back, text or binary
	routeChat                   // /chat: every message goes to everyone in the room
	routeStats                  // /stats: the live page's feed (incoming messages ignored)
)

// wsDemo is the demo's WebSocket side: which route each connection took
// (one map per loop, touched only by that loop's callbacks), the chat
// room, and message counters.
type wsDemo struct {
	websocket.NopHandler
	ws     *websocket.Server
	live   *liveStats
	routes []map[netserver.ClientNum]uint8 // by loop
	room   room
	in     atomic.Uint64
	out    atomic.Uint64
}

func newWSDemo(hs *http.Server) *wsDemo {
	w := &wsDemo{routes: make([]map[netserver.ClientNum]uint8, hs.Net().Loops())}
	for i := range w.routes {
		w.routes[i] = map[netserver.ClientNum]uint8{}
	}
	w.ws = websocket.NewServer(hs, websocket.Config{}, w)
	return w
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
		w.room.join(c)
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
		members := w.room.list()
		switch err := w.ws.Broadcast(members, w.ws.MessageType(c), data); {
		case err == nil:
			w.out.Add(uint64(len(members)))
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
		w.room.leave(c)
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

// room is the chat's member list. Joins and leaves edit it under a lock
// and mark it changed; list rebuilds the snapshot messages are broadcast
// to only when it changed, so a burst of joins costs no copies.
type room struct {
	mu      sync.Mutex
	members []netserver.ClientNum
	changed atomic.Bool
	current atomic.Pointer[[]netserver.ClientNum]
}

func (r *room) join(c netserver.ClientNum) {
	r.mu.Lock()
	r.members = append(r.members, c)
	r.changed.Store(true)
	r.mu.Unlock()
}

func (r *room) leave(c netserver.ClientNum) {
	r.mu.Lock()
	for i, m := range r.members {
		if m == c {
			r.members[i] = r.members[len(r.members)-1]
			r.members = r.members[:len(r.members)-1]
			break
		}
	}
	r.changed.Store(true)
	r.mu.Unlock()
}

// list returns the members now; the slice must not be modified.
func (r *room) list() []netserver.ClientNum {
	if r.changed.Load() {
		r.mu.Lock()
		if r.changed.Load() {
			l := append([]netserver.ClientNum(nil), r.members...)
			r.current.Store(&l)
			r.changed.Store(false)
		}
		r.mu.Unlock()
	}
	if l := r.current.Load(); l != nil {
		return *l
	}
	return nil
}
