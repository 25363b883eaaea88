package main

// The chat across instances (-nats), end to end: demo instances in
// processes of their own (natsharness_test.go), joined by a real
// nats-server (internal/natstest, which skips the test without one), and
// gorilla/websocket clients in /chat. Each message says who sent it and
// its number, so that a client can tell what it missed and whether the
// rest came once each and in order. The tests take seconds each and are
// left out under -short.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/uringnet/uringnet/internal/natstest"
)

// startInstances starts n demo instances on the NATS server at url,
// every other one in -stdlib mode (so both modes hand their WebSockets to
// the same Hub code).
func startInstances(t *testing.T, url string, n int) []*instance {
	t.Helper()
	insts := make([]*instance, n)
	for i := range insts {
		var extra []string
		if i%2 == 1 {
			extra = append(extra, "-stdlib")
		}
		insts[i] = startInstance(t, fmt.Sprintf("demo-%c", 'a'+i), url, extra...)
	}
	return insts
}

// natsTest skips a NATS process test under -short and starts its
// nats-server (skipping the test when there is none).
func natsTest(t *testing.T) *natstest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("NATS process test skipped under -short (several demo processes, seconds)")
	}
	return natstest.Start(t)
}

// dialClients puts n clients in /chat, client i on instance i%len(insts),
// and returns them with the members each instance has.
func dialClients(t *testing.T, insts []*instance, n int, outage *atomic.Bool) ([]*chatClient, []int) {
	t.Helper()
	clients := make([]*chatClient, n)
	local := make([]int, len(insts))
	senderInst := func(s int) int { return s % len(insts) }
	for i := range clients {
		in := i % len(insts)
		clients[i] = dialChat(t, i, in, insts[in], senderInst, outage)
		local[in]++
	}
	return clients, local
}

// sendAll runs send on every client of clients at once, waits for them
// and returns their errors, but those of the clients that may fail
// (mayFail).
func sendAll(clients []*chatClient, n int, gap time.Duration, stop <-chan struct{}, tag func() string, mayFail func(*chatClient) bool) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.send(n, gap, stop, tag); err != nil && (mayFail == nil || !mayFail(c)) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// sendInBackground runs sendAll until the returned function is called,
// which stops it and returns its error.
func sendInBackground(clients []*chatClient, gap time.Duration, tag func() string, mayFail func(*chatClient) bool) (stop func() error) {
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- sendAll(clients, -1, gap, quit, tag, mayFail) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			close(quit)
			err = <-done
		})
		return err
	}
}

func noTag() string { return "-" }

