package netserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// streamLog records, in order, what sinks and handlers saw.
type streamLog struct {
	mu     sync.Mutex
	events []string
	causes map[ClientNum]error
}

func (g *streamLog) add(format string, args ...any) {
	g.mu.Lock()
	g.events = append(g.events, fmt.Sprintf(format, args...))
	g.mu.Unlock()
}

func (g *streamLog) get() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.events...)
}

func (g *streamLog) reset() {
	g.mu.Lock()
	g.events = nil
	g.mu.Unlock()
}

func (g *streamLog) cause(c ClientNum) (error, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	err, ok := g.causes[c]
	return err, ok
}

// fakeSink takes at most limit bytes per StreamWrite (all when limit < 0)
// and records what it took per stream.
type fakeSink struct {
	s           *Server
	log         *streamLog
	mu          sync.Mutex
	limit       int
	readyInside bool // call StreamReady from StreamWrite
	panicky     bool
	took        map[ClientNum][]byte
	calls       int
}

func (k *fakeSink) StreamWrite(c ClientNum, bufs [][]byte) int {
	if !k.s.OnLoop(c) {
		panic("StreamWrite off the loop")
	}
	k.mu.Lock()
	if k.panicky {
		k.mu.Unlock()
		panic("sink")
	}
	k.calls++
	n, took := 0, k.took[c]
	for _, b := range bufs {
		if len(b) == 0 {
			panic("empty buffer offered")
		}
		if k.limit >= 0 && n+len(b) > k.limit {
			b = b[:k.limit-n]
		}
		took = append(took, b...)
		n += len(b)
	}
	k.took[c] = took
	ready := k.readyInside
	k.mu.Unlock()
	if n > 0 {
		k.log.add("take %v %s", c, took[len(took)-n:])
	}
	if ready {
		k.s.StreamReady(c)
	}
	return n
}

func (k *fakeSink) StreamEnd(c ClientNum, graceful bool) {
	k.log.add("end %v %v", c, graceful)
}

func (k *fakeSink) setLimit(n int) {
	k.mu.Lock()
	k.limit = n
	k.mu.Unlock()
}

func (k *fakeSink) taken(c ClientNum) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return string(k.took[c])
}

// streamHandler records the callbacks of streams and hands accepted
// connections over.
type streamHandler struct {
	NopHandler
	log      *streamLog
	accepted chan ClientNum
}

func (h *streamHandler) Accept(c ClientNum) { h.accepted <- c }

func (h *streamHandler) RawWrite(data []byte, c ClientNum, failed bool) {
	h.log.add("w %v %s %v", c, data, failed)
}

func (h *streamHandler) RawWritev(bufs [][]byte, c ClientNum, failed bool) {
	var b strings.Builder
	for _, x := range bufs {
		b.Write(x)
	}
	h.log.add("wv %v %s %v", c, b.String(), failed)
}

func (h *streamHandler) RawDrained(c ClientNum) { h.log.add("drained %v", c) }

func (h *streamHandler) RawRead(data []byte, c ClientNum, failed bool) {
	if failed {
		h.log.add("r %v %v", c, failed)
	}
}

func (h *streamHandler) RawReadv(bufs [][]byte, c ClientNum, failed bool) {
	h.log.add("rv %v %v", c, failed)
}

func (h *streamHandler) RawClose(c ClientNum, cause error) {
	h.log.mu.Lock()
	if h.log.causes == nil {
		h.log.causes = map[ClientNum]error{}
	}
	h.log.causes[c] = cause
	h.log.mu.Unlock()
	h.log.add("close %v", c)
}

// streamEnv is a server with one accepted parent connection.
type streamEnv struct {
	t      *testing.T
	s      *Server
	log    *streamLog
	sink   *fakeSink
	parent ClientNum
	conn   interface{ Close() error }
	fds    int
	pipes  []int
}

