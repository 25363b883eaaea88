package netserver

import (
	"io"
	"sync"
	"testing"
	"time"
)

// orderHandler answers a client's first read with a mix of plain writes
// and groups, the sequence of issue 8.
type orderHandler struct {
	NopHandler
	s      *Server
	mu     sync.Mutex
	seen   map[ClientNum]bool
	failed int
}

func (h *orderHandler) setServer(s *Server) { h.s = s }

func (h *orderHandler) RawRead(data []byte, c ClientNum, failed bool) {
	h.mu.Lock()
	first := !h.seen[c]
	h.seen[c] = true
	h.mu.Unlock()
	if failed || !first {
		return
	}
	h.s.RawWrite(c, []byte("a;"))
	g := h.s.NewGroup()
	g.QueueWrite(c, []byte("b;"))
	g.QueueWrite(c, []byte("c;"))
	g.Submit()
	h.s.Send(c, []byte("d;"))
	g.QueueWrite(c, []byte("e;"))
	g.QueueClose(c)
	g.Submit()
	h.s.Send(c, []byte("f;")) // after the close: never sent
}

func (h *orderHandler) RawWrite(_ []byte, _ ClientNum, failed bool) {
	if failed {
		h.mu.Lock()
		h.failed++
		h.mu.Unlock()
	}
}

// Writes to one client leave in call order whatever mix of plain writes
// and groups issued them, and a group's close comes after all of them.
func TestGroupKeepsCallOrder(t *testing.T) {
	for _, loops := range []int{1, 2} {
		h := &orderHandler{seen: map[ClientNum]bool{}}
		s := startServer(t, Config{Loops: loops}, h)
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn := dial(t, s)
				conn.Write([]byte("go"))
				conn.SetReadDeadline(time.Now().Add(20 * time.Second))
				got, err := io.ReadAll(conn)
				if string(got) != "a;b;c;d;e;" || err != nil {
					errs <- string(got)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for got := range errs {
			t.Fatalf("%d loops: peer received %q, want %q", loops, got, "a;b;c;d;e;")
		}
		h.mu.Lock()
		if h.failed != 0 {
			t.Errorf("%d write callbacks failed", h.failed)
		}
		h.mu.Unlock()
	}
}