// allStats reads every instance's /stats.json.
func allStats(insts []*instance) ([]statsJSON, error) {
	out := make([]statsJSON, len(insts))
	for i, in := range insts {
		s, err := in.stats()
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// Three instances, 100 clients spread over them, 50 messages from each:
// every client gets every message (its own too: the chat sends a message
// to everyone in the room, its sender included) once, in each sender's
// order, and the counters agree.
func TestNATSChatAcrossInstances(t *testing.T) {
	srv := natsTest(t)
	const nInst, nClients, nMsgs = 3, 100, 50
	insts := startInstances(t, srv.URL(), nInst)
	clients, local := dialClients(t, insts, nClients, nil)
	// Each instance counting everyone's members means each has heard
	// the others' heartbeats, so its subscription is live: from then on
	// every message reaches every instance.
	took := waitPresence(t, insts, local, nClients, 30*time.Second)
	t.Logf("%d clients on %d instances; every instance counted them all after %v", nClients, nInst, took.Round(time.Millisecond))

	start := time.Now()
	if err := sendAll(clients, nMsgs, 10*time.Millisecond, nil, noTag, nil); err != nil {
		t.Fatal(err)
	}
	took = poll(t, "every client receiving every message", 90*time.Second, func() error {
		for _, c := range clients {
			for s := range nClients {
				if n := c.received(s); n != nMsgs {
					return fmt.Errorf("client %d (instance %d) has %d of client %d's %d messages", c.id, c.inst, n, s, nMsgs)
				}
			}
		}
		return nil
	})
	t.Logf("%d messages, %d deliveries, all in %v (the last %v after the last send)",
		nClients*nMsgs, nClients*nClients*nMsgs, time.Since(start).Round(time.Millisecond), took.Round(time.Millisecond))
	for _, c := range clients {
		c.checkOrder(t)
	}
	st, err := allStats(insts)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		r := s.Rooms
		wantPub, wantRecv := uint64(local[i]*nMsgs), uint64((nClients-local[i])*nMsgs)
		if r.Published != wantPub || r.Received != wantRecv || r.Dropped != 0 || r.Lost != 0 || r.Duplicates != 0 ||
			r.Undelivered != 0 || r.Malformed != 0 || r.Broadcasts != wantPub {
			t.Errorf("%s: rooms %+v %+v; want %d broadcast and published, %d received, nothing dropped, lost, duplicated or undelivered",
				insts[i].name, *r, *r.BusTraffic, wantPub, wantRecv)
		}
		if s.Bus.State != "connected" || s.Bus.Disconnects != 0 {
			t.Errorf("%s: bus %+v", insts[i].name, *s.Bus)
		}
	}
}

// The nats-server is killed for 3 s in the middle of a run and started
// again while the clients keep sending. Each instance's own members keep
// talking throughout; the bus reconnects; nothing arrives twice or out of
// order; and what a client missed is exactly what the counters say: a
// client on instance X misses Lost(X) plus the Dropped of every other
// instance.
func TestNATSOutage(t *testing.T) {
	srv := natsTest(t)
	const nInst, nClients = 3, 12
	insts := startInstances(t, srv.URL(), nInst)
	var outage atomic.Bool
	clients, local := dialClients(t, insts, nClients, &outage)
	waitPresence(t, insts, local, nClients, 30*time.Second)

	stopSending := sendInBackground(clients, 25*time.Millisecond, func() string {
		if outage.Load() {
			return "o"
		}
		return "-"
	}, nil)
	defer stopSending()
	time.Sleep(time.Second) // traffic with the bus up
	srv.Stop()
	outage.Store(true)
	time.Sleep(3 * time.Second)
	outage.Store(false)
	srv.Restart()
	took := poll(t, "every instance reconnected", 30*time.Second, func() error {
		for _, in := range insts {
			s, err := in.stats()
			if err != nil {
				return err
			}
			if s.Bus.State != "connected" || s.Bus.Reconnects < 1 {
				return fmt.Errorf("%s: bus %+v", in.name, *s.Bus)
			}
		}
		return nil
	})
	t.Logf("every instance reconnected %v after the restart", took.Round(time.Millisecond))
	time.Sleep(time.Second) // traffic after the outage
	if err := stopSending(); err != nil {
		t.Fatal(err)
	}

	// Local delivery never stopped: every client got messages from its
	// own instance's senders while the bus was out, and in the end all
	// of them.
	for _, c := range clients {
		c.mu.Lock()
		n := c.localOut
		c.mu.Unlock()
		if n == 0 {
			t.Errorf("client %d (instance %d) got nothing from its own instance during the outage", c.id, c.inst)
		}
	}
	// The losses add up, once the last ones are detected (by the next
	// heartbeat, within about a second).
	total := func() (string, error) {
		st, err := allStats(insts)
		if err != nil {
			return "", err
		}
		summary := ""
		for i, s := range st {
			summary += fmt.Sprintf(" %s: lost %d dropped %d published %d received %d reconnects %d;",
				insts[i].name, s.Rooms.Lost, s.Rooms.Dropped, s.Rooms.Published, s.Rooms.Received, s.Bus.Reconnects)
			if s.Rooms.Duplicates != 0 || s.Rooms.Undelivered != 0 || s.WebSocket.BroadcastsDropped != 0 {
				return "", fmt.Errorf("%s: %d duplicates, %d undelivered, %d broadcasts dropped: the count cannot add up",
					insts[i].name, s.Rooms.Duplicates, s.Rooms.Undelivered, s.WebSocket.BroadcastsDropped)
			}
		}
		for _, c := range clients {
			var missing, want uint64
			for _, s := range clients {
				got, n := c.received(s.id), int(s.sent.Load())
				if s.inst == c.inst {
					if got != n {
						return "", fmt.Errorf("client %d has %d of its instance's client %d's %d messages", c.id, got, s.id, n)
					}
					continue
				}
				missing += uint64(n - got)
			}
			want = st[c.inst].Rooms.Lost
			for i, s := range st {
				if i != c.inst {
					want += s.Rooms.Dropped
				}
			}
			if missing != want {
				return "", fmt.Errorf("client %d (instance %d) misses %d messages of the other instances; the counters say %d;%s",
					c.id, c.inst, missing, want, summary)
			}
		}
		return summary, nil
	}
	var summary string
	took = poll(t, "the losses adding up", 20*time.Second, func() (err error) {
		summary, err = total()
		return err
	})
	// And they stay so: a loss is never counted twice.
	time.Sleep(1500 * time.Millisecond)
	if _, err := total(); err != nil {
		t.Errorf("after adding up: %v", err)
	}
	for _, c := range clients {
		c.checkOrder(t)
	}
	var n int64
	for _, c := range clients {
		n += c.sent.Load()
	}
	t.Logf("%d messages sent; the counts added up %v after the last send:%s", n, took.Round(time.Millisecond), summary)
}

// One instance is killed (SIGKILL) mid-run: the other two carry on, every
// message between them arriving once and in order, and their presence
// stops counting the dead instance's members within a few heartbeats.
func TestNATSInstanceKilled(t *testing.T) {
	srv := natsTest(t)
	const nInst, nClients = 3, 18
	insts := startInstances(t, srv.URL(), nInst)
	clients, local := dialClients(t, insts, nClients, nil)
	waitPresence(t, insts, local, nClients, 30*time.Second)
	const dead = 2
	onDead := func(c *chatClient) bool { return c.inst == dead }

	stopSending := sendInBackground(clients, 25*time.Millisecond, noTag, onDead)
	defer stopSending()
	time.Sleep(time.Second)
	insts[dead].kill()
	killed := time.Now()
	live := insts[:dead]
	took := poll(t, "presence without the killed instance", 15*time.Second, func() error {
		for _, in := range live {
			s, err := in.stats()
			if err != nil {
				return err
			}
			if want := nClients - local[dead]; s.Rooms.ChatPresence != want {
				return fmt.Errorf("%s counts %d chat members, want %d", in.name, s.Rooms.ChatPresence, want)
			}
		}
		return nil
	})
	t.Logf("the live instances stopped counting the killed one's members %v after the kill (3 heartbeats of 1 s)", took.Round(time.Millisecond))
	if since := time.Since(killed); since < time.Second {
		time.Sleep(time.Second - since)
	}
	if err := stopSending(); err != nil {
		t.Fatal(err)
	}

	poll(t, "every message between the live instances delivered", 20*time.Second, func() error {
		for _, c := range clients {
			if onDead(c) {
				continue
			}
			for _, s := range clients {
				if onDead(s) {
					continue
				}
				if got, n := c.received(s.id), int(s.sent.Load()); got != n {
					return fmt.Errorf("client %d (instance %d) has %d of client %d's %d messages", c.id, c.inst, got, s.id, n)
				}
			}
		}
		return nil
	})
	for _, c := range clients {
		if !onDead(c) {
			c.checkOrder(t) // the killed instance's senders' messages too
		}
	}
	st, err := allStats(live)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if r := s.Rooms; r.Lost != 0 || r.Dropped != 0 || r.Duplicates != 0 || r.Undelivered != 0 || s.Bus.State != "connected" {
			t.Errorf("%s: rooms %+v, bus %+v: want nothing lost, dropped, duplicated or undelivered, and the bus up", live[i].name, *r.BusTraffic, *s.Bus)
		}
	}
	for _, c := range clients {
		if onDead(c) {
			continue
		}
		c.mu.Lock()
		err := c.readErr
		c.mu.Unlock()
		if err != nil {
			t.Errorf("client %d (instance %d) lost its connection: %v", c.id, c.inst, err)
		}
	}
}

