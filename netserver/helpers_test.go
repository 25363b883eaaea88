package netserver

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// testLogger discards logs unless -v.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// echoHandler echoes with Send and records callbacks.
type echoHandler struct {
	NopHandler
	s      *Server
	mu     sync.Mutex
	closed map[ClientNum]bool
	causes map[ClientNum]error
	writes []writeResult
	reads  chan readResult
	onRead func(data []byte, c ClientNum) bool // returns true when handled
}

type writeResult struct {
	data   string
	c      ClientNum
	failed bool
}

type readResult struct {
	data   string
	c      ClientNum
	failed bool
}

func (h *echoHandler) setServer(s *Server) { h.s = s }

func (h *echoHandler) RawRead(data []byte, c ClientNum, failed bool) {
	if h.onRead != nil && h.onRead(data, c) {
		return
	}
	if h.reads != nil {
		h.reads <- readResult{string(data), c, failed}
		return
	}
	if !failed {
		h.s.Send(c, data)
	}
}

func (h *echoHandler) RawWrite(data []byte, c ClientNum, failed bool) {
	h.mu.Lock()
	h.writes = append(h.writes, writeResult{string(data), c, failed})
	h.mu.Unlock()
}

func (h *echoHandler) RawWritev(bufs [][]byte, c ClientNum, failed bool) {
	var s string
	for _, b := range bufs {
		s += string(b)
	}
	h.RawWrite([]byte(s), c, failed)
}

func (h *echoHandler) RawClose(c ClientNum, cause error) {
	h.mu.Lock()
	if h.closed == nil {
		h.closed = map[ClientNum]bool{}
		h.causes = map[ClientNum]error{}
	}
	h.closed[c] = true
	h.causes[c] = cause
	h.mu.Unlock()
}

// cause returns the close cause of c, once it is closed.
func (h *echoHandler) cause(c ClientNum) (error, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	err, ok := h.causes[c]
	return err, ok
}

func (h *echoHandler) writeResults() []writeResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]writeResult(nil), h.writes...)
}

// startServer starts a server on 127.0.0.1:0 and stops it at cleanup.
func startServer(t testing.TB, cfg Config, h Handler) *Server {
	t.Helper()
	if cfg.Addrs == nil {
		cfg.Addrs = []string{"127.0.0.1:0"}
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if sh, ok := h.(interface{ setServer(*Server) }); ok {
		sh.setServer(s) // before Serve: callbacks read it
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if st := s.Stats(); st.Stale != 0 || st.TasksInFlight != 0 {
			t.Errorf("after Close: stale=%d tasks_inflight=%d", st.Stale, st.TasksInFlight)
		}
	})
	waitFor(t, "loops running", func() bool {
		for _, l := range s.loops {
			if l.tid.Load() == 0 {
				return false
			}
		}
		return true
	})
	return s
}

func dial(t testing.TB, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond for up to 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func readFull(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	buf := make([]byte, n)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return buf
}
