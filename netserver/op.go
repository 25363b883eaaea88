package netserver

import (
	"time"

	"github.com/uringnet/uringnet/ops"
	"github.com/uringnet/uringnet/tasks"
)

// Op is a custom operation queued in a client's output stream with
// Server.QueueOp: the extension point for work the loop does not know, such
// as splicing a file to the socket (package sendfile). An Op starts on the
// client's loop once every write queued before it has been sent; writes
// queued after it wait until it calls OpContext.Finish. Its methods run on
// the loop and must not block.
type Op interface {
	// Start is called once, on the loop, when the op reaches the head of
	// the client's output stream. It submits operations with x.NewOp, or finishes
	// at once.
	Start(x *OpContext)
	// Complete is called on the loop for every completion of an operation
	// the op submitted, with the tag given to OpContext.NewOp and the CQE
	// result.
	Complete(x *OpContext, tag uint64, res int32)
	// Cancel is called, instead of Start, when the client was closed before
	// the op could start. The op must release what it holds.
	Cancel(c ClientNum)
}

// OpContext is a running Op's handle on its loop. It is valid from Start
// until Finish, on the loop only.
type OpContext struct {
	l        *loop
	c        ClientNum
	fd       int
	op       Op
	ids      []tasks.ID // tasks in flight
	finished bool
}

// Client returns the client the op runs for.
func (x *OpContext) Client() ClientNum { return x.c }

// Fd returns the client's file descriptor, for the operations the op
// prepares. It stays open until the op has finished and they have
// completed.
func (x *OpContext) Fd() int { return x.fd }

// Loop returns the index of the loop the op runs on.
func (x *OpContext) Loop() int { return x.l.idx }

// Closing reports whether the client is being closed: the op should stop
// submitting and Finish once its operations in flight have completed.
func (x *OpContext) Closing() bool {
	cl := x.l.client(x.c)
	return cl == nil || cl.state != stOpen
}

// InFlight returns the number of the op's operations not yet completed.
func (x *OpContext) InFlight() int { return len(x.ids) }

// Reserve reports whether n more operations can be taken at once (task table and
// submission queue), submitting what is queued to make room in the SQ, so
// that a linked chain of n operations is never cut.
func (x *OpContext) Reserve(n int) bool {
	l := x.l
	if l.tbl.Free() < n {
		return false
	}
	if l.be.Space() < uint32(n) {
		l.cnt.enters++
		l.be.Submit()
	}
	return l.be.Space() >= uint32(n)
}

// NewOp returns an operation whose completion goes to the op's Complete with tag,
// or nil when the task table is full or the client is closing. The caller
// fills it (a Prep method, and Link) and calls Submit after the
// last one of a batch; the kernel must be given buffers that the op keeps
// referenced until their completion.
func (x *OpContext) NewOp(tag uint64) *ops.Op {
	l := x.l
	cl := l.client(x.c)
	if cl == nil || cl.state != stOpen || x.finished {
		return nil
	}
	id, t, ok := l.tbl.Acquire()
	if !ok {
		return nil
	}
	t.Kind = uint8(opCustom)
	t.Client = uint64(x.c)
	t.Ref = x
	t.Aux = tag
	o := l.getOp()
	o.UserData = uint64(id)
	x.ids = append(x.ids, id)
	cl.inflight++
	return o
}

// Supports reports whether the loop's backend runs operation c, for an op
// that has another way to do its work: io_uring runs them all, the epoll
// backend has no Splice, for one.
func (x *OpContext) Supports(c ops.Code) bool { return x.l.probe.Supported(c) }

// Sealed reports whether what the op sends to Fd must be sealed with Seal
// first: the client speaks TLS and the kernel does not seal for it. Such
// an op cannot splice or sendfile to the socket.
func (x *OpContext) Sealed() bool {
	cl := x.l.client(x.c)
	return cl != nil && cl.tls != nil && !cl.tls.ktx
}

// Seal appends plain, sealed into TLS records, to dst and returns the
// result, for a Sealed op to send as it is, in the order sealed. It
// returns plain appended unsealed when the op is not Sealed.
func (x *OpContext) Seal(dst, plain []byte) []byte {
	cl := x.l.client(x.c)
	if cl == nil || cl.tls == nil || cl.tls.ktx {
		return append(dst, plain...)
	}
	return x.l.sealTo(cl.tls, dst, plain)
}