// One instance of three is frozen (SIGSTOP) for 4 s while everyone keeps
// sending: the other two go on delivering between them as if nothing
// happened (NATS buffers for the frozen one, the others do not wait for
// it), and once it thaws (SIGCONT) it catches up: every client gets
// every message once, in order, and nothing is counted lost.
func TestNATSInstanceFrozen(t *testing.T) {
	srv := natsTest(t)
	const nInst, nClients = 3, 18
	insts := startInstances(t, srv.URL(), nInst)
	clients, local := dialClients(t, insts, nClients, nil)
	waitPresence(t, insts, local, nClients, 30*time.Second)
	const frozen = 2
	onFrozen := func(c *chatClient) bool { return c.inst == frozen }
	stopSending := sendInBackground(clients, 25*time.Millisecond, noTag, nil)
	defer stopSending()
	time.Sleep(time.Second)
	proc := insts[frozen].cmd.Process
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			proc.Signal(syscall.SIGCONT)
		}
	}
	defer thaw()
	// Twice during the freeze: what the live clients had sent a moment
	// ago has reached every live client within 2 s.
	for range 2 {
		time.Sleep(time.Second)
		sent := make([]int, len(clients))
		for _, s := range clients {
			sent[s.id] = int(s.sent.Load())
		}
		poll(t, "delivery between the live instances during the freeze", 2*time.Second, func() error {
			for _, c := range clients {
				for _, s := range clients {
					if onFrozen(c) || onFrozen(s) {
						continue
					}
					if got := c.received(s.id); got < sent[s.id] {
						return fmt.Errorf("client %d (instance %d) has %d of client %d's first %d messages", c.id, c.inst, got, s.id, sent[s.id])
					}
				}
			}
			return nil
		})
	}
	time.Sleep(2 * time.Second) // 4 s frozen in all
	thaw()
	time.Sleep(time.Second)
	if err := stopSending(); err != nil {
		t.Fatal(err)
	}
	poll(t, "every message delivered after the thaw", 30*time.Second, func() error {
		for _, c := range clients {
			for _, s := range clients {
				if got, n := c.received(s.id), int(s.sent.Load()); got != n {
					return fmt.Errorf("client %d (instance %d) has %d of client %d's %d messages", c.id, c.inst, got, s.id, n)
				}
			}
		}
		return nil
	})
	for _, c := range clients {
		c.checkOrder(t)
	}
	st, err := allStats(insts)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if r := s.Rooms; r.Lost != 0 || r.Dropped != 0 || r.Duplicates != 0 || r.Undelivered != 0 || s.Bus.State != "connected" {
			t.Errorf("%s: rooms %+v, bus %+v: want nothing lost, dropped, duplicated or undelivered, and the bus up", insts[i].name, *r.BusTraffic, *s.Bus)
		}
	}
}

