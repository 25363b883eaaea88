package natsbus

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/uringnet/uringnet/internal/natstest"
)

func TestSubject(t *testing.T) {
	b := &Bus{prefix: "p."}
	tests := []struct{ room, want string }{
		{"chat", "p.chat"},
		{"Room_1-a", "p.Room_1-a"},
		{"a.b", "p.~YS5i"},
		{"*", "p.~Kg"},
		{">", "p.~Pg"},
		{"with space", "p.~d2l0aCBzcGFjZQ"},
		{"", "p.~"},
	}
	for _, tt := range tests {
		if got := b.Subject(tt.room); got != tt.want {
			t.Errorf("Subject(%q) = %q, want %q", tt.room, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := &Bus{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	prev := time.Duration(0)
	for n := 1; n <= 10; n++ {
		d := b.backoff(n)
		lo := min(100*time.Millisecond<<(n-1), time.Second)
		if d < lo || d > lo+lo/5 {
			t.Fatalf("backoff(%d) = %v, want %v to %v", n, d, lo, lo+lo/5)
		}
		if lo < time.Second && d < prev {
			t.Fatalf("backoff(%d) = %v after %v", n, d, prev)
		}
		prev = d
	}
}

func TestDialErrors(t *testing.T) {
	if _, err := Dial(Config{}); err == nil {
		t.Fatal("Dial without a URL succeeded")
	}
	if _, err := Dial(Config{URL: "nats://127.0.0.1:1", Options: []nats.Option{nats.RetryOnFailedConnect(false)}}); err == nil {
		t.Fatal("Dial to a closed port without retry succeeded")
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestBusLifecycle: a Bus dialled before its server is up connects when
// it comes; it delivers another connection's messages in order and not
// its own; it reconnects after the server restarts.
func TestBusLifecycle(t *testing.T) {
	ns := natstest.Start(t)
	ns.Stop()
	b, err := Dial(Config{URL: ns.URL(), Name: "test", Logger: quiet(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if st := b.Status(); st.State != "connecting" && st.State != "reconnecting" {
		t.Fatalf("before the server: %+v", st)
	}
	ns.Restart()
	waitConnected(t, b)
	other, err := Dial(Config{URL: ns.URL(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	waitConnected(t, other)

	var got atomic.Int64
	var order atomic.Bool
	order.Store(true)
	sub, err := b.Subscribe("room.x", func(p []byte) {
		if int64(p[0]) != got.Load() {
			order.Store(false)
		}
		got.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	var own atomic.Int64
	ownSub, err := other.Subscribe("room.x", func([]byte) { own.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	flush(t, b)
	flush(t, other)
	for i := range 100 {
		if err := other.Publish("room.x", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, other)
	waitUntil(t, "100 messages", func() bool { return got.Load() == 100 })
	if !order.Load() {
		t.Fatal("out of order")
	}
	if own.Load() != 0 {
		t.Fatalf("a Bus got %d of its own messages", own.Load())
	}
	if err := ownSub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}

	ns.Stop()
	waitUntil(t, "the disconnect", func() bool { return b.Status().Disconnects == 1 })
	if st := b.Status(); st.Connected() || st.Server != "" || st.LastError == "" {
		t.Fatalf("while down: %+v", st)
	}
	ns.Restart()
	waitConnected(t, b)
	if st := b.Status(); st.Reconnects == 0 {
		t.Fatalf("after the restart: %+v", st)
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); st.State != "closed" {
		t.Fatalf("after Close: %+v", st)
	}
	if err := b.Publish("room.x", nil); err == nil {
		t.Fatal("Publish after Close succeeded")
	}
	if _, err := b.Subscribe("room.x", func([]byte) {}); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}

// TestSlowConsumer: a subscription that falls behind its pending limit
// loses messages, and the episode is counted.
func TestSlowConsumer(t *testing.T) {
	ns := natstest.Start(t)
	b, err := Dial(Config{URL: ns.URL(), Logger: quiet(), PendingMsgs: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	other, err := Dial(Config{URL: ns.URL(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	waitConnected(t, b)
	waitConnected(t, other)
	release := make(chan struct{})
	var got atomic.Int64
	if _, err := b.Subscribe("slow", func([]byte) { <-release; got.Add(1) }); err != nil {
		t.Fatal(err)
	}
	flush(t, b)
	for range 100 {
		other.Publish("slow", []byte("x"))
	}
	flush(t, other)
	waitUntil(t, "the slow consumer", func() bool { return b.Status().SlowConsumer == 1 })
	close(release)
	waitUntil(t, "the rest", func() bool { return got.Load() >= 10 })
	if n := got.Load(); n >= 100 {
		t.Fatalf("a slow consumer got all %d messages", n)
	}
}

func flush(t *testing.T, b *Bus) {
	t.Helper()
	if err := b.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
}

func waitConnected(t *testing.T, b *Bus) {
	t.Helper()
	waitUntil(t, "the connection", func() bool { return b.Status().Connected() })
	if b.Status().Server == "" {
		t.Fatal("connected to no server")
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