func newStreamEnv(t *testing.T, cfg Config) *streamEnv {
	t.Helper()
	g := &streamLog{}
	h := &streamHandler{log: g, accepted: make(chan ClientNum, 4)}
	cfg.Loops = 1
	s := startServer(t, cfg, h)
	conn := dial(t, s)
	e := &streamEnv{t: t, s: s, log: g, parent: <-h.accepted, conn: conn}
	e.fds = countFDs(t) // with both ends of conn
	e.sink = &fakeSink{s: s, log: g, limit: -1, took: map[ClientNum][]byte{}}
	return e
}

// run runs f on the loop and waits for it (and the flush after it).
func (e *streamEnv) run(f func()) {
	e.t.Helper()
	done := make(chan struct{})
	if err := e.s.RunOnLoop(0, func() { defer close(done); f() }); err != nil {
		e.t.Fatal(err)
	}
	<-done
	// A second turn: what f queued has been flushed.
	done2 := make(chan struct{})
	if err := e.s.RunOnLoop(0, func() { close(done2) }); err != nil {
		e.t.Fatal(err)
	}
	<-done2
}

func (e *streamEnv) newStream() ClientNum {
	e.t.Helper()
	var c ClientNum
	var err error
	e.run(func() { c, err = e.s.NewStream(e.parent, e.sink) })
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// waitLog waits until the log holds want (in order, as a subsequence).
func (e *streamEnv) waitLog(want ...string) {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("events %q", want), func() bool {
		got := e.log.get()
		i := 0
		for _, g := range got {
			if i < len(want) && g == want[i] {
				i++
			}
		}
		return i == len(want)
	})
}

func (e *streamEnv) count(prefix string) int {
	n := 0
	for _, g := range e.log.get() {
		if strings.HasPrefix(g, prefix) {
			n++
		}
	}
	return n
}

// checkClean checks that no stream is left open and no fd leaked.
func (e *streamEnv) checkClean() {
	e.t.Helper()
	waitFor(e.t, "streams closed", func() bool { return e.s.Stats().StreamsOpen == 0 })
	e.conn.Close()
	waitFor(e.t, "parent closed", func() bool { return e.s.Stats().ConnsOpen == 0 })
	for _, fd := range e.pipes {
		unix.Close(fd)
	}
	e.pipes = nil
	waitFor(e.t, "fds back", func() bool { return countFDs(e.t) <= e.fds-2 })
}

// pipeOp reads its own pipe with x.NewOp (as a file op would read a
// file), records what it saw and finishes after the read.
type pipeOp struct {
	log    *streamLog
	sink   *fakeSink
	rfd    int
	buf    []byte
	cancel bool
	hold   bool // do not read: wait for the client to close
}

func (o *pipeOp) Start(x *OpContext) {
	o.log.add("op start fd=%d sealed=%v took=%s", x.Fd(), x.Sealed(), o.sink.taken(x.Client()))
	if string(x.Seal(nil, []byte("p"))) != "p" {
		panic("Seal on a stream")
	}
	if o.hold {
		return
	}
	r := x.NewOp(1)
	if r == nil {
		x.Finish(true)
		return
	}
	o.buf = make([]byte, 64)
	r.PrepRead(o.rfd, o.buf, ^uint64(0))
	x.Submit()
}

func (o *pipeOp) Complete(x *OpContext, tag uint64, res int32) {
	if res < 0 {
		o.log.add("op read error %v", unix.Errno(-res))
		x.Finish(true)
		return
	}
	o.log.add("op read %s", o.buf[:res])
	x.Finish(false)
}

func (o *pipeOp) Cancel(c ClientNum) { o.log.add("op cancel %v", c) }

func (e *streamEnv) newPipe(data string) int { return e.pipe(data, false) }

// pipe returns the read end of a pipe holding data; with keep, its write
// end stays open (a read waits for more).
func (e *streamEnv) pipe(data string, keep bool) int {
	t := e.t
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(p[1], []byte(data)); err != nil {
		t.Fatal(err)
	}
	if keep {
		e.pipes = append(e.pipes, p[1])
	} else {
		unix.Close(p[1])
	}
	e.pipes = append(e.pipes, p[0])
	return p[0]
}