// Two tabs of a real browser (chromium; skipped without it), each on the
// chat page of its own instance (one native, one -stdlib), joined by
// NATS: what one tab says appears in the other, both ways, and the live
// page shows the bus and the room's members across the instances.
func TestNATSBrowserChat(t *testing.T) {
	srv := natsTest(t)
	browser := newBrowser(t, 2*time.Minute)
	addrA, _ := startDemo(t, options{bigFile: 1 << 10, natsURL: srv.URL(), natsName: "browser-a"})
	addrB, _ := startDemo(t, options{bigFile: 1 << 10, natsURL: srv.URL(), natsName: "browser-b", stdlib: true})
	tabs := []context.Context{newTab(t, browser, time.Minute), newTab(t, browser, time.Minute)}
	for i, addr := range []string{addrA, addrB} {
		if err := chromedp.Run(tabs[i], chromedp.Navigate("http://"+addr+"/chat"), chromedp.WaitVisible(chatInput, chromedp.ByQuery)); err != nil {
			t.Fatalf("tab %d: %v", i+1, err)
		}
	}
	// Both tabs are in the room, on both instances.
	poll(t, "both instances counting both tabs", 20*time.Second, func() error {
		for _, addr := range []string{addrA, addrB} {
			var s statsJSON
			if _, body := get(t, "http://"+addr+"/stats.json"); json.Unmarshal([]byte(body), &s) != nil || s.Rooms == nil {
				return fmt.Errorf("%s/stats.json: %.200s", addr, body)
			}
			if s.Rooms.ChatMembers != 1 || s.Rooms.ChatPresence != 2 {
				return fmt.Errorf("%s: %d chat members here, %d in all; bus %+v", addr, s.Rooms.ChatMembers, s.Rooms.ChatPresence, s.Bus)
			}
		}
		return nil
	})
	for from, to := range []int{1, 0} {
		msg := fmt.Sprintf("hello from tab %d at %d", from+1, time.Now().UnixNano())
		if err := chromedp.Run(tabs[from], chromedp.SetValue(chatInput, msg, chromedp.ByQuery), chromedp.Click(chatSend, chromedp.ByQuery)); err != nil {
			t.Fatalf("tab %d: sending: %v", from+1, err)
		}
		for _, tab := range []int{to, from} {
			err := waitFor(tabs[tab], fmt.Sprintf("tab %d's message in tab %d", from+1, tab+1), func() (bool, error) {
				s, err := textOf(tabs[tab], chatLog)
				return strings.Contains(s, msg), err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	screenshot(t, tabs[1], "chat-nats.png")

	// The live page of instance A, in a third tab, shows the bus and the
	// room's members: one here, two in all.
	live := newTab(t, browser, time.Minute)
	if err := chromedp.Run(live, chromedp.Navigate("http://"+addrA+"/"), chromedp.WaitVisible("#bus-state", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	err := waitFor(live, "the bus counters on the live page", func() (bool, error) {
		state, err := textOf(live, "#bus-state")
		if err != nil || state != "connected" {
			return false, err
		}
		pub, _ := textOf(live, "#bus-published")
		recv, _ := textOf(live, "#bus-received")
		p, err1 := number(pub)
		r, err2 := number(recv)
		presence, _ := textOf(live, "#chat-presence")
		here, _ := textOf(live, "#chat-members")
		return err1 == nil && err2 == nil && p >= 1 && r >= 1 && presence == "2" && here == "1", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := textOf(live, "#bus-server"); !strings.Contains(s, srv.Addr()) {
		t.Errorf("bus server %q, want %s", s, srv.Addr())
	}
	for _, sel := range []string{"#bus-lost", "#bus-dropped", "#bus-reconnects", "#bus-disconnects"} {
		if s, _ := textOf(live, sel); s == "" || s == "–" {
			t.Errorf("%s shows %q", sel, s)
		}
	}
	screenshot(t, live, "live-nats.png")
}
