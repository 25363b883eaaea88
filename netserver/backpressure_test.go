package netserver

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dialSmall connects with small socket buffers set before connect, so the
// test does not depend on the kernel's buffer autosizing or cached TCP
// metrics.
func dialSmall(t testing.TB, s *Server) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 8<<10)
		})
	}}
	c, err := d.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// acceptEcho echoes and reports accepted clients.
type acceptEcho struct {
	echoHandler
	accepted chan ClientNum
}

func (h *acceptEcho) Accept(c ClientNum) { h.accepted <- c }

// drainHandler echoes with Send and records RawDrained calls.
type drainHandler struct {
	echoHandler
	drained atomic.Int64
	sawCong atomic.Bool
}

func (h *drainHandler) RawRead(data []byte, c ClientNum, failed bool) {
	if h.s.Congested(c) {
		h.sawCong.Store(true) // reads are never delivered while congested
	}
	h.echoHandler.RawRead(data, c, failed)
}

func (h *drainHandler) RawDrained(c ClientNum) {
	if h.s.Congested(c) {
		panic("RawDrained while congested")
	}
	h.drained.Add(1)
}

// An echo client that writes and never reads cannot make the server hold
// more than its MaxQueued plus the echo of one read; once it
// reads, every byte arrives in order.
func TestBackpressureBoundsEchoBacklog(t *testing.T) {
	const maxQueued = 64 << 10
	h := &drainHandler{}
	s := startServer(t, Config{Loops: 1, MaxQueued: maxQueued}, h)
	conn := dialSmall(t, s)

	payload := make([]byte, 16<<20)
	rand.New(rand.NewSource(1)).Read(payload)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
		if _, err := conn.Write(payload); err != nil {
			t.Errorf("write: %v", err)
		}
	}()
	waitFor(t, "the client congested", func() bool { return s.Stats().Congested == 1 })
	// Sample the backlog while the writer is stuck: it stays bounded.
	peak := uint64(0)
	for i := 0; i < 50; i++ {
		peak = max(peak, s.Stats().QueuedBytes)
		time.Sleep(4 * time.Millisecond)
	}
	if limit := uint64(maxQueued + copyBufSize + itemCost); peak > limit {
		t.Errorf("backlog peaked at %d bytes, want <= %d", peak, limit)
	}
	got := readFull(t, conn, len(payload))
	if !bytes.Equal(got, payload) {
		t.Fatal("echo differs from what was sent")
	}
	wg.Wait()
	st := s.Stats()
	if st.Congestions == 0 || h.drained.Load() == 0 {
		t.Errorf("congestions=%d drained=%d, want both > 0", st.Congestions, h.drained.Load())
	}
	if h.sawCong.Load() {
		t.Error("a read was delivered while the client was congested")
	}
	waitFor(t, "backlog back to zero", func() bool {
		st := s.Stats()
		return st.QueuedBytes == 0 && st.HeldBytes == 0 && st.Congested == 0
	})
}

// Past its memory budget a loop delivers no reads; they resume, in order,
// once the backlog drains.
func TestBackpressureMemoryBudget(t *testing.T) {
	h := &echoHandler{}
	s := startServer(t, Config{Loops: 1, MaxQueued: 256 << 10, MaxMemory: 256 << 10}, h)
	var hogs []net.Conn
	var wg sync.WaitGroup
	payload := make([]byte, 4<<20)
	for i := 0; i < 4; i++ {
		c := dialSmall(t, s)
		hogs = append(hogs, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetWriteDeadline(time.Now().Add(60 * time.Second))
			c.Write(payload)
		}()
	}
	waitFor(t, "the loop over budget", func() bool { return s.Stats().OverBudget == 1 })
	if st := s.Stats(); st.QueuedBytes > 4<<20 {
		t.Errorf("queued %d bytes with a 256 KiB budget", st.QueuedBytes)
	}
	// A new client's request is answered only once the hogs read their
	// echoes, never while the loop is over budget.
	probe := dial(t, s)
	before := budgetState(t, s) // before the ping: the loop may answer it at once
	probe.Write([]byte("ping"))
	got := make([]byte, 4)
	probe.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n, _ := probe.Read(got)
	// While the kernel still takes the hogs' output the loop may leave the
	// budget and return (a new budget pause); with no such transition it
	// must not have answered. The state is read on the loop: the published
	// Stats lag until the loop next waits, and may predate the echo.
	after := budgetState(t, s)
	if n > 0 && before.over && after.over && before.pauses == after.pauses {
		t.Error("a read was answered while the loop was over budget")
	}
	for _, c := range hogs {
		go io.Copy(io.Discard, c)
	}
	copy(got[n:], readFull(t, probe, 4-n))
	if string(got) != "ping" {
		t.Fatalf("probe got %q", got)
	}
	wg.Wait()
	if st := s.Stats(); st.BudgetPauses == 0 {
		t.Errorf("budget_pauses = 0, want > 0")
	}
}

