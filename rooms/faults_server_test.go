package rooms_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/uringnet/uringnet/internal/natstest"
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/rooms/natsbus"
	"github.com/uringnet/uringnet/websocket"
)

// gateBus is a Bus whose Publish waits at a gate, so that the queue in
// front of it fills: it stands for a bus that is slow to take messages.
// Failing makes Publish refuse instead.
type gateBus struct {
	gate    chan struct{} // closed: Publish goes on
	open    sync.Once
	entered chan struct{} // a token when a Publish is waiting
	mu      sync.Mutex
	fail    bool
	got     [][]byte
}

// startGated runs a chat server whose Hub publishes on a gateBus, shut
// and opened at the latest when the test ends, before the Hub's Shutdown.
func startGated(t testing.TB, cfg rooms.Config) (*chat, *gateBus) {
	b := &gateBus{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	cfg.Bus = b
	h := startChat(t, "", cfg)
	t.Cleanup(b.release)
	return h, b
}

// release opens the gate.
func (b *gateBus) release() { b.open.Do(func() { close(b.gate) }) }

func (b *gateBus) Publish(room string, payload []byte) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.gate
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return errors.New("refused")
	}
	b.got = append(b.got, append([]byte(nil), payload...))
	return nil
}

func (b *gateBus) Subscribe(string, func([]byte)) (rooms.Subscription, error) {
	return nopSub{}, nil
}

func (b *gateBus) Status() rooms.BusStatus { return rooms.BusStatus{State: "connected"} }

type nopSub struct{}

func (nopSub) Unsubscribe() error { return nil }

