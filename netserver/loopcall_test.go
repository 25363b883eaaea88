package netserver

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// tickCounter counts Tick calls per loop.
type tickCounter struct{ n [4]atomic.Int64 }

func (t *tickCounter) Tick(loop int, _ time.Time) { t.n[loop].Add(1) }

func TestRunOnLoopAndAddTicker(t *testing.T) {
	h := &echoHandler{}
	s := startServer(t, Config{Loops: 2, TickInterval: 5 * time.Millisecond}, h)
	if err := s.RunOnLoop(2, func() {}); err == nil {
		t.Fatal("RunOnLoop(2) with 2 loops: no error")
	}
	for loop := 0; loop < 2; loop++ {
		ran := make(chan bool, 1)
		if err := s.RunOnLoop(loop, func() { ran <- s.loops[loop].onLoop() }); err != nil {
			t.Fatal(err)
		}
		if on := <-ran; !on {
			t.Errorf("loop %d: f did not run on the loop", loop)
		}
	}
	// From the loop itself it runs at once; a panic is contained.
	done := make(chan int, 1)
	s.RunOnLoop(0, func() {
		n := 0
		s.RunOnLoop(0, func() { n++ })
		s.RunOnLoop(0, func() { panic("boom") })
		done <- n
	})
	if n := <-done; n != 1 {
		t.Errorf("nested RunOnLoop ran %d times before returning, want 1", n)
	}
	waitFor(t, "panic counted", func() bool { return s.Stats().Panics == 1 })

	tc := &tickCounter{}
	s.AddTicker(tc)
	s.AddTicker(tc)
	waitFor(t, "ticks on both loops", func() bool { return tc.n[0].Load() >= 4 && tc.n[1].Load() >= 4 })
}

func TestRunOnLoopStopped(t *testing.T) {
	s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Logger: testLogger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.RunOnLoop(0, func() { t.Error("ran") }); !errors.Is(err, ErrNotServing) {
		t.Fatalf("RunOnLoop after Close: %v, want ErrNotServing", err)
	}
}

func TestQueued(t *testing.T) {
	accepted := make(chan ClientNum, 1)
	h := &acceptHandler{accepted: accepted}
	s := startServer(t, Config{Loops: 1}, h)
	conn := dial(t, s)
	c := <-accepted
	if q := s.Queued(c); q != -1 {
		t.Errorf("Queued off the loop = %d, want -1", q)
	}
	queued := func() int {
		r := make(chan int, 1)
		s.RunOnLoop(c.Loop(), func() { r <- s.Queued(c) })
		return <-r
	}
	if q := queued(); q != 0 {
		t.Fatalf("Queued of a new client = %d, want 0", q)
	}
	// The client does not read: writes pile up until the socket buffers
	// are full, and what the kernel did not take is counted.
	chunk := make([]byte, 256<<10)
	total := 0
	s.RunOnLoop(c.Loop(), func() {
		for i := 0; i < 64; i++ {
			s.Send(c, chunk[:1000])
			s.RawWrite(c, chunk)
			s.RawWritev(c, [][]byte{chunk[:10], chunk[:20]})
			total += 1000 + len(chunk) + 30
		}
	})
	// The first send may still be in flight after 20 ms on a slow machine
	// (a VM without KVM), with nothing taken yet: wait until the kernel has
	// taken some bytes and then stopped.
	var q int
	waitFor(t, "the kernel to take some bytes, then stop", func() bool {
		q1 := queued()
		time.Sleep(20 * time.Millisecond)
		q = queued()
		return q > 0 && q < total && q == q1
	})
	if q >= total {
		t.Errorf("Queued = %d, want less than the %d written (the kernel took some)", q, total)
	}
	// Read everything: the queue drains to zero.
	got := 0
	buf := make([]byte, 1<<20)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for got < total {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read after %d of %d bytes: %v", got, total, err)
		}
		got += n
	}
	waitFor(t, "queue drained", func() bool { return queued() == 0 })
	// Closing fails what is queued and the number is dead.
	s.RunOnLoop(c.Loop(), func() {
		s.RawWrite(c, chunk)
		s.Abort(c)
	})
	if q := queued(); q != -1 {
		t.Errorf("Queued of a closed client = %d, want -1", q)
	}
}

// acceptHandler reports accepted clients and discards input.
type acceptHandler struct {
	NopHandler
	accepted chan ClientNum
}

func (h *acceptHandler) Accept(c ClientNum) { h.accepted <- c }

// Answers made on other goroutines (Handoff) for a corked client go out,
// in order, on both backends, and with GOMAXPROCS=1 as well.
func TestBackendsHandoffCork(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		h := &echoHandler{}
		h.onRead = func(data []byte, c ClientNum) bool {
			s := h.s
			msg := append([]byte(nil), data...)
			s.Cork(c)
			s.Handoff(c)
			go s.RunOnLoop(c.Loop(), func() { s.Send(c, msg) })
			return true
		}
		s := startOn(t, kind, Config{Loops: 1}, h)
		s.Cork(ClientNum(0)) // off the loop: nothing
		s.Handoff(ClientNum(0))
		c := dial(t, s)
		for i := range 50 {
			msg := []byte{byte('a' + i%26)}
			c.Write(msg)
			if got := readFull(t, c, 1); got[0] != msg[0] {
				t.Fatalf("message %d: got %q, want %q", i, got, msg)
			}
		}
	})
}
