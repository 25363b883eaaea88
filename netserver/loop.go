package netserver

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/backend"
	"github.com/uringnet/uringnet/eventfd"
	"github.com/uringnet/uringnet/ops"
	"github.com/uringnet/uringnet/tasks"
	"golang.org/x/sys/unix"
)

// opKind says what a task is; it selects the completion handler.
type opKind uint8

const (
	opAccept opKind = iota + 1
	opRecv
	opSend
	opClose
	opRead
	opReadv
	opGroupWrite
	opGroupWritev
	opGroupRead
	opGroupClose
	opEventRead
	opWake
	opCancel
	opCustom
)

// listener is one listening socket of a loop.
type listener struct {
	fd       int
	armed    bool // an accept is in flight
	closed   bool
	retryAt  int64 // when to re-arm after an accept error (unix nanos), 0 = not waiting
	backoff  time.Duration
	acceptID uint64 // the accept task while armed
	// The shared-listener watch (watch.go): connections accepted, what
	// it was at the last look that found the backlog non-empty, and
	// whether the accept is being cancelled to be armed again.
	accepts, seenAccepts uint64
	seen, rearm          bool
}

// loop is one event loop: one ring, one OS thread, its clients and tasks.
type loop struct {
	s   *Server
	idx int
	h   Handler
	log *slog.Logger

	tid  atomic.Int64    // OS thread id while running, for onLoop
	gid  atomic.Uintptr  // the loop goroutine's descriptor while running (amd64)
	be   backend.Backend // io_uring or epoll: the loop never asks which
	buf  backend.Buffers
	tbl  *tasks.Table
	cqes []*ops.CQE

	probe                                           backend.Probe
	multishotAccept, multishotRecv, batch, cancelFD bool
	opShutdown                                      bool               // IORING_OP_SHUTDOWN, else shutdown(2)
	cancelQ                                         map[ClientNum]bool // clients whose tasks to cancel one by one (no cancelFD)

	listeners []listener
	clients   clientTable
	dirty     []ClientNum // clients with writes to send or a recv to re-arm
	starved   []ClientNum // clients that found the task table full
	deferred  []func() bool
	bufDirty  bool // buffers were recycled since the last publish
	readBufs  [][]byte
	copyBufs  [][]byte
	sendPool  []*sendState
	doneItems []writeItem
	// streamBufs is the scratch of what a stream's sink is offered;
	// flushing and streaming say flush or a StreamWrite is running.
	streamBufs          [][]byte
	flushing, streaming bool

	handshaking int         // TLS clients whose handshake has not ended
	hsRunning   int         // handshake goroutines running
	hsMax       int         // this loop's share of MaxHandshakes
	hsWaiting   []ClientNum // clients whose handshake waits for a slot
	nextHSSweep int64       // when to look for handshakes past their deadline, 0 = none pending
	plain       []byte      // opened records' plaintext, handed to RawRead
	plainOut    []byte      // plaintext gathered to be sealed
	sealBufs    [][]byte    // ciphertext buffers

	mem        int64       // backlog charged for all clients' output (backpressure.go)
	held       int64       // input held while reads wait
	budget     int64       // this loop's share of MaxMemory (0: none)
	overBudget bool        // mem passed budget: no reads are delivered
	congested  int         // clients congested now
	waiting    []ClientNum // clients whose reads wait for the budget

	wake        *eventfd.EventFD
	wakeArmed   bool
	wakeID      uint64
	wakePending atomic.Bool
	handedOff   bool        // a callback readied another goroutine (Handoff)
	corked      []ClientNum // clients whose sends wait for the end of the turn (Cork)
	cmdMu       sync.Mutex
	cmds        []command
	cmdSpare    []command

	now       int64 // unix nanos, refreshed once per turn
	nextSweep int64
	nextTick  int64 // when to call the Ticker next (unix nanos), 0 = never
	stopping  bool
	noAccept  bool // StopAccepting: listeners closed, clients served on
	// unlistened is closed once noAccept is set and every listener is
	// closed, or when the loop ends (StopAccepting waits for it).
	unlistened     chan struct{}
	unlistenedDone bool
	// watchUntil and nextWatch time the shared-listener watch (watch.go).
	watchUntil, nextWatch int64
	abort                 bool
	cnt                   counters
	pub                   published
}

