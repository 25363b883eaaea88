package websocket

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/netserver"
)

// raiseFDLimit raises the soft RLIMIT_NOFILE to at least n (at most the
// hard limit) for the rest of the test.
func raiseFDLimit(t *testing.T, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("RLIMIT_NOFILE hard limit %d, need %d", lim.Max, n)
	}
	old := lim
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("raising RLIMIT_NOFILE: %v", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// TestBroadcastLargeRoom: a room of 5,000 clients (1,000 with -short),
// half of which never read, gets a stream of broadcasts. Every reader gets
// every message, in order, and the delay from Broadcast to delivery is
// measured (logged: p50, p99, max), and compared with the same readers in a
// room without the clients that never read: those never hold the readers
// back, and only they may be cut off.
func TestBroadcastLargeRoom(t *testing.T) {
	clients, msgs := 5000, 200
	if testing.Short() {
		clients, msgs = 1000, 100
	}
	raiseFDLimit(t, uint64(2*clients+256))
	for _, tc := range []struct {
		name  string
		stuck int
	}{
		{"readers only", 0},
		{"half never reading", clients / 2},
	} {
		t.Run(tc.name, func(t *testing.T) { largeRoom(t, clients-clients/2, tc.stuck, msgs) })
	}
}

func largeRoom(t *testing.T, readers, stuck, msgs int) {
	const (
		size     = 512
		interval = 20 * time.Millisecond
	)
	clients := readers + stuck
	// The default limits: with thousands of client goroutines on a busy
	// machine, a reader may be starved for a while, and the defaults
	// (1 MiB, 10 s without progress) are what keeps such a reader.
	e := start(t, Config{CloseTimeout: 2 * time.Second}, 2)
	// Explicit socket buffers for everyone; tiny ones for the clients that
	// never read, so that the server's queue fills rather than the kernel.
	rd := &gorilla.Dialer{HandshakeTimeout: 30 * time.Second, NetDialContext: bufDialer(64 << 10).DialContext}
	stuckD := &gorilla.Dialer{HandshakeTimeout: 30 * time.Second, NetDialContext: stingyDialer.DialContext}
	// Dialled 16 at a time; which server client is which does not
	// matter (every one gets the broadcasts). The server's side is
	// collected as it comes (the channel holds 4096).
	got := make(chan []netserver.ClientNum, 1)
	go func() {
		server := make([]netserver.ClientNum, 0, clients)
		timeout := time.After(5 * time.Minute)
		for len(server) < clients {
			select {
			case c := <-e.h.opened:
				server = append(server, c)
			case <-timeout:
				got <- server
				return
			}
		}
		got <- server
	}()
	conns := make([]*gorilla.Conn, clients)
	dialErrs := make(chan error, clients)
	var dialers sync.WaitGroup
	for w := 0; w < 16; w++ {
		dialers.Add(1)
		go func() {
			defer dialers.Done()
			for i := w; i < clients; i += 16 {
				d := rd
				if i >= readers {
					d = stuckD
				}
				c, _, err := d.Dial("ws://"+e.addr+"/sink", nil)
				if err != nil {
					dialErrs <- err
					return
				}
				conns[i] = c
			}
		}()
	}
	dialers.Wait()
	close(dialErrs)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	for err := range dialErrs {
		t.Fatalf("dial: %v", err)
	}
	server := <-got
	if len(server) != clients {
		t.Fatalf("%d upgrades seen, want %d", len(server), clients)
	}

	delays := make([][]time.Duration, readers)
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for r := 0; r < readers; r++ {
		c := conns[r]
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := make([]time.Duration, 0, msgs)
			defer func() { delays[r] = d }()
			for want := uint64(0); want < uint64(msgs); want++ {
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				_, p, err := c.ReadMessage()
				if err != nil {
					errs <- fmt.Errorf("reader %d, message %d: %w", r, want, err)
					return
				}
				d = append(d, time.Since(time.Unix(0, int64(binary.BigEndian.Uint64(p[8:])))))
				if len(p) != size || binary.BigEndian.Uint64(p) != want {
					errs <- &orderError{want, binary.BigEndian.Uint64(p), len(p)}
					return
				}
			}
		}()
	}
	msg := make([]byte, size)
	next := time.Now()
	for k := 0; k < msgs; k++ {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		binary.BigEndian.PutUint64(msg, uint64(k))
		binary.BigEndian.PutUint64(msg[8:], uint64(time.Now().UnixNano()))
		if err := e.ws.Broadcast(server, OpBinary, msg); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var all []time.Duration
	for _, d := range delays {
		all = append(all, d...)
	}
	slices.Sort(all)
	if len(all) == readers*msgs {
		q := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))] }
		t.Logf("%d clients (%d never reading), %d messages of %d B every %v: delivery delay p50 %v, p99 %v, max %v; stats %+v",
			clients, stuck, msgs, size, interval, q(0.5), q(0.99), all[len(all)-1], e.ws.Stats())
	}
	st := e.ws.Stats()
	if cut := st.SlowConsumers + st.QueueOverflows; cut > uint64(stuck) {
		t.Errorf("%d clients cut off, more than the %d that never read", cut, stuck)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.checkBaseline()
}