// TestHubQueueBound: a bus that does not take messages makes the queue
// fill to its bound; the rest are delivered locally and dropped for the
// bus, and counted.
func TestHubQueueBound(t *testing.T) {
	tests := []struct {
		name      string
		cfg       rooms.Config
		size      int
		queued    int // the 10 that fit beside the first message, stuck in Publish
		failAfter bool
	}{
		// The message in Publish counts against both bounds.
		{"messages", rooms.Config{MaxQueued: 4}, 10, 3, false},
		{"bytes", rooms.Config{MaxQueuedBytes: 3 * (1000 + 48)}, 1000, 2, false},
		{"bus refuses", rooms.Config{MaxQueued: 4}, 10, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Heartbeat = time.Hour
			h, bus := startGated(t, tt.cfg)
			m := h.join(t, "r")
			waitFor(t, 5*time.Second, "the member", func() bool { return h.hub.Local("r") == 1 })
			msg := make([]byte, tt.size)
			if err := h.hub.Broadcast("r", websocket.OpBinary, msg); err != nil {
				t.Fatal(err)
			}
			<-bus.entered // the first message is in Publish, the queue empty
			dropped := 0
			for range 10 {
				if err := h.hub.Broadcast("r", websocket.OpBinary, msg); errors.Is(err, rooms.ErrDropped) {
					dropped++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if want := 10 - tt.queued; dropped != want {
				t.Fatalf("%d dropped, want %d", dropped, want)
			}
			st := h.hub.Stats()
			if st.Queued != 1+tt.queued || st.Dropped != uint64(dropped) || st.QueuedBytes > tt.cfg.MaxQueuedBytes && tt.cfg.MaxQueuedBytes > 0 {
				t.Fatalf("stats %+v", st)
			}
			waitFor(t, 5*time.Second, "local delivery of all 11", func() bool { return len(m.received()) == 11 })
			bus.mu.Lock()
			bus.fail = tt.failAfter
			bus.mu.Unlock()
			bus.release()
			want := uint64(1 + tt.queued)
			waitFor(t, 5*time.Second, "the queue to drain", func() bool {
				st := h.hub.Stats()
				return st.Queued == 0 && st.QueuedBytes == 0 && st.Published+st.Dropped == want+uint64(dropped)
			})
			if tt.failAfter {
				return
			}
			// The numbers the bus got run on: a drop is not a gap.
			bus.mu.Lock()
			defer bus.mu.Unlock()
			if len(bus.got) != int(want) {
				t.Fatalf("the bus got %d messages, want %d", len(bus.got), want)
			}
		})
	}
}

// TestHubRefusedNotNumbered: a message the bus refused does not use up
// a number, so the others see no gap.
func TestHubRefusedNotNumbered(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startChat(t, ns.URL(), rooms.Config{}), startChat(t, ns.URL(), rooms.Config{})
	ma, mb := a.join(t, "r"), b.join(t, "r")
	warmUp(t, "r", []*chat{a, b}, 2)
	huge := make([]byte, 2<<20) // over NATS's max_payload: refused by Publish
	ma.send(t, "before")
	if err := a.hub.Broadcast("r", websocket.OpBinary, huge); err != nil {
		t.Fatal(err) // queued; the bus refuses it later
	}
	ma.send(t, "after")
	waitFor(t, 10*time.Second, "both messages at b", func() bool { return len(mb.received()) == 2 })
	st := a.hub.Stats()
	if st.Dropped != 1 || st.Published != 2 {
		t.Fatalf("a: %+v", st)
	}
	if st := b.hub.Stats(); st.Lost != 0 || st.Received != 2 {
		t.Fatalf("b: %+v", st)
	}
	if got := mb.received(); got[0] != "before" || got[1] != "after" {
		t.Fatalf("b got %q", got)
	}
}

// TestHubForeignPayloads: what another client of the bus publishes on a
// room's subject: garbage is counted, not delivered; a replayed message
// is not delivered twice; an instance's own message, sent back by
// someone else, is ignored.
func TestHubForeignPayloads(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startChat(t, ns.URL(), rooms.Config{}), startChat(t, ns.URL(), rooms.Config{})
	ma, mb := a.join(t, "r"), b.join(t, "r")
	warmUp(t, "r", []*chat{a, b}, 2)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	subject := a.bus.(*natsbus.Bus).Subject("r")
	captured := make(chan []byte, 64)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if len(m.Data) > 30 { // a message, not a heartbeat
			captured <- m.Data
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ma.send(t, "a message from a, long enough")
	waitFor(t, 5*time.Second, "the message at b", func() bool { return len(mb.received()) == 1 })
	payload := <-captured
	sub.Unsubscribe()
	for _, p := range [][]byte{payload, []byte("garbage"), payload} {
		if err := nc.Publish(subject, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the counters", func() bool {
		sa, sb := a.hub.Stats(), b.hub.Stats()
		return sa.Echoes == 2 && sa.Malformed == 1 && sb.Duplicates == 2 && sb.Malformed == 1
	})
	ma.send(t, "second")
	waitFor(t, 5*time.Second, "the second message at b", func() bool { return len(mb.received()) == 2 })
	if got := mb.received(); got[1] != "second" {
		t.Fatalf("b got %q", got)
	}
	if got := ma.received(); len(got) != 2 {
		t.Fatalf("a got %q", got)
	}
}

// TestHubPresence: presence counts every instance's members, and stops
// counting an instance that went away within three heartbeats.
func TestHubPresence(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startChat(t, ns.URL(), rooms.Config{}), startChat(t, ns.URL(), rooms.Config{})
	a.join(t, "r")
	for range 3 {
		b.join(t, "r")
	}
	warmUp(t, "r", []*chat{a, b}, 4)
	if a.hub.Local("r") != 1 || b.hub.Local("r") != 3 {
		t.Fatalf("local: %d and %d", a.hub.Local("r"), b.hub.Local("r"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.hub.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	waitFor(t, 5*time.Second, "b's members to leave a's count", func() bool { return a.hub.Presence("r") == 1 })
	// After Shutdown, b delivers locally only.
	if err := b.hub.Broadcast("r", websocket.OpText, []byte("x")); !errors.Is(err, rooms.ErrDropped) {
		t.Fatalf("Broadcast after Shutdown: %v", err)
	}
}

// TestHubShutdownTimeout: Shutdown gives up when the bus does not take
// the queue in time.
func TestHubShutdownTimeout(t *testing.T) {
	h, bus := startGated(t, rooms.Config{Heartbeat: time.Hour})
	h.hub.Broadcast("r", websocket.OpText, []byte("x"))
	<-bus.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.hub.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	bus.release()
}

// TestHubStuckInstance: a subscriber of the room that stops reading (an
// instance frozen, say) does not slow the others: NATS buffers for it,
// then cuts it off, while the instances that read get every message.
func TestHubStuckInstance(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startChat(t, ns.URL(), rooms.Config{}), startChat(t, ns.URL(), rooms.Config{})
	ma, mb := a.join(t, "r"), b.join(t, "r")
	warmUp(t, "r", []*chat{a, b}, 2)
	stuck, err := net.Dial("tcp", ns.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	// A NATS client that subscribes and never reads again.
	subject := a.bus.(*natsbus.Bus).Subject("r")
	if _, err := fmt.Fprintf(stuck, "CONNECT {\"verbose\":false}\r\nSUB %s 1\r\nPING\r\n", subject); err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("x", 1000)
	const n = 20000 // 20 MB: far more than the stuck client's socket buffers
	deadline := time.Now().Add(60 * time.Second)
	go func() {
		for i := 1; i <= n; i++ {
			if err := a.hub.Broadcast("r", websocket.OpText, []byte(tag(0, i)+msg)); err != nil {
				t.Errorf("Broadcast %d: %v", i, err)
				return
			}
			// Stay within 1000 messages (1 MB) of the members, so that
			// the WebSocket layer never cuts them off as slow consumers
			// (its hard limit is 2 MiB) however loaded the machine is.
			for i%100 == 0 && min(len(ma.received()), len(mb.received())) < i-1000 {
				if time.Now().After(deadline) {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for len(mb.received()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("b got %d of %d messages; a %+v; b %+v; websocket %+v", len(mb.received()), n, a.hub.Stats(), b.hub.Stats(), b.ws.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := mb.received()
	for i, m := range got {
		if !strings.HasPrefix(m, tag(0, i+1)+"x") {
			t.Fatalf("b's message %d is %.20q", i, m)
		}
	}
	waitFor(t, 10*time.Second, "a's own members", func() bool { return len(ma.received()) >= n })
	if st := a.hub.Stats(); st.Dropped != 0 || st.Published != n {
		t.Fatalf("a: %+v", st)
	}
	if st := b.hub.Stats(); st.Lost != 0 || st.Received != n {
		t.Fatalf("b: %+v", st)
	}
}