func newLoop(s *Server, idx int) (*loop, error) {
	wake, err := eventfd.Open(false)
	if err != nil {
		return nil, err
	}
	l := &loop{s: s, idx: idx, h: s.h, log: s.cfg.Logger, wake: wake, unlistened: make(chan struct{})}
	l.clients.max = min(s.cfg.MaxConns+1<<16, 1<<24)
	if s.cfg.TLS != nil {
		l.hsMax = max(1, s.cfg.MaxHandshakes/s.cfg.Loops)
		l.plain = make([]byte, 16<<10)
		l.plainOut = make([]byte, 0, sealBudget)
	}
	if s.cfg.MaxMemory > 0 {
		l.budget = s.cfg.MaxMemory / int64(s.cfg.Loops)
	}
	return l, nil
}

// onLoop reports whether the caller runs on this loop's goroutine. On
// amd64 it compares goroutine descriptors (no syscall); elsewhere it
// compares thread ids: the loop goroutine is locked to its OS thread, which
// runs nothing else.
func (l *loop) onLoop() bool {
	if g := getg(); g != 0 {
		return l.gid.Load() == g
	}
	tid := l.tid.Load()
	return tid != 0 && int64(unix.Gettid()) == tid
}

// setup creates the ring and what hangs off it, on the loop's thread. Each
// kernel feature newer than 5.10 is used only when the kernel has it and
// Config.Disable does not switch it off.
func (l *loop) setup() error {
	cfg := &l.s.cfg
	on := func(f Features) bool { return cfg.Disable&f == 0 }
	r, err := backend.Open(l.s.backend, l.s.backendOptions())
	if err != nil {
		return fmt.Errorf("netserver: loop %d: %w", l.idx, err)
	}
	l.be = r
	probe, err := r.Probe()
	if err != nil {
		return fmt.Errorf("netserver: loop %d: %w", l.idx, err)
	}
	l.batch = on(FeatBatch)
	l.multishotAccept = on(FeatMultishot) && probe.MultishotAccept()
	// ASYNC_CANCEL_FD arrived with multishot accept (5.19).
	l.cancelFD = on(FeatCancelFD) && probe.MultishotAccept()
	l.opShutdown = on(FeatShutdown) && probe.Supported(ops.Shutdown)
	if on(FeatBufRing) && probe.MultishotAccept() {
		l.buf, err = r.RegisterBufRing(uint16(l.idx), uint32(cfg.BufferCount), cfg.BufferSize)
		if err != nil || l.buf == nil {
			l.log.Warn("netserver: no provided-buffer ring, using per-connection buffers", "loop", l.idx, "err", err)
			l.buf = nil
		}
	}
	l.multishotRecv = l.buf != nil && on(FeatMultishot) && probe.MultishotRecv()
	l.probe = probe
	l.tbl, err = tasks.New(cfg.MaxTasks)
	if err != nil {
		return err
	}
	l.cqes = make([]*ops.CQE, 256)
	return nil
}

func (l *loop) teardown() {
	l.signalUnlistened()
	if l.buf != nil {
		l.buf.Close()
	}
	if l.be != nil {
		l.be.Close()
	}
	if l.wake != nil {
		l.wake.Close()
	}
	l.tid.Store(0)
	l.gid.Store(0)
	l.publishStats()
}

// run is the loop's goroutine.
func (l *loop) run(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := l.setup()
	ready <- err
	if err != nil {
		l.teardown()
		return
	}
	l.tid.Store(int64(unix.Gettid()))
	l.gid.Store(getg())
	defer l.teardown()
	l.now = time.Now().UnixNano()
	if l.s.cfg.TickInterval > 0 {
		l.nextTick = l.now + int64(l.s.cfg.TickInterval)
	}
	for i := range l.listeners {
		l.armAccept(i)
	}
	if l.s.inherited {
		l.watchFor(watchWindow)
	}
	l.armWake()
	l.drainCommands()
	rounds := 0
	for {
		l.flush()
		if l.handedOff && rounds < maxHandoffRounds && !l.stopping {
			// Let the goroutines the callbacks readied run before the
			// loop blocks (blocked in the kernel, the loop's thread would
			// keep the P until sysmon takes it, 20 us to 10 ms, and with
			// GOMAXPROCS=1 they would wait that long), and take what they
			// posted in this same turn: corked clients' answers then go
			// out together.
			l.handedOff = false
			rounds++
			l.wakePending.Store(true) // posts need no wake-up: drained next
			runtime.Gosched()
			l.drainCommands()
			continue
		}
		rounds = 0
		if len(l.corked) > 0 {
			l.uncork()
			l.flush()
		}
		if l.stopping && l.finished() {
			return
		}
		wait := l.nextWait()
		l.cnt.enters++
		l.publishStats()
		if _, err := l.be.SubmitAndWaitTimeout(1, wait); err != nil {
			l.log.Error("netserver: waiting for completions failed", "loop", l.idx, "backend", l.s.beName, "err", err)
			time.Sleep(time.Millisecond)
		}
		l.now = time.Now().UnixNano()
		l.reap()
		l.timers()
	}
}