// loopBudget is loop 0's budget state, read on the loop.
type loopBudget struct {
	over   bool
	pauses uint64
}

func budgetState(t *testing.T, s *Server) loopBudget {
	t.Helper()
	res := make(chan loopBudget, 1)
	l := s.loops[0]
	if err := s.RunOnLoop(0, func() { res <- loopBudget{l.overBudget, l.cnt.budgetPauses} }); err != nil {
		t.Fatal(err)
	}
	return <-res
}

// PauseRead holds a client's input until ResumeRead, which delivers it in
// order.
func TestPauseResumeRead(t *testing.T) {
	accepted := make(chan ClientNum, 1)
	h := &acceptEcho{accepted: accepted}
	s := startServer(t, Config{Loops: 1}, h)
	conn := dial(t, s)
	c := <-accepted
	if err := s.PauseRead(c); err != nil {
		t.Fatal(err)
	}
	// The pause is queued for the loop; once RunOnLoop has run after it,
	// it has taken effect.
	done := make(chan bool)
	s.RunOnLoop(0, func() { done <- true })
	<-done
	for i := 0; i < 3; i++ {
		conn.Write([]byte{'a' + byte(i)})
		time.Sleep(10 * time.Millisecond)
	}
	conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _ := conn.Read(make([]byte, 8)); n > 0 {
		t.Fatal("echoed while paused")
	}
	if err := s.ResumeRead(c); err != nil {
		t.Fatal(err)
	}
	if got := string(readFull(t, conn, 3)); got != "abc" {
		t.Fatalf("after resume: %q, want abc", got)
	}
	conn.Write([]byte("d"))
	if got := string(readFull(t, conn, 1)); got != "d" {
		t.Fatalf("then %q, want d", got)
	}
	if err := s.PauseRead(ClientNum(0)); err == nil {
		t.Error("PauseRead of client 0: no error")
	}
}

// The peer's EOF behind held input is seen after that input.
func TestPausedEOFAfterHeldInput(t *testing.T) {
	accepted := make(chan ClientNum, 1)
	h := &acceptEcho{accepted: accepted}
	s := startServer(t, Config{Loops: 1}, h)
	conn := dial(t, s)
	c := <-accepted
	s.PauseRead(c)
	done := make(chan bool)
	s.RunOnLoop(0, func() { done <- true })
	<-done
	conn.Write([]byte("xyz"))
	conn.(*net.TCPConn).CloseWrite()
	time.Sleep(50 * time.Millisecond)
	s.ResumeRead(c)
	if got := string(readFull(t, conn, 3)); got != "xyz" {
		t.Fatalf("got %q", got)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the echo: n=%d err=%v, want EOF", n, err)
	}
}

// Many clients echoing through a small MaxQueued go through many
// congest/drain cycles (recv cancelled, input held, re-armed) and every
// byte still arrives, in order.
func TestBackpressureManyClientsByteExact(t *testing.T) {
	clients, maxSize := 300, 512<<10
	if testing.Short() {
		clients, maxSize = 100, 256<<10
	}
	s := startServer(t, Config{MaxQueued: 16 << 10}, &echoHandler{})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(i)))
			msg := make([]byte, 1+rng.Intn(maxSize))
			rng.Read(msg)
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(90 * time.Second))
			go c.Write(msg)
			got := make([]byte, len(msg))
			if n, err := io.ReadFull(c, got); err != nil {
				errs <- fmt.Errorf("client %d: %d of %d bytes: %w", i, n, len(msg), err)
			} else if !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("client %d: echo differs", i)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := s.Stats(); st.Congestions == 0 {
		t.Error("no congestion: the test did not exercise backpressure")
	}
	waitFor(t, "backlog back to zero", func() bool {
		st := s.Stats()
		return st.QueuedBytes == 0 && st.HeldBytes == 0 && st.Congested == 0
	})
}
