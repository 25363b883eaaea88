package redisbus

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uringnet/uringnet/internal/natstest"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestDialNoAddr(t *testing.T) {
	if _, err := Dial(Config{}); err == nil {
		t.Fatal("Dial without Addr succeeded")
	}
}

// TestBusLifecycle: before its server, a Bus is connecting; it delivers
// another Bus's messages in order; it notices an outage, its Publish
// fails meanwhile, and it comes back with its subscription.
func TestBusLifecycle(t *testing.T) {
	rs := natstest.StartRedis(t)
	rs.Stop()
	b, err := Dial(Config{Addr: rs.Addr(), Logger: quiet(), HealthInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if st := b.Status(); st.State != "connecting" {
		t.Fatalf("before the server: %+v", st)
	}
	rs.Restart()
	waitUntil(t, "the connection", func() bool { return b.Status().Connected() })
	other, err := Dial(Config{Addr: rs.Addr(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	var got, probes atomic.Int64
	var order atomic.Bool
	order.Store(true)
	sub, err := b.Subscribe("r", func(p []byte) {
		if len(p) != 1 {
			probes.Add(1) // a probe of the subscription
			return
		}
		if int64(p[0]) != got.Load()%256 {
			order.Store(false)
		}
		got.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Subscribing completes in the background: probe until it is up.
	waitUntil(t, "the subscription", func() bool {
		other.Publish("r", []byte("probe"))
		return probes.Load() > 0
	})
	for i := range 300 {
		if err := other.Publish("r", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "300 messages", func() bool { return got.Load() >= 300 })
	if !order.Load() || got.Load() != 300 {
		t.Fatalf("%d messages, in order %v", got.Load(), order.Load())
	}

	rs.Stop()
	waitUntil(t, "the disconnect", func() bool { return b.Status().Disconnects == 1 })
	if st := b.Status(); st.State != "reconnecting" || st.LastError == "" {
		t.Fatalf("while down: %+v", st)
	}
	if err := b.Publish("r", []byte("x")); err == nil {
		t.Fatal("Publish while down succeeded")
	}
	rs.Restart()
	waitUntil(t, "the reconnection", func() bool { return b.Status().Connected() })
	if st := b.Status(); st.Reconnects != 1 || st.Server != rs.Addr() {
		t.Fatalf("after the restart: %+v", st)
	}
	probes.Store(0)
	waitUntil(t, "the subscription again", func() bool {
		other.Publish("r", []byte("probe"))
		return probes.Load() > 0
	})
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if st := b.Status(); st.State != "closed" {
		t.Fatalf("after Close: %+v", st)
	}
	if _, err := b.Subscribe("r", func([]byte) {}); err == nil {
		t.Fatal("Subscribe after Close succeeded")
	}
}

// TestSlowConsumer: a subscription whose queue is full drops, and counts
// the episode once.
func TestSlowConsumer(t *testing.T) {
	rs := natstest.StartRedis(t)
	b, err := Dial(Config{Addr: rs.Addr(), Logger: quiet(), PendingMsgs: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release := make(chan struct{})
	var got, probes atomic.Int64
	if _, err := b.Subscribe("slow", func(p []byte) {
		if string(p) == "probe" {
			probes.Add(1)
		} else {
			got.Add(1)
		}
		<-release
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the subscription", func() bool {
		b.Publish("slow", []byte("probe"))
		return probes.Load() > 0
	})
	for range 100 {
		if err := b.Publish("slow", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the slow consumer", func() bool { return b.Status().SlowConsumer == 1 })
	close(release)
	time.Sleep(100 * time.Millisecond)
	if n := got.Load(); n >= 100 {
		t.Fatalf("a slow consumer got all %d messages", n)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
