package netserver

import (
	"github.com/uringnet/uringnet/eventfd"
	"github.com/uringnet/uringnet/ops"
	"github.com/uringnet/uringnet/tasks"
	"golang.org/x/sys/unix"
)

type clientState uint8

const (
	stFree      clientState = iota
	stOpen                  // usable
	stClosing               // waiting for its operations to end
	stClosingFD             // its fd is being closed
)

type clientKind uint8

const (
	kindConn   clientKind = iota + 1 // accepted connection, read automatically
	kindPassed                       // fd adopted with PassFD
	kindEvent                        // eventfd opened with EventOpen
	kindStream                       // virtual client with no fd (NewStream, stream.go)
)

// client is one slot of a loop's client table.
type client struct {
	gen              uint32
	fd               int32
	state            clientState
	kind             clientKind
	socket           bool
	dirty            bool // on the flush list
	sending          bool // a send is in flight
	corked           bool // sends wait for the end of the loop's turn (Cork)
	shrunk           bool // SO_RCVBUF was set small (congested once)
	readOnce         bool // a recv brought bytes: later ones may be multishot
	needRecv         bool // the recv must be re-armed at the next flush
	closeAfterWrites bool
	blocked          bool    // stream: the sink took part of what it was offered (StreamReady)
	readyAgain       bool    // stream: StreamReady came during StreamWrite
	ended            bool    // stream: StreamEnd was called
	inflight         int32   // tasks referencing this client
	sendItems        int32   // outq items covered by the send in flight
	queued           int     // bytes in outq not yet written (custom ops excluded)
	cost             int     // backlog charged for outq (backpressure.go)
	congested        bool    // cost reached MaxQueued; reads wait until it drains to half
	drained          bool    // RawDrained is owed at the next service
	paused           bool    // PauseRead
	waiting          bool    // on the loop's waiting list (over budget)
	recvCancelled    bool    // the multishot recv is being cancelled to stop reading
	heldEOF          bool    // the peer's EOF arrived behind held input
	singleShot       bool    // reads one buffer per recv (it was congested once)
	held             []byte  // input read while the client was not readable
	cause            error   // why the client is being closed (Handler.RawClose)
	h                Handler // SetHandler's override of the server's Handler, or nil
	recvID           tasks.ID
	lastActive       int64
	info             uint64
	outq             []writeItem
	recvBuf          []byte // per-connection read buffer (no buffer ring)
	ev               *eventfd.EventFD
	tls              *tlsState  // the record layer of a TLS connection
	sink             StreamSink // stream: takes its output
	parent           ClientNum  // stream: the client it belongs to
	kids             int32      // parent: slot+1 of its first open stream, or 0
	nextKid, prevKid int32      // stream: slot+1 of its siblings, or 0
}

const chunkBits = 10

// clientTable holds clients in fixed chunks, so pointers stay valid while
// the table grows.
type clientTable struct {
	chunks [][]client
	free   []int32
	open   int // slots in use
	max    int
}

func (t *clientTable) slot(i int) *client {
	return &t.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
}

// alloc returns a free slot, or ok=false when the table is at its limit.
func (t *clientTable) alloc() (int, *client, bool) {
	if len(t.free) == 0 {
		n := len(t.chunks) << chunkBits
		if n >= t.max {
			return 0, nil, false
		}
		t.chunks = append(t.chunks, make([]client, 1<<chunkBits))
		for i := n + 1<<chunkBits - 1; i >= n; i-- {
			t.free = append(t.free, int32(i))
		}
	}
	i := int(t.free[len(t.free)-1])
	t.free = t.free[:len(t.free)-1]
	cl := t.slot(i)
	if cl.gen == 0 {
		cl.gen = 1
	}
	t.open++
	return i, cl, true
}

// release frees a slot and moves it to its next generation.
func (t *clientTable) release(i int) {
	cl := t.slot(i)
	gen := cl.gen + 1
	if gen == 0 {
		gen = 1
	}
	outq := cl.outq[:0]
	*cl = client{gen: gen, outq: outq}
	t.free = append(t.free, int32(i))
	t.open--
}

// forEachOpen calls f for every open client of the loop.
func (l *loop) forEachOpen(f func(ClientNum, *client)) {
	for ci, chunk := range l.clients.chunks {
		for j := range chunk {
			if cl := &chunk[j]; cl.state == stOpen {
				f(makeClientNum(l.idx, ci<<chunkBits|j, cl.gen), cl)
			}
		}
	}
}

// client returns the open or closing client c, or nil when c is not (or no
// longer) a client of this loop.
func (l *loop) client(c ClientNum) *client {
	if c.Loop() != l.idx {
		return nil
	}
	i := c.Slot()
	if i >= len(l.clients.chunks)<<chunkBits {
		return nil
	}
	cl := l.clients.slot(i)
	if cl.gen != c.Gen() || cl.state == stFree {
		return nil
	}
	return cl
}

// newClient takes a slot for fd and returns its number.
func (l *loop) newClient(fd int, kind clientKind) (ClientNum, *client, bool) {
	i, cl, ok := l.clients.alloc()
	if !ok {
		return 0, nil, false
	}
	cl.fd, cl.kind, cl.state, cl.lastActive = int32(fd), kind, stOpen, l.now
	return makeClientNum(l.idx, i, cl.gen), cl, true
}

