package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/netserver"
)

// samplePeak samples the send queue cost of clients every 2 ms until stop
// is closed, and then sends the highest seen.
func (e *env) samplePeak(clients []netserver.ClientNum, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	go func() {
		peak := 0
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
			for l := 0; l < e.hs.Net().Loops(); l++ {
				done := make(chan int, 1)
				err := e.hs.Net().RunOnLoop(l, func() {
					m := 0
					for _, c := range clients {
						if c.Loop() != l {
							continue
						}
						if cn := e.ws.conn(c); cn != nil {
							m = max(m, e.ws.ns.Queued(c)+QueuedWriteCost*cn.waiting())
						}
					}
					done <- m
				})
				if err == nil {
					peak = max(peak, <-done)
				}
			}
		}
	}()
	return out
}

// TestBroadcastBurstReaders is a chat room in a burst: 10 members each
// send 64 messages of 32 KiB with up to 2 of their own unacknowledged
// (each waits to see its own message come back) and read as fast as they
// can. A reader's backlog can pass the soft limit in such a burst (with
// the defaults, depending on how the readers are scheduled; at once with
// a soft limit below the 20 messages the room can have in flight), but a
// reader that keeps reading is never cut off.
func TestBroadcastBurstReaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"defaults", Config{}},
		{"soft limit below the burst", Config{MaxQueuedBytes: 256 << 10, HardQueuedBytes: 32 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) { burstReaders(t, tc.cfg) })
	}
}

func burstReaders(t *testing.T, cfg Config) {
	const (
		members = 10
		msgs    = 64
		size    = 32 << 10
		ahead   = 2
	)
	e := start(t, cfg, 2)
	// Explicit socket buffers: the kernel holds little for each member,
	// whatever the machine carried before.
	d := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: bufDialer(16 << 10).DialContext}
	conns := make([]*gorilla.Conn, members)
	for i := range conns {
		conns[i] = e.dialGorilla("/chat", d)
	}
	server := make([]netserver.ClientNum, members)
	for i := range server {
		server[i] = <-e.h.opened
	}
	stop := make(chan struct{})
	peak := e.samplePeak(server, stop)
	errs := make(chan error, 2*members)
	var wg sync.WaitGroup
	for id, c := range conns {
		seen := make(chan uint32, msgs) // own messages come back
		wg.Add(2)
		go func() { // reader
			defer wg.Done()
			next := make([]uint32, members) // per sender: next sequence number
			for n := 0; n < members*msgs; n++ {
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				_, p, err := c.ReadMessage()
				if err != nil {
					errs <- fmt.Errorf("member %d after %d messages: %w", id, n, err)
					return
				}
				from, seq := binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])
				if len(p) != size || int(from) >= members || seq != next[from] {
					errs <- fmt.Errorf("member %d: message %d/%d (%d bytes), want %d", id, from, seq, len(p), next[from])
					return
				}
				next[from]++
				if int(from) == id {
					seen <- seq
				}
			}
		}()
		go func() { // writer
			defer wg.Done()
			msg := make([]byte, size)
			acked := -1
			for seq := 0; seq < msgs; seq++ {
				for seq-acked > ahead {
					select {
					case s := <-seen:
						acked = int(s)
					case <-time.After(60 * time.Second):
						errs <- fmt.Errorf("member %d: own message %d never came back", id, acked+1)
						return
					}
				}
				binary.BigEndian.PutUint32(msg, uint32(id))
				binary.BigEndian.PutUint32(msg[4:], uint32(seq))
				if err := c.WriteMessage(gorilla.BinaryMessage, msg); err != nil {
					errs <- fmt.Errorf("member %d: write %d: %w", id, seq, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	t.Logf("peak send queue cost of a member: %d bytes (soft limit %d, hard %d)", <-peak,
		e.ws.cfg.MaxQueuedBytes, e.ws.cfg.HardQueuedBytes)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := e.ws.Stats()
	if st.QueueOverflows != 0 || st.SlowConsumers != 0 {
		t.Errorf("readers cut off: %+v", st)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.checkBaseline()
}

// TestBroadcastLoopBehind: a loop that falls more than MaxHandoverBytes
// behind the broadcasts handed to it (here: held by the test) gets no more
// of them: Broadcast returns ErrBusy and counts the drop; what it accepted
// arrives in order, and broadcasts resume once the loop has caught up.
func TestBroadcastLoopBehind(t *testing.T) {
	// The client gets the whole backlog at once when the loop resumes:
	// room for it in its queue.
	e := start(t, Config{MaxQueuedBytes: 64 << 20}, 2)
	// A reading client on loop 1.
	var c *gorilla.Conn
	var sc netserver.ClientNum
	var all []*gorilla.Conn
	for i := 0; i < 64 && sc.Loop() != 1; i++ {
		c = e.dialGorilla("/sink", nil)
		all = append(all, c)
		sc = <-e.h.opened
	}
	if sc.Loop() != 1 {
		t.Skip("the kernel put no connection on loop 1")
	}
	release := make(chan struct{})
	e.hs.Net().RunOnLoop(1, func() { <-release })
	accepted := 0
	msg := make([]byte, 8)
	var err error
	for ; accepted < 1<<20; accepted++ {
		binary.BigEndian.PutUint64(msg, uint64(accepted))
		if err = e.ws.Broadcast([]netserver.ClientNum{sc}, OpBinary, msg); err != nil {
			break
		}
	}
	close(release)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("after %d broadcasts to a held loop: %v, want ErrBusy", accepted, err)
	}
	if n := e.ws.Stats().Dropped; n != 1 {
		t.Errorf("Dropped = %d, want 1", n)
	}
	waitFor(t, "loop 1 caught up", func() bool {
		h := &e.ws.hand[1]
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.pending == 0
	})
	binary.BigEndian.PutUint64(msg, uint64(accepted))
	if err := e.ws.Broadcast([]netserver.ClientNum{sc}, OpBinary, msg); err != nil {
		t.Fatalf("broadcast after the loop caught up: %v", err)
	}
	for want := uint64(0); want <= uint64(accepted); want++ {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, p, err := c.ReadMessage()
		if err != nil || binary.BigEndian.Uint64(p) != want {
			t.Fatalf("message %d: %x %v", want, p, err)
		}
	}
	t.Logf("%d broadcasts accepted while the loop was held", accepted)
	for _, c := range all {
		c.Close()
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.checkBaseline()
}