// TestStreamOrder: writes and ops keep their order; an op runs (with no fd
// of its own, reading another fd) once the writes before it were taken, and
// the writes after it wait for its Finish; callbacks fire once.
func TestStreamOrder(t *testing.T) {
	for _, tc := range []struct {
		name        string
		limit       int
		readyInside bool
	}{
		{"take all", -1, false},
		{"partial, ready inside", 2, true},
		{"partial, ready later", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStreamEnv(t, Config{})
			e.sink.limit, e.sink.readyInside = tc.limit, tc.readyInside
			sc := e.newStream()
			op := &pipeOp{log: e.log, sink: e.sink, rfd: e.newPipe("file")}
			e.run(func() {
				for _, err := range []error{
					e.s.Send(sc, []byte("a")),
					e.s.RawWrite(sc, []byte("bcd")),
					e.s.QueueOp(sc, op),
					e.s.RawWritev(sc, [][]byte{[]byte("ef"), nil, []byte("g")}),
					e.s.Send(sc, []byte("h")),
					e.s.RawWrite(sc, nil),
				} {
					if err != nil {
						t.Error(err)
					}
				}
			})
			for i := 0; i < 100 && e.sink.taken(sc) != "abcdefgh"; i++ {
				if !tc.readyInside {
					e.run(func() { e.s.StreamReady(sc) })
				}
			}
			e.waitLog(
				fmt.Sprintf("w %v bcd false", sc),
				"op start fd=-1 sealed=false took=abcd",
				"op read file",
				fmt.Sprintf("wv %v efg false", sc),
				fmt.Sprintf("w %v  false", sc),
			)
			if got := e.sink.taken(sc); got != "abcdefgh" {
				t.Errorf("sink took %q", got)
			}
			var queued int
			var sending bool
			e.run(func() { queued, sending = e.s.Queued(sc), e.s.Sending(sc) })
			if queued != 0 || sending {
				t.Errorf("Queued %d Sending %v after all was taken", queued, sending)
			}
			e.run(func() { e.s.RawClose(sc) })
			e.waitLog(fmt.Sprintf("end %v true", sc), fmt.Sprintf("close %v", sc))
			for p, want := range map[string]int{"w ": 2, "wv ": 1, "end ": 1, "close ": 1, "op start": 1, "op read": 1} {
				if n := e.count(p); n != want {
					t.Errorf("%d events %q, want %d: %q", n, p, want, e.log.get())
				}
			}
			if cause, _ := e.log.cause(sc); !errors.Is(cause, ErrLocalClose) {
				t.Errorf("cause %v", cause)
			}
			waitFor(t, "stats", func() bool {
				st := e.s.Stats()
				return st.Streams == 1 && st.StreamsOpen == 0 && st.ConnsOpen == 1 && st.Accepted == 1 && st.Closed == 0
			})
			e.checkClean()
		})
	}
}

