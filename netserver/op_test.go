package netserver

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sendOp sends its bytes with its own SQE, then finishes.
type sendOp struct {
	data     []byte
	started  atomic.Bool
	canceled atomic.Bool
	fail     bool
	panicky  bool
}

func (o *sendOp) Start(x *OpContext) {
	o.started.Store(true)
	if o.panicky {
		panic("op start")
	}
	if !x.Reserve(1) {
		x.Finish(true)
		return
	}
	d := x.NewOp(7)
	d.PrepSend(x.Fd(), o.data, unix.MSG_NOSIGNAL)
	x.Submit()
}

func (o *sendOp) Complete(x *OpContext, tag uint64, res int32) {
	if tag != 7 || res != int32(len(o.data)) {
		x.Finish(true)
		return
	}
	x.AddBytesOut(int(res))
	x.Finish(o.fail)
}

func (o *sendOp) Cancel(ClientNum) { o.canceled.Store(true) }

// opHandler queues writes and ops around each read.
type opHandler struct {
	NopHandler
	srv   atomic.Pointer[Server]
	ticks atomic.Int64
	last  atomic.Pointer[sendOp]
	fail  bool
}

func (h *opHandler) Tick(int, time.Time) { h.ticks.Add(1) }

func (h *opHandler) RawRead(data []byte, c ClientNum, failed bool) {
	if failed {
		return
	}
	s := h.srv.Load()
	if !s.OnLoop(c) {
		panic("RawRead off its loop")
	}
	switch string(data) {
	case "go":
		op := &sendOp{data: []byte("-op-"), fail: h.fail}
		s.Send(c, []byte("before"))
		if err := s.QueueOp(c, op); err != nil {
			panic(err)
		}
		s.Send(c, []byte("after"))
		h.last.Store(op)
	case "panic":
		op := &sendOp{panicky: true}
		s.QueueOp(c, op)
		h.last.Store(op)
	}
}

func TestQueueOpOrderAndTick(t *testing.T) {
	h := &opHandler{}
	s := startServer(t, Config{Loops: 1, TickInterval: 5 * time.Millisecond}, h)
	h.srv.Store(s)
	c := dial(t, s)
	for i := 0; i < 3; i++ {
		c.Write([]byte("go"))
		if got := string(readFull(t, c, len("before-op-after"))); got != "before-op-after" {
			t.Fatalf("got %q", got)
		}
	}
	waitFor(t, "ticks", func() bool { return h.ticks.Load() >= 3 })
	if s.OnLoop(ClientNum(0)) {
		t.Fatal("OnLoop of the zero client")
	}
}

func TestQueueOpFailClosesAndCancelsRest(t *testing.T) {
	h := &opHandler{fail: true}
	s := startServer(t, Config{Loops: 1}, h)
	h.srv.Store(s)
	c := dial(t, s)
	c.Write([]byte("go"))
	got := readFull(t, c, len("before-op-"))
	if string(got) != "before-op-" {
		t.Fatalf("got %q", got)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 10)); err == nil {
		t.Fatalf("read %d bytes after failed op, want EOF", n)
	}
	// A panicking op closes its client.
	c2 := dial(t, s)
	c2.Write([]byte("panic"))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 10)); err == nil {
		t.Fatal("client of a panicking op still open")
	}
	waitFor(t, "panic counted", func() bool { return s.Stats().Panics == 1 })
}

// blockOp never finishes on its own: it waits on a recv that only the
// close cancels.
type blockOp struct {
	buf      [8]byte
	done     atomic.Bool
	canceled atomic.Bool
}

func (o *blockOp) Start(x *OpContext) {
	d := x.NewOp(1)
	d.PrepRecv(x.Fd(), o.buf[:], 0)
	x.Submit()
	if x.InFlight() != 1 || x.Client() == 0 || x.Loop() != 0 {
		panic("bad context")
	}
}

func (o *blockOp) Complete(x *OpContext, tag uint64, res int32) {
	if !x.Closing() {
		x.Cancel()
		return
	}
	if x.InFlight() == 0 {
		o.done.Store(true)
		x.Finish(true)
	}
}

func (o *blockOp) Cancel(ClientNum) { o.canceled.Store(true) }

func TestQueueOpCloseWhileRunningAndQueued(t *testing.T) {
	h := &echoHandler{reads: make(chan readResult, 10)}
	s := startServer(t, Config{Loops: 1}, h)
	fds := countFDs(t)
	c := dial(t, s)
	c.Write([]byte("x"))
	r := <-h.reads
	running, queued := &blockOp{}, &blockOp{}
	if err := s.QueueOp(r.c, running); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueOp(r.c, queued); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	s.Abort(r.c)
	waitFor(t, "ops ended", func() bool { return running.done.Load() && queued.canceled.Load() })
	c.Close()
	waitFor(t, "fds back", func() bool { return countFDs(t) <= fds })
	// Queued from another goroutine to a dead client: Cancel.
	late := &blockOp{}
	if err := s.QueueOp(r.c, late); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "late op canceled", func() bool { return late.canceled.Load() })
	if st := s.Stats(); st.TasksInFlight > 2 {
		t.Fatalf("tasks in flight %d", st.TasksInFlight)
	}
}