// finished reports whether a stopping loop has nothing left in flight.
func (l *loop) finished() bool {
	if l.clients.open > 0 {
		return false
	}
	if l.wakeArmed {
		l.cancelTask(tasks.ID(l.wakeID))
		l.wakeArmed = false
	}
	return l.tbl.InFlight() == 0
}

// nextWait returns how long the next enter may wait.
func (l *loop) nextWait() time.Duration {
	next := int64(0)
	if l.s.cfg.IdleTimeout > 0 {
		next = l.nextSweep
	}
	if l.nextTick != 0 && (next == 0 || l.nextTick < next) {
		next = l.nextTick
	}
	if l.nextHSSweep != 0 && (next == 0 || l.nextHSSweep < next) {
		next = l.nextHSSweep
	}
	if w := l.watchDeadline(); w != 0 && (next == 0 || w < next) {
		next = w
	}
	for i := range l.listeners {
		if r := l.listeners[i].retryAt; r != 0 && (next == 0 || r < next) {
			next = r
		}
	}
	if len(l.deferred) > 0 || (l.stopping && l.clients.open == 0) {
		return 10 * time.Millisecond
	}
	if next == 0 {
		return 0
	}
	d := time.Duration(next - l.now)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d
}

func (l *loop) publishStats() {
	if l.tbl == nil {
		return
	}
	l.pub.store(&l.cnt, gauges{
		tasksInFlight: l.tbl.InFlight(), stale: l.tbl.Stats().Stale,
		congested: l.congested, mem: l.mem, held: l.held, overBudget: l.overBudget,
	})
}

// getOp returns a free Op, submitting what is queued when the queue is full.
func (l *loop) getOp() *ops.Op {
	for i := 0; ; i++ {
		if o := l.be.GetOp(); o != nil {
			l.cnt.sqes++
			return o
		}
		l.cnt.enters++
		if _, err := l.be.Submit(); err != nil && i > 3 {
			panic(fmt.Sprintf("netserver: submission queue stuck: %v", err))
		}
	}
}

// prepared is called after an Op is filled; without batching it submits
// at once.
func (l *loop) prepared() {
	if !l.batch {
		l.cnt.enters++
		l.be.Submit()
	}
}

// closeFD closes fd at once, outside the backend, which must forget it
// first (the epoll backend keeps state per fd number).
func (l *loop) closeFD(fd int) {
	l.be.Forget(fd)
	unix.Close(fd)
}

// reap dispatches every ready completion.
func (l *loop) reap() {
	for {
		n := l.be.PeekBatchCQE(l.cqes)
		if n == 0 {
			break
		}
		for i := 0; i < n; i++ {
			c := *l.cqes[i]
			l.be.CQAdvance(1)
			l.dispatch(&c)
		}
		if l.bufDirty {
			l.buf.Publish()
			l.bufDirty = false
		}
	}
}

// dispatch hands one completion to its handler.
func (l *loop) dispatch(cqe *ops.CQE) {
	if cqe.UserData == ops.ReservedUserData {
		return
	}
	id := tasks.ID(cqe.UserData)
	t, ok := l.tbl.Get(id)
	if !ok {
		l.log.Error("netserver: completion for an ended task", "loop", l.idx, "user_data", cqe.UserData, "res", cqe.Res)
		return
	}
	switch opKind(t.Kind) {
	case opAccept:
		l.onAccept(id, t, cqe)
	case opRecv:
		l.onRecv(id, t, cqe)
	case opSend:
		l.onSend(id, t, cqe.Res)
	case opClose:
		l.onClose(id, t, cqe.Res)
	case opRead, opReadv:
		l.onUserRead(id, t, cqe.Res)
	case opEventRead:
		l.onEvent(id, t, cqe.Res)
	case opWake:
		l.onWake(id, cqe)
	case opCancel:
		l.tbl.Release(id)
	case opCustom:
		l.onOp(id, t, cqe.Res)
	default:
		l.tbl.Release(id)
	}
}