// TestStreamEnds: the ways a stream ends, with what its sink and handler
// see, in order.
func TestStreamEnds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		do    func(e *streamEnv, sc ClientNum)
		want  func(sc ClientNum) []string
		cause error
	}{
		{
			name: "RawClose after output", limit: -1,
			do: func(e *streamEnv, sc ClientNum) {
				e.run(func() { e.s.RawWrite(sc, []byte("x")); e.s.RawClose(sc) })
			},
			want: func(sc ClientNum) []string {
				return []string{"take %v x", "w %v x false", "end %v true", "close %v"}
			},
			cause: ErrLocalClose,
		},
		{
			name: "RawClose on nothing", limit: -1,
			do:   func(e *streamEnv, sc ClientNum) { e.run(func() { e.s.RawClose(sc) }) },
			want: func(sc ClientNum) []string { return []string{"end %v true", "close %v"} },
		},
		{
			name: "ShutdownWrite", limit: -1,
			do: func(e *streamEnv, sc ClientNum) {
				e.run(func() { e.s.Send(sc, []byte("y")); e.s.ShutdownWrite(sc) })
			},
			want: func(sc ClientNum) []string { return []string{"take %v y", "end %v true", "close %v"} },
		},
		{
			name: "RawClose waits for the sink", limit: 1,
			do: func(e *streamEnv, sc ClientNum) {
				e.run(func() { e.s.RawWrite(sc, []byte("xyz")); e.s.RawClose(sc) })
				if e.count("end ") != 0 {
					e.t.Errorf("ended before its output was taken: %q", e.log.get())
				}
				e.sink.setLimit(-1)
				e.run(func() { e.s.StreamReady(sc) })
			},
			want: func(sc ClientNum) []string {
				return []string{"take %v x", "take %v yz", "w %v xyz false", "end %v true", "close %v"}
			},
		},
		{
			name: "Abort with output and an op left", limit: 0,
			do: func(e *streamEnv, sc ClientNum) {
				op := &pipeOp{log: e.log, sink: e.sink}
				e.run(func() {
					e.s.RawWrite(sc, []byte("xyz"))
					e.s.QueueOp(sc, op)
					e.s.RawWritev(sc, [][]byte{[]byte("v")})
				})
				e.run(func() { e.s.Abort(sc) })
			},
			want: func(sc ClientNum) []string {
				return []string{"w %v xyz true", "op cancel %v", "wv %v v true", "end %v false", "close %v"}
			},
			cause: ErrLocalClose,
		},
		{
			name: "RawClose blocked, then Abort", limit: 0,
			do: func(e *streamEnv, sc ClientNum) {
				e.run(func() { e.s.SetCloseCause(sc, ErrIdleTimeout); e.s.RawWrite(sc, []byte("q")); e.s.RawClose(sc) })
				e.run(func() { e.s.Abort(sc) })
			},
			want:  func(sc ClientNum) []string { return []string{"w %v q true", "end %v false", "close %v"} },
			cause: ErrIdleTimeout,
		},
		{
			name: "Abort while an op runs", limit: -1,
			do: func(e *streamEnv, sc ClientNum) {
				op := &pipeOp{log: e.log, sink: e.sink, hold: true}
				e.run(func() { e.s.QueueOp(sc, op); e.s.Send(sc, []byte("z")) })
				e.waitLog("op start fd=-1 sealed=false took=")
				e.run(func() { e.s.Abort(sc) })
			},
			want: func(sc ClientNum) []string { return []string{"end %v false", "close %v"} },
		},
		{
			name: "Abort while an op reads", limit: -1,
			do: func(e *streamEnv, sc ClientNum) {
				op := &pipeOp{log: e.log, sink: e.sink, rfd: e.pipe("", true)}
				e.run(func() { e.s.QueueOp(sc, op) })
				e.waitLog("op start fd=-1 sealed=false took=")
				e.run(func() { e.s.Abort(sc) })
				e.waitLog("op read error " + unix.ECANCELED.Error())
			},
			want: func(sc ClientNum) []string { return []string{"end %v false", "close %v"} },
		},
		{
			name: "parent aborted", limit: 0,
			do: func(e *streamEnv, sc ClientNum) {
				e.run(func() { e.s.RawWrite(sc, []byte("p")); e.s.Abort(e.parent) })
			},
			want:  func(sc ClientNum) []string { return []string{"w %v p true", "end %v false", "close %v"} },
			cause: ErrLocalClose,
		},
		{
			name: "parent closed by the peer", limit: 0,
			do: func(e *streamEnv, sc ClientNum) {
				e.run(func() { e.s.RawWrite(sc, []byte("p")) })
				e.conn.Close()
			},
			want:  func(sc ClientNum) []string { return []string{"w %v p true", "end %v false", "close %v"} },
			cause: ErrPeerClosed,
		},
		{
			name: "sink panics", limit: -1,
			do: func(e *streamEnv, sc ClientNum) {
				e.sink.mu.Lock()
				e.sink.panicky = true
				e.sink.mu.Unlock()
				e.run(func() { e.s.RawWrite(sc, []byte("boom")) })
			},
			want:  func(sc ClientNum) []string { return []string{"w %v boom true", "end %v false", "close %v"} },
			cause: ErrCallbackPanic,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStreamEnv(t, Config{})
			e.sink.limit = tc.limit
			sc := e.newStream()
			other := e.newStream() // a sibling: lives on unless the parent goes
			tc.do(e, sc)
			var want []string
			for _, w := range tc.want(sc) {
				want = append(want, fmt.Sprintf(w, sc))
			}
			e.waitLog(want...)
			for _, p := range []string{"end " + sc.String(), "close " + sc.String()} {
				if n := e.count(p); n != 1 {
					t.Errorf("%d %q: %q", n, p, e.log.get())
				}
			}
			if tc.cause != nil {
				if cause, _ := e.log.cause(sc); !errors.Is(cause, tc.cause) {
					t.Errorf("cause %v, want %v", cause, tc.cause)
				}
			}
			parentGone := strings.HasPrefix(tc.name, "parent")
			if parentGone {
				e.waitLog(fmt.Sprintf("end %v false", other), fmt.Sprintf("close %v", other))
			} else {
				var ok bool
				var p ClientNum
				e.run(func() { p, ok = e.s.StreamParent(other) })
				if !ok || p != e.parent {
					t.Errorf("sibling: StreamParent = %v, %v", p, ok)
				}
				e.run(func() { e.s.RawClose(other) })
			}
			waitFor(t, "stats", func() bool {
				st := e.s.Stats()
				return st.Streams == 2 && st.Panics == map[bool]uint64{true: 1}[tc.name == "sink panics"]
			})
			e.checkClean()
		})
	}
}

