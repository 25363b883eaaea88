package rooms_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uringnet/uringnet/internal/natstest"
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/websocket"
)

func TestHubLocal(t *testing.T) {
	h := startChat(t, "", rooms.Config{})
	a, b := h.join(t, "lobby"), h.join(t, "lobby")
	other := h.join(t, "other")
	waitFor(t, 5*time.Second, "3 members", func() bool { return h.hub.Stats().Members == 3 })
	a.send(t, "hello")
	waitFor(t, 5*time.Second, "the message", func() bool { return len(a.received()) == 1 && len(b.received()) == 1 })
	if got := b.received()[0]; got != "hello" {
		t.Fatalf("b got %q", got)
	}
	if h.hub.Local("lobby") != 2 || h.hub.Presence("lobby") != 2 || h.hub.Presence("none") != 0 {
		t.Fatalf("local %d, presence %d", h.hub.Local("lobby"), h.hub.Presence("lobby"))
	}
	if err := h.hub.Broadcast("lobby", websocket.OpPing, nil); !errors.Is(err, websocket.ErrOpcode) {
		t.Fatalf("Broadcast of a ping: %v", err)
	}
	if err := h.hub.Broadcast("nobody", websocket.OpText, []byte("x")); err != nil {
		t.Fatalf("Broadcast to an empty room: %v", err)
	}
	st := h.hub.Stats()
	if st.Rooms != 2 || st.Sent != 2 || st.Published != 0 || st.Bus.State != "" {
		t.Fatalf("stats %+v", st)
	}
	other.conn.Close()
	waitFor(t, 5*time.Second, "the room to end", func() bool { return h.hub.Stats().Rooms == 1 })
	if len(other.received()) != 0 {
		t.Fatalf("other room got %v", other.received())
	}
	if _, err := rooms.New(nil, rooms.Config{}); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

// TestHubAcrossInstances: three instances, members on each, every member
// sends; everyone gets every message exactly once, in each sender's
// order.
func TestHubAcrossInstances(t *testing.T) {
	for _, bus := range buses {
		t.Run(bus.name, func(t *testing.T) { testAcrossInstances(t, bus.start) })
	}
}

func testAcrossInstances(t *testing.T, start func(testing.TB) (*natstest.Server, string)) {
	_, url := start(t)
	const perInstance, msgs = 4, 50
	var chats []*chat
	var members []*member
	for range 3 {
		h := startChat(t, url, rooms.Config{})
		chats = append(chats, h)
		for range perInstance {
			members = append(members, h.join(t, "room"))
		}
	}
	warmUp(t, "room", chats, len(members))
	var wg sync.WaitGroup
	for s, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= msgs; i++ {
				m.send(t, tag(s, i))
			}
		}()
	}
	wg.Wait()
	checkAll(t, members, msgs)
	for i, h := range chats {
		st := h.hub.Stats()
		if st.Published != perInstance*msgs || st.Received != 2*perInstance*msgs ||
			st.Dropped+st.Lost+st.Duplicates+st.Malformed+st.Undelivered != 0 {
			t.Errorf("instance %d: %+v", i, st)
		}
		if !st.Bus.Connected() || st.Bus.Server == "" || st.Heartbeats == 0 {
			t.Errorf("instance %d bus: %+v", i, st.Bus)
		}
	}
}

// TestHubBusOutage: the NATS server goes away and comes back while
// members keep sending. Local delivery goes on, the buses reconnect, and
// what is missing is exactly what the counters say.
func TestHubBusOutage(t *testing.T) {
	for _, bus := range buses {
		t.Run(bus.name, func(t *testing.T) { testBusOutage(t, bus.start) })
	}
}

