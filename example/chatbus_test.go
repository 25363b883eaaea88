package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/rooms"
)

// natsNowhere returns a NATS URL on a loopback port nothing listens on.
func natsNowhere(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "nats://" + addr
}

// With -nats and no NATS server answering, the demo starts anyway (the
// bus keeps trying), its chat works on this instance, and /stats.json and
// /metrics say the bus is not connected. No nats-server is needed.
func TestDemoChatBusDown(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: mode.stdlib, natsURL: natsNowhere(t), natsName: "nowhere"})
			a, b := dialWS(t, addr, "/chat"), dialWS(t, addr, "/chat")
			for i, c := range []*gorilla.Conn{a, b, a} {
				msg := "said while the bus is down " + string(rune('0'+i))
				if err := c.WriteMessage(gorilla.TextMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				for _, r := range []*gorilla.Conn{a, b} {
					if _, got, err := r.ReadMessage(); err != nil || string(got) != msg {
						t.Fatalf("chat: %q %v, want %q", got, err, msg)
					}
				}
			}
			_, body := get(t, "http://"+addr+"/stats.json")
			var s statsJSON
			if err := json.Unmarshal([]byte(body), &s); err != nil {
				t.Fatal(err)
			}
			if s.Bus == nil || s.Bus.State == "connected" || s.Bus.State == "closed" || s.Bus.Server != "" {
				t.Errorf("bus %+v, want it trying to connect", s.Bus)
			}
			if r := s.Rooms; r == nil || r.BusTraffic == nil || r.ChatMembers != 2 || r.ChatPresence != 2 || r.Broadcasts != 3 || r.Instance == "" {
				t.Errorf("rooms %+v, want 2 members and 3 messages", r)
			}
			_, text := get(t, "http://"+addr+"/metrics")
			m := parseExposition(t, text)
			if v, ok := m["uringnet_bus_connected"]; !ok || v != 0 {
				t.Errorf("uringnet_bus_connected %d (present %v), want 0", v, ok)
			}
			if m["uringnet_chat_members"] != 2 || m["uringnet_rooms_broadcasts_total"] != 3 {
				t.Errorf("chat metrics: %d members, %d broadcasts; want 2 and 3", m["uringnet_chat_members"], m["uringnet_rooms_broadcasts_total"])
			}
			info := 0
			for series := range m {
				if strings.HasPrefix(series, `uringnet_bus_info{state="`) {
					info++
				}
			}
			if info != 1 {
				t.Errorf("%d uringnet_bus_info series, want 1", info)
			}
		})
	}
}

// A -nats URL that is not one is an error at start.
func TestDemoBadNATSURL(t *testing.T) {
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-nats", "nats://127.0.0.1:bad port"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.logOut = nil
	o.bigFile = 1 << 10
	err = run(o, &syncBuf{}, make(chan os.Signal))
	if err == nil || !strings.Contains(err.Error(), "-nats") {
		t.Errorf("run: %v, want a -nats error", err)
	}
	if err != nil {
		t.Logf("run: %v", err)
	}
}

// stuckBus is a rooms.Bus whose Publish waits until release is closed: a
// bus that has stopped taking messages, so that the Hub's queue fills.
type stuckBus struct {
	release chan struct{}
	calls   atomic.Int64
}

func (b *stuckBus) Publish(room string, payload []byte) error {
	b.calls.Add(1)
	<-b.release
	return nil
}

func (b *stuckBus) Subscribe(room string, deliver func([]byte)) (rooms.Subscription, error) {
	return nopSub{}, nil
}

func (b *stuckBus) Status() rooms.BusStatus { return rooms.BusStatus{State: "connected"} }

type nopSub struct{}

func (nopSub) Unsubscribe() error { return nil }

// chatOnly serves /chat with the demo's WebSocket side, nothing else.
type chatOnly struct {
	http.NopHTTPHandler
	w *wsDemo
}

func (h *chatOnly) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	h.w.upgrade(req, c, routeChat)
}

// When the bus's queue is full, a chat message still reaches this
// instance's members and its sender stays connected (rooms.ErrDropped is
// not the sender's fault, unlike websocket.ErrBusy, which closes it with
// 1013); the drops are counted.
func TestChatBusQueueFull(t *testing.T) {
	h := &chatOnly{}
	hs, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1}}, h)
	if err != nil {
		t.Fatal(err)
	}
	bus := &stuckBus{release: make(chan struct{})}
	const maxQueued = 2
	if h.w, err = newWSDemo(hs, rooms.Config{Bus: bus, MaxQueued: maxQueued, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve() }()
	released := false
	var clients []*gorilla.Conn
	defer func() {
		for _, c := range clients {
			c.Close()
		}
		if !released {
			close(bus.release)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.w.hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		h.w.ws.Shutdown(ctx)
		hs.Shutdown(ctx)
		<-done
	}()
	<-hs.Ready()
	addr := hs.Addr().String()
	a, b := dialWS(t, addr, "/chat"), dialWS(t, addr, "/chat")
	clients = append(clients, a, b)
	const n = 20
	for i := range n {
		msg := fmt.Sprintf("message %d", i)
		if err := a.WriteMessage(gorilla.TextMessage, []byte(msg)); err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		for _, r := range []*gorilla.Conn{a, b} {
			if _, got, err := r.ReadMessage(); err != nil || string(got) != msg {
				t.Fatalf("%s: got %q, %v", msg, got, err)
			}
		}
	}
	st := h.w.roomsSample().Stats
	// The publisher's goroutine holds the batch it took (up to
	// maxQueued messages, one of them in the stuck Publish), and the
	// queue up to maxQueued more: the rest were dropped.
	if st.Sent != n || st.Dropped < n-2*maxQueued || st.Dropped+uint64(st.Queued)+st.Published > n || st.Queued > maxQueued {
		t.Errorf("stats %+v: want %d sent, at least %d dropped, at most %d queued", st, n, n-2*maxQueued, maxQueued)
	}
	if st := h.w.ws.Stats(); st.Conns != 2 {
		t.Errorf("%d WebSocket connections, want both (the sender not closed)", st.Conns)
	}
	// Once the bus takes messages again, the queue drains.
	close(bus.release)
	released = true
	deadline := time.Now().Add(5 * time.Second)
	for h.w.roomsSample().Stats.Queued != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := h.w.roomsSample().Stats; st.Queued != 0 || st.Published+st.Dropped != n {
		t.Errorf("after the bus recovered: %+v, want every message published or dropped", st)
	}
}