// TestStreamStale: a closed stream's number fails every call, also once its
// slot holds a new stream, which never sees the old one's writes.
func TestStreamStale(t *testing.T) {
	e := newStreamEnv(t, Config{})
	old := e.newStream()
	e.run(func() { e.s.Abort(old) })
	e.waitLog(fmt.Sprintf("close %v", old))
	sc := e.newStream()
	if sc.Slot() != old.Slot() || sc == old {
		t.Logf("slot not reused: %v then %v", old, sc)
	}
	e.run(func() {
		s := e.s
		for name, err := range map[string]error{
			"RawWrite":      s.RawWrite(old, []byte("late")),
			"RawWritev":     s.RawWritev(old, [][]byte{[]byte("late")}),
			"Send":          s.Send(old, []byte("late")),
			"QueueOp":       s.QueueOp(old, &pipeOp{log: e.log, sink: e.sink}),
			"RawClose":      s.RawClose(old),
			"Abort":         s.Abort(old),
			"SetCloseCause": s.SetCloseCause(old, ErrIdleTimeout),
			"SetHandler":    s.SetHandler(old, NopHandler{}),
			"ShutdownWrite": s.ShutdownWrite(old),
			"PauseRead":     s.PauseRead(old),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s on a stale stream: %v", name, err)
			}
		}
		if _, err := s.NewStream(old, e.sink); !errors.Is(err, ErrClosed) {
			t.Errorf("NewStream on a stale parent: %v", err)
		}
		if _, ok := s.StreamParent(old); ok {
			t.Error("StreamParent of a stale stream")
		}
		if s.Congested(old) || s.Queued(old) != -1 || s.Sending(old) || s.Unsent(old) != -1 {
			t.Error("stale stream looks open")
		}
		if _, err := s.RemoteAddr(old); !errors.Is(err, ErrClosed) {
			t.Errorf("RemoteAddr: %v", err)
		}
		s.StreamReady(old)
		s.Cork(old)
	})
	e.run(func() { e.s.Send(sc, []byte("new")) })
	if got := e.sink.taken(sc); got != "new" {
		t.Errorf("new stream's sink took %q", got)
	}
	if got := e.sink.taken(old); got != "" {
		t.Errorf("old stream's sink took %q", got)
	}
	e.run(func() { e.s.RawClose(sc) })
	e.checkClean()
}