// closeGracefully closes c once its queued writes are sent.
func (l *loop) closeGracefully(c ClientNum, cl *client, cause error) {
	if cl.state != stOpen {
		return
	}
	if cl.cause == nil {
		cl.cause = cause
	}
	if !cl.sending && len(cl.outq) == 0 {
		if cl.kind == kindStream {
			l.endStream(c, cl, true)
			if cl = l.client(c); cl == nil {
				return
			}
		}
		l.closeClient(c, cl, nil)
		return
	}
	cl.closeAfterWrites = true
}

// closeClient starts closing c at once: queued writes fail, operations in
// flight are cancelled, and the fd is closed when the last one has ended.
func (l *loop) closeClient(c ClientNum, cl *client, cause error) {
	if cl.state != stOpen {
		return
	}
	if cl.cause == nil {
		cl.cause = cause
	}
	if cl.cause == nil {
		cl.cause = ErrLocalClose
	}
	cl.state = stClosing
	l.failQueued(c, cl)
	if cl.kids != 0 || cl.kind == kindStream {
		l.closeStreams(c, cl)
	}
	if cl.inflight > 0 {
		l.cancelClient(c, cl)
	}
	l.maybeFinish(c, cl)
}

// cancelClient cancels every operation in flight on c's fd: with one
// ASYNC_CANCEL by fd (5.19), else each by its user_data, found by a scan of
// the task table that cancelQueued runs once per loop turn for every
// client closed in it.
func (l *loop) cancelClient(c ClientNum, cl *client) {
	if l.cancelFD && cl.fd >= 0 {
		id, t, ok := l.tbl.Acquire()
		if ok {
			t.Kind = uint8(opCancel)
			o := l.getOp()
			o.PrepCancelFD(int(cl.fd), ops.CancelAll)
			o.UserData = uint64(id)
			l.prepared()
			return
		}
	}
	if l.cancelQ == nil {
		l.cancelQ = map[ClientNum]bool{}
	}
	l.cancelQ[c] = true
}

// cancelQueued cancels each task of the clients in cancelQ, in one scan of
// the task table. When the table has no free task for a cancel, the clients
// stay queued and the next turn scans again (cancelling a task twice is
// harmless: the second cancel finds nothing).
func (l *loop) cancelQueued() {
	if len(l.cancelQ) == 0 {
		return
	}
	complete := true
	l.tbl.ForEach(func(id tasks.ID, t *tasks.Task) {
		if opKind(t.Kind) == opCancel || !l.cancelQ[ClientNum(t.Client)] {
			return
		}
		if l.tbl.Free() == 0 {
			complete = false
			return
		}
		l.cancelTask(id)
	})
	if complete {
		clear(l.cancelQ)
	}
}

// taskDone is called when a task of c ended.
func (l *loop) taskDone(c ClientNum, cl *client) {
	cl.inflight--
	if cl.state == stClosing {
		l.maybeFinish(c, cl)
	}
}

// maybeFinish closes the fd of a closing client with nothing in flight.
func (l *loop) maybeFinish(c ClientNum, cl *client) {
	if cl.state != stClosing || cl.inflight > 0 {
		return
	}
	cl.state = stClosingFD
	if cl.kind >= kindEvent {
		if cl.kind == kindEvent {
			l.s.events.Delete(c)
			l.be.Forget(int(cl.fd))
			cl.ev.Close()
		}
		l.finishClose(c, cl) // a stream has no fd
		return
	}
	id, t, ok := l.tbl.Acquire()
	if !ok {
		l.closeFD(int(cl.fd))
		l.finishClose(c, cl)
		return
	}
	t.Kind = uint8(opClose)
	t.Client = uint64(c)
	o := l.getOp()
	o.PrepClose(int(cl.fd))
	o.UserData = uint64(id)
	l.prepared()
}

func (l *loop) onClose(id tasks.ID, t *tasks.Task, res int32) {
	c := ClientNum(t.Client)
	l.tbl.Release(id)
	if res < 0 {
		l.log.Warn("netserver: close failed", "client", c, "errno", unix.Errno(-res))
	}
	if cl := l.client(c); cl != nil {
		l.finishClose(c, cl)
	}
}

// finishClose frees c's slot and reports the close.
func (l *loop) finishClose(c ClientNum, cl *client) {
	kind, cause, h := cl.kind, cl.cause, cl.h
	if h == nil {
		h = l.h
	}
	if cl.tls != nil {
		if !cl.tls.ready {
			kind = 0 // its handshake never ended: the Handler never had it
		}
		l.tlsRelease(cl)
	}
	l.releaseCharges(cl)
	if cl.recvBuf != nil {
		l.putReadBuf(cl.recvBuf)
	}
	l.clients.release(c.Slot())
	if kind == kindStream {
		l.cnt.streamsOpen--
		l.cbClose(h, c, cause)
		return
	}
	l.cnt.closed++
	switch kind {
	case kindConn:
		l.cnt.connsOpen--
		l.s.conns.Add(-1)
		l.cbClose(h, c, cause)
	case 0:
		l.cnt.connsOpen--
		l.s.conns.Add(-1)
	case kindPassed:
		l.cbClose(h, c, cause)
	}
}
