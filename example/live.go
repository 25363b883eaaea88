package main

import (
	"sync"
	"time"

	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/websocket"
)

// liveStats pushes a stats sample (the /stats.json object) once a second
// to every WebSocket client subscribed to /stats, the live page's feed.
//
// Wiring it into the demo (where the WebSocket server is created):
//
//	d.live = newLiveStats(ws, d.stats)           // after websocket.NewServer
//	d.stats.ws = func() wsStats { return wsStatsFrom(ws.Stats(), msgsIn, msgsOut) }
//	go d.live.run(time.Second, stop)             // stop: closed at shutdown
//	// HTTPRead:         case "/stats": if ws.Upgrade(req, c) == nil { d.live.subscribe(c) }
//	// WebSocketClose:   d.live.unsubscribe(c)
type liveStats struct {
	ws  *websocket.Server
	src *counterSources

	mu   sync.Mutex // subscribe runs on any loop, push on its own goroutine
	subs map[netserver.ClientNum]struct{}
}

func newLiveStats(ws *websocket.Server, src *counterSources) *liveStats {
	return &liveStats{ws: ws, src: src, subs: map[netserver.ClientNum]struct{}{}}
}

// subscribe adds c, an upgraded WebSocket connection, to the feed.
func (l *liveStats) subscribe(c netserver.ClientNum) {
	l.mu.Lock()
	l.subs[c] = struct{}{}
	l.mu.Unlock()
}

// unsubscribe removes c (call it from WebSocketClose; unknown c is fine).
func (l *liveStats) unsubscribe(c netserver.ClientNum) {
	l.mu.Lock()
	delete(l.subs, c)
	l.mu.Unlock()
}

// push sends one sample to every subscriber and returns how many there were.
func (l *liveStats) push(now time.Time) int {
	l.mu.Lock()
	clients := make([]netserver.ClientNum, 0, len(l.subs))
	for c := range l.subs {
		clients = append(clients, c)
	}
	l.mu.Unlock()
	if len(clients) == 0 {
		return 0
	}
	s := l.src.take(now)
	l.ws.Broadcast(clients, websocket.OpText, appendStatsJSON(nil, &s))
	return len(clients)
}

// run pushes a sample every interval until stop is closed.
func (l *liveStats) run(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			l.push(now)
		}
	}
}

// wsStatsFrom maps the WebSocket server's counters, and the messages the
// demo counted itself, to what the metrics show.
func wsStatsFrom(st websocket.Stats, messagesIn, messagesOut uint64) wsStats {
	return wsStats{Clients: uint64(max(st.Conns, 0)), Upgrades: st.Upgrades, MessagesIn: messagesIn, MessagesOut: messagesOut}
}