// TestStreamCalls: what a stream answers for its parent, and what it
// refuses.
func TestStreamCalls(t *testing.T) {
	e := newStreamEnv(t, Config{})
	sc := e.newStream()
	h2 := &streamHandler{log: &streamLog{}}
	e.run(func() {
		s := e.s
		if err := s.RawRead(sc, make([]byte, 4)); !errors.Is(err, ErrStream) {
			t.Errorf("RawRead: %v", err)
		}
		if err := s.RawReadv(sc, [][]byte{make([]byte, 4)}); !errors.Is(err, ErrStream) {
			t.Errorf("RawReadv: %v", err)
		}
		g := s.NewGroup()
		g.QueueRead(sc, make([]byte, 4))
		if err := g.Submit(); !errors.Is(err, ErrStream) {
			t.Errorf("Group read: %v", err)
		}
		if err := s.PauseRead(sc); err != nil {
			t.Errorf("PauseRead: %v", err)
		}
		if err := s.ResumeRead(sc); err != nil {
			t.Errorf("ResumeRead: %v", err)
		}
		pa, err1 := s.RemoteAddr(e.parent)
		sa, err2 := s.RemoteAddr(sc)
		if err1 != nil || err2 != nil || pa.String() != sa.String() {
			t.Errorf("RemoteAddr: %v %v, %v %v", pa, err1, sa, err2)
		}
		if _, ok, err := s.TLSState(sc); ok || err != nil {
			t.Errorf("TLSState: %v %v", ok, err)
		}
		if s.KernelTLS(sc) {
			t.Error("KernelTLS")
		}
		if s.Unsent(sc) < 0 {
			t.Error("Unsent answers -1 for an open parent socket")
		}
		if !s.OnLoop(sc) || s.Now(sc).IsZero() {
			t.Error("OnLoop/Now")
		}
		if _, err := s.NewStream(sc, e.sink); !errors.Is(err, ErrStream) {
			t.Errorf("NewStream on a stream: %v", err)
		}
		if _, err := s.NewStream(e.parent, nil); err == nil {
			t.Error("NewStream with a nil sink")
		}
		if p, ok := s.StreamParent(e.parent); ok {
			t.Errorf("StreamParent of a connection: %v", p)
		}
		s.Cork(sc)
		l := s.loops[0]
		if !l.client(e.parent).corked || l.client(sc).corked {
			t.Error("Cork on a stream must cork its parent")
		}
		s.SetHandler(sc, h2)
		s.RawWrite(sc, []byte("to h2"))
	})
	if _, err := e.s.NewStream(e.parent, e.sink); !errors.Is(err, ErrNotOnLoop) {
		t.Errorf("NewStream off the loop: %v", err)
	}
	if _, ok := e.s.StreamParent(sc); ok {
		t.Error("StreamParent off the loop")
	}
	e.s.StreamReady(sc) // off the loop: nothing
	waitFor(t, "write callback to SetHandler's handler", func() bool {
		return len(h2.log.get()) == 1 && h2.log.get()[0] == fmt.Sprintf("w %v to h2 false", sc)
	})
	// Off the loop, reads are refused through their callbacks.
	h2.log.reset()
	e.s.RawRead(sc, make([]byte, 4))
	e.s.RawReadv(sc, [][]byte{make([]byte, 4)})
	waitFor(t, "failed read callbacks", func() bool {
		got := h2.log.get()
		return len(got) == 2 && got[0] == fmt.Sprintf("r %v true", sc) && got[1] == fmt.Sprintf("rv %v true", sc)
	})
	// Off the loop, a write is posted and reaches the sink as well.
	if err := e.s.Send(sc, []byte("posted")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "posted write taken", func() bool { return e.sink.taken(sc) == "to h2posted" })
	waitFor(t, "stats", func() bool {
		st := e.s.Stats()
		return st.StreamsOpen == 1 && st.ConnsOpen == 1 && strings.Contains(st.String(), "streams_open=1")
	})
	e.run(func() { e.s.RawClose(sc) })
	e.checkClean()
}

