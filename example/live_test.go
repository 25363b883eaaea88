package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	uws "github.com/uringnet/uringnet/websocket"
)

// liveHandler is a minimal server with the /stats feed wired as the demo
// should wire it.
type liveHandler struct {
	http.NopHTTPHandler
	uws.NopHandler
	ws   *uws.Server
	live *liveStats
}

func (h *liveHandler) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	if string(req.Path) == "/stats" && h.ws.Upgrade(req, c) == nil {
		h.live.subscribe(c)
	}
}

func (h *liveHandler) WebSocketClose(c netserver.ClientNum) { h.live.unsubscribe(c) }

func TestLiveStats(t *testing.T) {
	h := &liveHandler{}
	hs, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1}}, h)
	if err != nil {
		t.Fatal(err)
	}
	h.ws = uws.NewServer(hs, uws.Config{}, h)
	src := &counterSources{loops: 1, net: hs.Stats, requests: hs.Requests,
		ws: func() wsStats { return wsStatsFrom(h.ws.Stats(), 0, 0) }}
	h.live = newLiveStats(h.ws, src)
	done := make(chan error, 1)
	go func() { done <- hs.Serve() }()
	stop := make(chan struct{})
	go h.live.run(50*time.Millisecond, stop)
	defer func() {
		close(stop)
		hs.Shutdown(context.Background())
		<-done
	}()

	if n := h.live.push(time.Now()); n != 0 {
		t.Errorf("push without subscribers reached %d", n)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws://"+hs.Addr().String()+"/stats", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var prev int64
	for i := range 2 {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var s statsJSON
		if err := json.Unmarshal(msg, &s); err != nil {
			t.Fatalf("%v: %s", err, msg)
		}
		if s.WebSocket == nil || s.WebSocket.Clients != 1 || s.WebSocket.Upgrades != 1 || s.Connections != 1 || s.TimeMs <= prev {
			t.Fatalf("sample %d: %s", i, msg)
		}
		if s.Backend != hs.Net().Backend() {
			t.Errorf("sample %d: backend %q, the server runs on %q", i, s.Backend, hs.Net().Backend())
		}
		checkBackend(t, "the live feed", s.Backend)
		if s.PID != os.Getpid() {
			t.Errorf("sample %d: pid %d, the server's process is %d", i, s.PID, os.Getpid())
		}
		prev = s.TimeMs
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for h.live.push(time.Now()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.live.push(time.Now()); n != 0 {
		t.Errorf("a closed client is still subscribed (%d)", n)
	}
}
