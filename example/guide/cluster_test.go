package guide_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/uringnet/uringnet/internal/natstest"
)

// TestCluster: two instances of the cluster chat on one NATS server
// share their room: a message sent to one reaches the other's member.
func TestCluster(t *testing.T) {
	ns := natstest.Start(t)
	a := start(t, "cluster", "-nats", ns.URL())
	b := start(t, "cluster", "-nats", ns.URL())
	var conns []*websocket.Conn
	for _, p := range []*program{a, b} {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// Each instance has heard the other (heartbeats, once a second) when
	// it counts both members: their subscriptions are up.
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range []*program{a, b} {
		for presence(t, p.addr) != "2" {
			if time.Now().After(deadline) {
				t.Fatalf("%s: presence %s, want 2", p.addr, presence(t, p.addr))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := conns[0].WriteMessage(websocket.TextMessage, []byte("across")); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, msg, err := c.ReadMessage()
		if err != nil || string(msg) != "across" {
			t.Fatalf("client %d: %q, %v", i, msg, err)
		}
	}
	if last := a.stop(t); !strings.Contains(last, "published=1 ") || !strings.HasSuffix(last, " bus=connected") {
		t.Errorf("a's last line %q", last)
	}
	if last := b.stop(t); !strings.Contains(last, "received=1 ") {
		t.Errorf("b's last line %q", last)
	}
}

func presence(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/presence")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}