// TestStreamCongested: a stream is congested at StreamMaxQueued, not
// MaxQueued, and RawDrained fires once its sink took it down to half.
func TestStreamCongested(t *testing.T) {
	e := newStreamEnv(t, Config{StreamMaxQueued: 4096})
	e.sink.limit = 0
	sc := e.newStream()
	big := make([]byte, 8192)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	var cong, pcong bool
	e.run(func() {
		e.s.RawWrite(sc, big[:2000])
		cong = e.s.Congested(sc)
	})
	if cong {
		t.Fatal("congested below StreamMaxQueued")
	}
	e.run(func() {
		e.s.RawWrite(sc, big[2000:])
		cong, pcong = e.s.Congested(sc), e.s.Congested(e.parent)
	})
	if !cong || pcong {
		t.Fatalf("congested: stream %v parent %v", cong, pcong)
	}
	waitFor(t, "congested in stats", func() bool {
		st := e.s.Stats()
		return st.Congested == 1 && st.QueuedBytes >= 8192
	})
	e.sink.setLimit(3000) // the second write keeps its charge: still congested
	e.run(func() { e.s.StreamReady(sc) })
	e.run(func() { cong = e.s.Congested(sc) })
	if !cong || e.count("drained") != 0 {
		t.Errorf("congested %v after taking 3000 bytes; %q", cong, e.log.get())
	}
	e.sink.setLimit(-1)
	e.run(func() { e.s.StreamReady(sc) })
	e.waitLog(fmt.Sprintf("w %v %s false", sc, big[:2000]), fmt.Sprintf("w %v %s false", sc, big[2000:]), fmt.Sprintf("drained %v", sc))
	e.run(func() { cong = e.s.Congested(sc) })
	if cong || e.sink.taken(sc) != string(big) {
		t.Errorf("congested %v after all was taken", cong)
	}
	waitFor(t, "drained in stats", func() bool {
		st := e.s.Stats()
		return st.Congested == 0 && st.QueuedBytes == 0
	})
	e.run(func() { e.s.Abort(sc) })
	e.checkClean()
}

// TestStreamTableFull: streams take slots of the loop's client table;
// NewStream fails when it is full, and closing the parent aborts them all.
func TestStreamTableFull(t *testing.T) {
	e := newStreamEnv(t, Config{})
	var made []ClientNum
	var err error
	e.run(func() {
		e.s.loops[0].clients.max = 1 << chunkBits
		for len(made) <= 1<<chunkBits {
			var c ClientNum
			if c, err = e.s.NewStream(e.parent, e.sink); err != nil {
				break
			}
			made = append(made, c)
		}
	})
	if !errors.Is(err, errTooManyClients) || len(made) != 1<<chunkBits-1 {
		t.Fatalf("%d streams made, then %v", len(made), err)
	}
	waitFor(t, "streams in stats", func() bool {
		st := e.s.Stats()
		return st.StreamsOpen == uint64(len(made)) && st.ConnsOpen == 1
	})
	e.run(func() {
		// Some leave on their own first, from the middle and both ends of
		// the parent's list.
		for _, i := range []int{0, 10, len(made) - 1} {
			e.s.RawClose(made[i])
		}
	})
	e.run(func() { e.s.RawClose(e.parent) })
	waitFor(t, "every stream closed", func() bool { return e.count("close ") == len(made)+1 })
	if n := e.count("end "); n != len(made) {
		t.Errorf("%d StreamEnd for %d streams", n, len(made))
	}
	if n := e.count("end ") - strings.Count(strings.Join(e.log.get(), "\n"), "false"); n != 3 {
		t.Errorf("%d graceful ends, want 3", n)
	}
	e.checkClean()
}

// TestStreamShutdown: a graceful shutdown ends streams gracefully once
// their output was taken.
func TestStreamShutdown(t *testing.T) {
	e := newStreamEnv(t, Config{})
	sc := e.newStream()
	e.run(func() { e.s.Send(sc, []byte("bye")) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	e.waitLog(fmt.Sprintf("take %v bye", sc), fmt.Sprintf("close %v", sc))
	if n := e.count("end "); n != 1 {
		t.Errorf("%d StreamEnd: %q", n, e.log.get())
	}
}