// Submit hands the operations prepared so far to the backend (at once, or with the
// loop's batch).
func (x *OpContext) Submit() { x.l.prepared() }

// Cancel asks the backend to cancel every operation of the op still in flight;
// their completions still arrive (usually with -ECANCELED).
func (x *OpContext) Cancel() {
	for _, id := range x.ids {
		x.l.cancelTask(id)
	}
}

// AddBytesOut counts n bytes written to the client in the server's stats
// and marks the client active.
func (x *OpContext) AddBytesOut(n int) {
	x.l.cnt.bytesOut += uint64(n)
	if cl := x.l.client(x.c); cl != nil {
		cl.lastActive = x.l.now
	}
}

// Finish ends the op: the client's output stream resumes with the writes
// queued after it. With failed set, the client is closed instead. Calling
// Finish again does nothing. Operations still in flight keep the client's fd open
// until they complete, and their completions still reach Complete.
func (x *OpContext) Finish(failed bool) {
	if x.finished {
		return
	}
	x.finished = true
	l := x.l
	cl := l.client(x.c)
	if cl == nil {
		return
	}
	if len(cl.outq) > 0 && cl.outq[0].cb == cbOp && cl.sending {
		n := copy(cl.outq, cl.outq[1:])
		clear(cl.outq[n:])
		cl.outq = cl.outq[:n]
		cl.sending = false
		cl.sendItems = 0
		l.charge(x.c, cl, -opCost)
	}
	switch {
	case cl.state == stOpen && failed:
		l.closeClient(x.c, cl, ErrOpFailed)
	case cl.state == stOpen:
		l.markDirty(x.c, cl)
	default:
		l.maybeFinish(x.c, cl)
	}
}

// QueueOp queues op in c's output stream, after the writes already asked
// for. It returns an error, and op is not used, when c is not open (called
// on c's loop) or the server is not serving; a closed client found later
// gets op.Cancel.
func (s *Server) QueueOp(c ClientNum, op Op) error {
	return s.do(c, command{op: cmdCustom, c: c, custom: op})
}

// OnLoop reports whether the caller runs on the loop of client c, where
// Server calls take effect at once and Handler state may be touched without
// locks.
func (s *Server) OnLoop(c ClientNum) bool {
	l, err := s.loopOf(c)
	return err == nil && l.onLoop()
}

// startOp starts the op at the head of c's output stream.
func (l *loop) startOp(c ClientNum, cl *client) {
	it := &cl.outq[0]
	cl.sending = true
	cl.sendItems = 1
	x := &OpContext{l: l, c: c, fd: int(cl.fd), op: it.op}
	defer l.recoveredOp(x, "Op.Start")
	x.op.Start(x)
}

// onOp dispatches a completion of a custom op's operation.
func (l *loop) onOp(id tasks.ID, t *tasks.Task, res int32) {
	x := t.Ref.(*OpContext)
	tag := t.Aux
	l.tbl.Release(id)
	for i, v := range x.ids {
		if v == id {
			x.ids = append(x.ids[:i], x.ids[i+1:]...)
			break
		}
	}
	cl := l.client(x.c)
	if cl != nil {
		cl.inflight--
	}
	func() {
		defer l.recoveredOp(x, "Op.Complete")
		x.op.Complete(x, tag, res)
	}()
	if cl = l.client(x.c); cl != nil && cl.state == stClosing {
		l.maybeFinish(x.c, cl)
	}
}

// recoveredOp turns a panic in an op into a failed op: the client is
// closed.
func (l *loop) recoveredOp(x *OpContext, where string) {
	if r := recover(); r != nil {
		l.cnt.panics++
		l.log.Error("netserver: custom op panicked; closing its client", "callback", where, "client", x.c, "panic", r)
		x.Finish(true)
	}
}

// Now returns the time c's loop last woke up (it is refreshed once per
// batch of completions) when called on that loop, and time.Now otherwise:
// a clock for timestamps and timeouts in callbacks that costs no clock read.
func (s *Server) Now(c ClientNum) time.Time {
	if l, err := s.loopOf(c); err == nil && l.onLoop() {
		return time.Unix(0, l.now)
	}
	return time.Now()
}

// OnLoopIndex reports whether the caller runs on loop i (0 <= i < Loops()).
func (s *Server) OnLoopIndex(i int) bool {
	return i >= 0 && i < len(s.loops) && s.loops[i].onLoop()
}