// cancelTask asks the kernel to cancel the task with this id.
func (l *loop) cancelTask(target tasks.ID) {
	id, t, ok := l.tbl.Acquire()
	if !ok {
		l.deferred = append(l.deferred, func() bool {
			if l.tbl.Free() == 0 {
				return false
			}
			l.cancelTask(target)
			return true
		})
		return
	}
	t.Kind = uint8(opCancel)
	o := l.getOp()
	o.PrepCancel(uint64(target), 0)
	o.UserData = uint64(id)
	l.prepared()
}

// armWake arms the read of the loop's wake-up eventfd.
func (l *loop) armWake() {
	id, t, ok := l.tbl.Acquire()
	if !ok {
		return // retried by timers
	}
	t.Kind = uint8(opWake)
	t.Ref = l.wake
	o := l.getOp()
	o.PrepRead(l.wake.Fd(), l.wake.Buffer(), ^uint64(0))
	o.UserData = uint64(id)
	l.wakeID = uint64(id)
	l.wakeArmed = true
	l.prepared()
}

func (l *loop) onWake(id tasks.ID, cqe *ops.CQE) {
	l.tbl.Release(id)
	l.wakeArmed = false
	if cqe.Res == -int32(unix.ECANCELED) && l.stopping {
		return
	}
	if !l.stopping || l.clients.open > 0 {
		l.armWake()
	}
	l.drainCommands()
}

// flush sends what callbacks wrote, re-arms recvs and retries deferred work.
func (l *loop) flush() {
	if len(l.starved) > 0 && l.tbl.Free() > 0 {
		for _, c := range l.starved {
			if cl := l.client(c); cl != nil {
				l.markDirty(c, cl)
			}
		}
		l.starved = l.starved[:0]
	}
	if len(l.deferred) > 0 {
		kept := l.deferred[:0]
		for _, f := range l.deferred {
			if !f() {
				kept = append(kept, f)
			}
		}
		for i := len(kept); i < len(l.deferred); i++ {
			l.deferred[i] = nil
		}
		l.deferred = kept
	}
	l.flushing = true
	for len(l.dirty) > 0 {
		batch := l.dirty
		l.dirty = nil
		for _, c := range batch {
			if cl := l.client(c); cl != nil {
				cl.dirty = false
				if cl.state == stOpen && !l.resumeReading(c, cl) {
					continue // closed by a callback
				}
				if cl = l.client(c); cl != nil {
					l.service(c, cl)
				}
			}
		}
		if l.dirty == nil {
			l.dirty = batch[:0]
			break
		}
	}
	l.flushing = false
	l.cancelQueued()
	if l.bufDirty {
		l.buf.Publish()
		l.bufDirty = false
	}
}

// markDirty puts a client on the flush list.
func (l *loop) markDirty(c ClientNum, cl *client) {
	if !cl.dirty {
		cl.dirty = true
		l.dirty = append(l.dirty, c)
	}
}

// timers re-arms accepts after a back-off and closes idle clients.
func (l *loop) timers() {
	for i := range l.listeners {
		ln := &l.listeners[i]
		if ln.retryAt != 0 && l.now >= ln.retryAt && !l.acceptStopped() {
			ln.retryAt = 0
			l.armAccept(i)
		}
	}
	if !l.wakeArmed && !l.stopping {
		l.armWake()
	}
	l.watch()
	if l.nextTick != 0 && l.now >= l.nextTick {
		l.nextTick = l.now + int64(l.s.cfg.TickInterval)
		l.tick()
	}
	l.tlsSweep()
	if d := l.s.cfg.IdleTimeout; d > 0 && l.now >= l.nextSweep {
		l.nextSweep = l.now + int64(d)/4 + int64(10*time.Millisecond)
		limit := l.now - int64(d)
		l.forEachOpen(func(c ClientNum, cl *client) {
			if cl.kind == kindConn && cl.lastActive < limit {
				l.closeClient(c, cl, ErrIdleTimeout)
			}
		})
	}
}

// beginStop starts a graceful (abort=false) or immediate stop.
func (l *loop) beginStop(abort bool) {
	if l.stopping && (!abort || l.abort) {
		return
	}
	l.stopping = true
	l.abort = l.abort || abort
	if !l.noAccept {
		l.stopAccepting()
	}
	l.forEachOpen(func(c ClientNum, cl *client) {
		if abort || cl.kind == kindEvent {
			l.closeClient(c, cl, ErrShutdown)
		} else {
			l.closeGracefully(c, cl, ErrShutdown)
		}
	})
}

var errNoTask = errors.New("netserver: task table full")
