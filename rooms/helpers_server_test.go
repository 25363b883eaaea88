package rooms_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/internal/natstest"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/rooms/natsbus"
	"github.com/uringnet/uringnet/rooms/redisbus"
	"github.com/uringnet/uringnet/websocket"
)

// testBeat is the tests' heartbeat: short, so that losses and presence
// show quickly.
const testBeat = 100 * time.Millisecond

// chat is a test server: every WebSocket at /ROOM joins room ROOM, and
// every message it sends is broadcast to the room.
type chat struct {
	http.NopHTTPHandler
	websocket.NopHandler
	hs  *http.Server
	ws  *websocket.Server
	hub *rooms.Hub
	bus interface {
		rooms.Bus
		Close() error
	}

	mu    sync.Mutex
	rooms map[netserver.ClientNum]string
	errs  []error // Broadcast errors
}

func (h *chat) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	if err := h.ws.Upgrade(req, c); err != nil {
		return
	}
	name := strings.TrimPrefix(string(req.Path), "/")
	h.mu.Lock()
	h.rooms[c] = name
	h.mu.Unlock()
	h.hub.Join(name, c)
}

func (h *chat) WebSocketRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	h.mu.Lock()
	name := h.rooms[c]
	h.mu.Unlock()
	if err := h.hub.Broadcast(name, h.ws.MessageType(c), data); err != nil {
		h.mu.Lock()
		h.errs = append(h.errs, err)
		h.mu.Unlock()
	}
}

func (h *chat) WebSocketClose(c netserver.ClientNum) {
	h.mu.Lock()
	name := h.rooms[c]
	delete(h.rooms, c)
	h.mu.Unlock()
	h.hub.Leave(name, c)
}

func testLogger() *slog.Logger {
	if os.Getenv("ROOMS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startChat runs a chat server on 127.0.0.1:0 with a Hub over the bus at
// url: nats://HOST:PORT, redis://HOST:PORT, or "" for none (cfg.Bus then,
// if any); it ends with the test.
func startChat(t testing.TB, url string, cfg rooms.Config) *chat {
	t.Helper()
	h := &chat{rooms: map[netserver.ClientNum]string{}}
	hs, err := http.NewServer(http.Config{
		Net: netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2, Logger: testLogger()},
	}, h)
	if err != nil {
		t.Fatal(err)
	}
	h.hs = hs
	h.ws = websocket.NewServer(hs, websocket.Config{}, h)
	switch {
	case strings.HasPrefix(url, "nats://"):
		h.bus, err = natsbus.Dial(natsbus.Config{URL: url, Name: t.Name(), Logger: testLogger(),
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	case strings.HasPrefix(url, "redis://"):
		h.bus, err = redisbus.Dial(redisbus.Config{Addr: strings.TrimPrefix(url, "redis://"), Logger: testLogger(),
			HealthInterval: 20 * time.Millisecond})
	}
	if err != nil {
		t.Fatal(err)
	}
	if h.bus != nil {
		cfg.Bus = h.bus
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = testBeat
	}
	cfg.Logger = testLogger()
	if h.hub, err = rooms.New(h.ws, cfg); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.hub.Shutdown(ctx); err != nil {
			t.Errorf("Hub.Shutdown: %v", err)
		}
		if h.bus != nil {
			h.bus.Close()
		}
		hs.Net().Close()
		if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

// member is a WebSocket client in a room that records what it receives.
type member struct {
	conn *gorilla.Conn

	mu   sync.Mutex
	got  []string
	cond chan struct{} // a token when got grows
}

// join dials room on h.
func (h *chat) join(t testing.TB, room string) *member {
	t.Helper()
	d := gorilla.Dialer{HandshakeTimeout: 10 * time.Second}
	var conn *gorilla.Conn
	var err error
	for i := 0; ; i++ {
		conn, _, err = d.Dial("ws://"+h.hs.Addr().String()+"/"+room, nil)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond) // the loops may not run yet
	}
	if err != nil {
		t.Fatal(err)
	}
	m := &member{conn: conn, cond: make(chan struct{}, 1)}
	go func() {
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			m.mu.Lock()
			m.got = append(m.got, string(b))
			m.mu.Unlock()
			select {
			case m.cond <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return m
}

func (m *member) send(t testing.TB, msg string) {
	t.Helper()
	if err := m.conn.WriteMessage(gorilla.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// received returns a copy of what m received.
func (m *member) received() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// warmUp waits until every instance hears every other on room: its
// Presence counts all n members, which takes a heartbeat from each of
// the others, on its subscription.
func warmUp(t testing.TB, room string, chats []*chat, n int) {
	t.Helper()
	waitFor(t, 10*time.Second, "every instance to be connected", func() bool {
		for _, h := range chats {
			if !h.hub.Stats().Bus.Connected() {
				return false
			}
		}
		return true
	})
	waitFor(t, 10*time.Second, "the instances to hear each other", func() bool {
		for _, h := range chats {
			if h.hub.Presence(room) != n {
				return false
			}
		}
		return true
	})
}

// tag is a test message: sender s's message number i.
func tag(s, i int) string { return "m" + strconv.Itoa(s) + ":" + strconv.Itoa(i) }

// untag parses a tag; ok is false for anything else.
func untag(msg string) (s, i int, ok bool) {
	a, b, found := strings.Cut(strings.TrimPrefix(msg, "m"), ":")
	if !found || !strings.HasPrefix(msg, "m") {
		return 0, 0, false
	}
	s, err1 := strconv.Atoi(a)
	i, err2 := strconv.Atoi(b)
	return s, i, err1 == nil && err2 == nil
}

// checkOrder checks that got holds each sender's messages at most once,
// in increasing order, and returns how many came from each sender.
func checkOrder(got []string) (map[int]int, error) {
	last := map[int]int{}
	count := map[int]int{}
	for _, msg := range got {
		s, i, ok := untag(msg)
		if !ok {
			continue
		}
		if l, seen := last[s]; seen && i <= l {
			return nil, fmt.Errorf("sender %d: message %d after %d", s, i, l)
		}
		last[s] = i
		count[s]++
	}
	return count, nil
}

// buses are the buses the cross-instance tests run on: each starts its
// server and returns the URL startChat takes.
var buses = []struct {
	name  string
	start func(t testing.TB) (*natstest.Server, string)
}{
	{"nats", func(t testing.TB) (*natstest.Server, string) { s := natstest.Start(t); return s, s.URL() }},
	{"redis", func(t testing.TB) (*natstest.Server, string) {
		s := natstest.StartRedis(t)
		return s, "redis://" + s.Addr()
	}},
}