func testBusOutage(t *testing.T, start func(testing.TB) (*natstest.Server, string)) {
	ns, url := start(t)
	chats := []*chat{startChat(t, url, rooms.Config{}), startChat(t, url, rooms.Config{})}
	var members []*member
	for _, h := range chats {
		members = append(members, h.join(t, "room"), h.join(t, "room"))
	}
	warmUp(t, "room", chats, len(members))
	sent := 0
	send := func(n int) {
		for range n {
			sent++
			for s, m := range members {
				m.send(t, tag(s, sent))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	send(20)
	ns.Stop()
	send(50)
	// Local delivery went on: every member has its own instance's
	// messages.
	for i, m := range members {
		local := []int{i &^ 1, i | 1}
		waitFor(t, 10*time.Second, "local delivery during the outage", func() bool {
			count, err := checkOrder(m.received())
			if err != nil {
				t.Fatal(err)
			}
			return count[local[0]] == sent && count[local[1]] == sent
		})
	}
	ns.Restart()
	waitFor(t, 10*time.Second, "the buses to reconnect", func() bool {
		for _, h := range chats {
			if st := h.hub.Stats().Bus; !st.Connected() || st.Reconnects == 0 {
				return false
			}
		}
		return true
	})
	send(20)
	// Each member misses exactly what its instance lost and what the
	// other dropped (a trailing loss shows at the next heartbeat).
	checkExact := func() error {
		for i, m := range members {
			mine, other := chats[i/2].hub.Stats(), chats[1-i/2].hub.Stats()
			count, err := checkOrder(m.received())
			if err != nil {
				t.Fatalf("member %d: %v", i, err)
			}
			// Their own instance's senders: all; the other's: all but
			// what was lost or dropped on the way.
			missing := 0
			for s := range members {
				if s/2 == i/2 {
					if count[s] != sent {
						return fmt.Errorf("member %d has %d messages from %d on its own instance, want %d", i, count[s], s, sent)
					}
					continue
				}
				missing += sent - count[s]
			}
			if want := int(mine.Lost + other.Dropped); missing != want {
				return fmt.Errorf("member %d misses %d messages from the other instance; lost here %d, dropped there %d",
					i, missing, mine.Lost, other.Dropped)
			}
		}
		return nil
	}
	var err error
	waitFor(t, 15*time.Second, "the counts to match the counters", func() bool {
		err = checkExact()
		return err == nil
	})
	for i, h := range chats {
		st := h.hub.Stats()
		t.Logf("instance %d: published %d received %d dropped %d lost %d; bus %+v", i, st.Published, st.Received, st.Dropped, st.Lost, st.Bus)
		if st.Bus.Disconnects == 0 {
			t.Errorf("instance %d: no disconnect counted", i)
		}
	}
}

// TestHubOutageNothingLost: what members send while the bus is down is
// held, and published once every instance is back: with nothing in
// flight when the bus went down, nothing is lost.
func TestHubOutageNothingLost(t *testing.T) {
	for _, bus := range buses {
		t.Run(bus.name, func(t *testing.T) {
			ns, url := bus.start(t)
			chats := []*chat{startChat(t, url, rooms.Config{}), startChat(t, url, rooms.Config{})}
			var members []*member
			for _, h := range chats {
				members = append(members, h.join(t, "room"), h.join(t, "room"))
			}
			warmUp(t, "room", chats, len(members))
			ns.Stop()
			waitFor(t, 10*time.Second, "both instances to see the bus down", func() bool {
				for _, h := range chats {
					if st := h.hub.Stats(); st.Bus.Connected() || !st.Holding {
						return false
					}
				}
				return true
			})
			const msgs = 30
			for i := 1; i <= msgs; i++ {
				for s, m := range members {
					m.send(t, tag(s, i))
				}
			}
			waitFor(t, 10*time.Second, "the messages to be held", func() bool {
				for _, h := range chats {
					if h.hub.Stats().Queued != 2*msgs {
						return false
					}
				}
				return true
			})
			ns.Restart()
			checkAll(t, members, msgs)
			for i, h := range chats {
				if st := h.hub.Stats(); st.Lost+st.Dropped+st.Duplicates != 0 || st.Holding || st.Published != 2*msgs {
					t.Errorf("instance %d: %+v", i, st)
				}
			}
		})
	}
}

// checkAll waits until every member has msgs messages from every member,
// and checks that none came twice or out of its sender's order.
func checkAll(t *testing.T, members []*member, msgs int) {
	t.Helper()
	want := len(members) * msgs
	for i, m := range members {
		waitFor(t, 20*time.Second, fmt.Sprintf("member %d to get %d messages", i, want), func() bool {
			return len(m.received()) >= want
		})
	}
	time.Sleep(3 * testBeat) // a duplicate would come now
	for i, m := range members {
		got := m.received()
		if len(got) != want {
			t.Fatalf("member %d: %d messages, want %d", i, len(got), want)
		}
		count, err := checkOrder(got)
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		for s := range members {
			if count[s] != msgs {
				t.Fatalf("member %d: %d messages from %d", i, count[s], s)
			}
		}
	}
}
