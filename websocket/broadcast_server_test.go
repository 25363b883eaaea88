package websocket

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/netserver"
)

// TestBroadcast sends a stream of messages to many clients on two loops,
// some of which never read: every reading client gets every message once
// and in order, the others are cut off, and nothing is left behind.
//
// How much a client that never reads makes the server queue depends on
// the kernel: the server's send buffer is autotuned, and grows much
// larger once TCP metrics for 127.0.0.1 are cached after heavy traffic.
// So the test does not count on the stream overflowing the stuck clients'
// queues: it then broadcasts to them until each one has been cut off,
// which any finite kernel buffering allows, and bounds only the total.
func TestBroadcast(t *testing.T) {
	clients, stuck, msgs := 2000, 50, 400
	if testing.Short() {
		clients, stuck, msgs = 200, 20, 300
	}
	const size = 256
	e := start(t, Config{MaxQueuedBytes: 32 << 10, StallTimeout: 200 * time.Millisecond,
		CloseTimeout: 500 * time.Millisecond}, 2)

	// Readers use a normal dialer; the clients that never read get tiny
	// socket buffers so that the server's queue, not the kernel, fills up
	// soon.
	small := &gorilla.Dialer{HandshakeTimeout: 20 * time.Second, NetDialContext: stingyDialer.DialContext}
	readers := clients - stuck
	progress := make([]atomic.Int64, readers) // messages received per reader
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	conns := make([]*gorilla.Conn, 0, clients)
	for i := 0; i < clients; i++ {
		var c *gorilla.Conn
		if i < readers {
			c = e.dialGorilla("/sink", nil)
			wg.Add(1)
			go func(c *gorilla.Conn, got *atomic.Int64) {
				defer wg.Done()
				for want := uint64(0); want < uint64(msgs); want++ {
					c.SetReadDeadline(time.Now().Add(60 * time.Second))
					_, p, err := c.ReadMessage()
					if err != nil {
						errs <- err
						return
					}
					if len(p) != size || binary.BigEndian.Uint64(p) != want {
						errs <- &orderError{want, binary.BigEndian.Uint64(p), len(p)}
						return
					}
					got.Add(1)
				}
			}(c, &progress[i])
		} else {
			c = e.dialGorilla("/sink", small)
		}
		conns = append(conns, c)
	}
	server := make([]netserver.ClientNum, 0, clients)
	for len(server) < clients {
		server = append(server, <-e.h.opened)
	}
	perLoop := [2]int{}
	for _, c := range server {
		perLoop[c.Loop()]++
	}
	if perLoop[0] == 0 || perLoop[1] == 0 {
		t.Logf("clients per loop: %v (the kernel spread them unevenly)", perLoop)
	}

	// Broadcast, keeping the readers within a window so that a reader
	// that is merely slow never reaches the queue limit.
	const window = 40
	msg := make([]byte, size)
	start := time.Now()
	for k := 0; k < msgs; k++ {
		for k >= window {
			low := int64(msgs)
			for i := range progress {
				low = min(low, progress[i].Load())
			}
			if int64(k)-low < window {
				break
			}
			select {
			case err := <-errs:
				t.Fatalf("reader: %v", err)
			default:
			}
			time.Sleep(time.Millisecond)
		}
		binary.BigEndian.PutUint64(msg, uint64(k))
		if err := e.ws.Broadcast(server, OpBinary, msg); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("reader: %v", err)
	}
	t.Logf("%d messages of %d B to %d clients (%d not reading) in %v", msgs, size, clients, stuck, time.Since(start))

	// Fill whatever the kernel buffers for the stuck clients until the
	// server has cut every one of them off (1008, then cut off when they
	// did not answer). 16 MiB each is far more than a send buffer can
	// hold (tcp_wmem's maximum is 4 MiB).
	cut := func() uint64 { st := e.ws.Stats(); return st.QueueOverflows + st.SlowConsumers }
	filler := make([]byte, 16<<10)
	sent := 0
	for cut() < uint64(stuck) {
		if sent > 16<<20 {
			t.Fatalf("%d bytes to each stuck client and only %d of %d cut off", sent, cut(), stuck)
		}
		if err := e.ws.Broadcast(server[readers:], OpBinary, filler); err != nil {
			t.Fatal(err)
		}
		sent += len(filler)
		time.Sleep(time.Millisecond)
	}
	t.Logf("stuck clients cut off after %d more bytes each", sent)
	// The readers are all still there.
	waitFor(t, "stuck clients gone", func() bool { return e.ws.Stats().Conns == int64(readers) })
	if n := cut(); n != uint64(stuck) {
		t.Errorf("%d clients cut off, want %d", n, stuck)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.checkBaseline()
}

type orderError struct {
	want, got uint64
	n         int
}

func (e *orderError) Error() string {
	return "message out of order: want " + itoa(e.want) + ", got " + itoa(e.got) + " (" + itoa(uint64(e.n)) + " bytes)"
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestBroadcastOnLoop broadcasts from a WebSocketRead callback (a chat
// room): the writes of the caller's own loop are queued at once.
func TestBroadcastOnLoop(t *testing.T) {
	e := start(t, Config{}, 2)
	var cs []*gorilla.Conn
	for i := 0; i < 6; i++ {
		cs = append(cs, e.dialGorilla("/sink", nil))
	}
	var server []netserver.ClientNum
	for len(server) < 6 {
		server = append(server, <-e.h.opened)
	}
	// Broadcast from each loop in turn, and from outside.
	for l := 0; l < 2; l++ {
		done := make(chan error, 1)
		e.hs.Net().RunOnLoop(l, func() {
			done <- e.ws.Broadcast(server, OpText, []byte("from loop "+itoa(uint64(l))))
		})
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	e.ws.Broadcast(server, OpText, []byte("from outside"))
	e.ws.Broadcast(nil, OpText, []byte("to nobody"))
	for _, c := range cs {
		for _, want := range []string{"from loop 0", "from loop 1", "from outside"} {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, p, err := c.ReadMessage()
			if err != nil || string(p) != want {
				t.Fatalf("got %q %v, want %q", p, err, want)
			}
		}
	}
	// A closed client is skipped; the others still get the message.
	cs[0].Close()
	waitFor(t, "client 0 closed", func() bool { return e.h.isClosed(server[0]) })
	e.ws.Broadcast(server, OpBinary, []byte("after"))
	for _, c := range cs[1:] {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, p, err := c.ReadMessage(); err != nil || string(p) != "after" {
			t.Fatalf("got %q %v", p, err)
		}
	}
	for _, c := range cs {
		c.Close()
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.checkBaseline()
}

// TestSendQueueLimit: a client that does not read is closed when its
// queue is full, whichever write fills it.
func TestSendQueueLimit(t *testing.T) {
	e := start(t, Config{MaxQueuedBytes: 16 << 10, HardQueuedBytes: 16 << 10, StallTimeout: -1,
		CloseTimeout: 300 * time.Millisecond}, 1)
	for _, how := range []string{"send", "write", "pong"} {
		rc := e.dialRawWith("/sink", stingyDialer)
		c := <-e.h.opened
		big := make([]byte, 4096)
		t0 := time.Now()
		var err error
		over := e.ws.Stats().QueueOverflows
		for i := 0; i < 10000 && err == nil && e.ws.Stats().QueueOverflows == over; i++ {
			switch how {
			case "send":
				err = e.ws.Send(c, OpBinary, big)
			case "write":
				err = e.ws.Write(c, OpBinary, big)
			case "pong":
				rc.Write(clientFrame(true, OpPing, false, make([]byte, 125)))
				if e.h.isClosed(c) {
					err = ErrClosed
				}
			}
			time.Sleep(100 * time.Microsecond)
		}
		waitFor(t, how+": connection closed", func() bool { return e.h.isClosed(c) })
		t.Logf("%s: %v", how, time.Since(t0))
		rc.Close()
	}
	if n := e.ws.Stats().QueueOverflows; n < 3 {
		t.Errorf("QueueOverflows = %d, want 3", n)
	}
	e.checkBaseline()
}
