package netserver

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// Virtual clients (streams): a ClientNum in the parent's loop client
// table with no fd (kindStream, fd -1), for protocols that multiplex
// requests over one connection (HTTP/2). Every call keyed by a ClientNum
// works on it; what it writes is offered to its StreamSink instead of a
// socket, on the loop's flush, and taking bytes completes them exactly as
// a kernel send would. A stream is generation-checked like any client, so
// a late write after it ended fails and never reaches a later stream. The
// parent keeps its open streams on an intrusive list (slot indices), and
// closing the parent, in any way, aborts them.

// ErrStream is returned by the calls a virtual client cannot do: RawRead,
// RawReadv and Group (it has no fd), NewStream on a stream parent.
var ErrStream = errors.New("netserver: not possible on a virtual client (stream)")

// DefaultStreamMaxQueued is Config.StreamMaxQueued's default.
const DefaultStreamMaxQueued = 64 << 10

// StreamSink takes virtual clients' output, on their loop.
type StreamSink interface {
	// StreamWrite is offered c's queued output in order, up to the next custom op (an
	// Op queued with QueueOp), and returns how many bytes it took (it may take fewer; then
	// c is blocked until StreamReady(c)). Taking bytes completes them exactly as a kernel
	// send would: RawWrite/RawWritev callbacks fire once all of an item was taken, copy
	// buffers (Send) recycle, backlog charges drop, RawDrained fires as for sockets.
	// The sink must copy what it keeps: the buffers are the handler's.
	StreamWrite(c ClientNum, bufs [][]byte) int
	// StreamEnd says c's output is complete (graceful: RawClose after everything queued was
	// taken, or ShutdownWrite) or cut (graceful=false: Abort, or closed with output left).
	// It is called once per stream, before the stream's Handler.RawClose.
	StreamEnd(c ClientNum, graceful bool)
}

// NewStream makes a virtual client on parent's loop; it must be called on that loop
// (from a callback of the parent). Its callbacks go to the server's Handler unless
// SetHandler says otherwise; Accept is not called for it. It fails when the parent is not
// open or the loop's client table is full (Config max clients).
//
// Errors: ErrNotOnLoop off parent's loop, ErrClosed when parent is not
// open, ErrStream when parent is itself a stream, and an error for a nil
// sink or a full table. The stream's RawClose ends it gracefully once its
// sink took all it queued, Abort cuts it; closing the parent, in any way,
// aborts it with the parent's cause. A stream is not a connection
// (Stats.Streams and StreamsOpen count it, ConnsOpen and Closed do not),
// the idle sweep skips it, and its congestion threshold is
// Config.StreamMaxQueued.
func (s *Server) NewStream(parent ClientNum, sink StreamSink) (ClientNum, error) {
	l, err := s.loopOf(parent)
	if err != nil {
		return 0, err
	}
	if !l.onLoop() {
		return 0, ErrNotOnLoop
	}
	pcl := l.client(parent)
	if pcl == nil || pcl.state != stOpen {
		return 0, fmt.Errorf("netserver: NewStream(%v): %w", parent, ErrClosed)
	}
	if pcl.kind == kindStream {
		return 0, fmt.Errorf("netserver: NewStream(%v): %w", parent, ErrStream)
	}
	if sink == nil {
		return 0, errors.New("netserver: NewStream: nil sink")
	}
	c, cl, ok := l.newClient(-1, kindStream)
	if !ok {
		return 0, errTooManyClients
	}
	cl.parent, cl.sink = parent, sink
	// Push c at the head of the parent's list.
	slot := int32(c.Slot()) + 1
	cl.nextKid = pcl.kids
	if pcl.kids != 0 {
		l.clients.slot(int(pcl.kids - 1)).prevKid = slot
	}
	pcl.kids = slot
	l.cnt.streams++
	l.cnt.streamsOpen++
	return c, nil
}

// StreamReady says the sink can take more of c's output: netserver offers it again in the
// loop's current flush (or the next); safe to call from inside StreamWrite. On the loop only.
// (Called from StreamWrite, it makes the loop offer again at once: a sink
// that takes nothing must not call it there, or the flush never ends.)
func (s *Server) StreamReady(c ClientNum) {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return
	}
	cl := l.client(c)
	if cl == nil || cl.state != stOpen || cl.kind != kindStream {
		return
	}
	cl.blocked = false
	cl.readyAgain = true
	l.markDirty(c, cl)
}

// StreamParent returns the parent of virtual client c, or ok=false when c is not an open stream.
// Call it on c's loop; elsewhere it returns ok=false.
func (s *Server) StreamParent(c ClientNum) (parent ClientNum, ok bool) {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return 0, false
	}
	cl := l.client(c)
	if cl == nil || cl.state != stOpen || cl.kind != kindStream {
		return 0, false
	}
	return cl.parent, true
}

// peer returns the client that answers for c's connection: its parent
// when c is a stream (nil when that is gone).
func (l *loop) peer(c ClientNum, cl *client) (ClientNum, *client) {
	if cl != nil && cl.kind == kindStream {
		p := l.client(cl.parent)
		if p == nil || p.state != stOpen {
			return cl.parent, nil
		}
		return cl.parent, p
	}
	return c, cl
}

// serviceStream offers a stream's queued output to its sink, starts the
// ops at the head of its queue, and ends it after its last write. It runs
// from flush only, never nested in a callback or in the sink.
func (l *loop) serviceStream(c ClientNum, cl *client) {
	if !l.flushing || l.streaming {
		l.markDirty(c, cl)
		return
	}
	for cl.state == stOpen && !cl.sending && len(cl.outq) > 0 {
		it := &cl.outq[0]
		switch {
		case it.size == it.done:
			l.complete(c, cl, 0)
		case it.cb == cbOp:
			l.startOp(c, cl)
		case cl.blocked:
			return
		default:
			if !l.streamWrite(c, cl) {
				return
			}
		}
		if cl = l.client(c); cl == nil {
			return
		}
	}
	if cl.state == stOpen && cl.closeAfterWrites && !cl.sending && len(cl.outq) == 0 {
		l.endStream(c, cl, true)
		if cl = l.client(c); cl != nil {
			l.closeClient(c, cl, nil)
		}
	}
}

// streamWrite offers the stream's writes up to its first op to the sink
// and completes what it took. It returns whether the sink took it all.
func (l *loop) streamWrite(c ClientNum, cl *client) bool {
	bufs := l.streamBufs[:0]
	total := 0
	for i := range cl.outq {
		it := &cl.outq[i]
		if it.cb == cbOp {
			break
		}
		skip := it.done
		if it.bufs == nil {
			if b := it.data[skip:it.size]; len(b) > 0 {
				bufs = append(bufs, b)
				total += len(b)
			}
			continue
		}
		for _, b := range it.bufs {
			if skip >= len(b) {
				skip -= len(b)
				continue
			}
			b = b[skip:]
			skip = 0
			bufs = append(bufs, b)
			total += len(b)
		}
	}
	cl.readyAgain = false
	l.streaming = true
	n := l.sinkWrite(c, cl, bufs)
	l.streaming = false
	clear(bufs)
	l.streamBufs = bufs[:0]
	if cl = l.client(c); cl == nil || cl.state != stOpen {
		return false
	}
	n = min(max(n, 0), total)
	all := n == total
	if !all {
		if cl.readyAgain {
			l.markDirty(c, cl) // StreamReady from within StreamWrite: offer again
		} else {
			cl.blocked = true
		}
	}
	cl.readyAgain = false
	if n > 0 {
		cl.lastActive = l.now
		l.complete(c, cl, n)
	}
	return all
}

// sinkWrite calls the sink's StreamWrite; a panic takes nothing and
// aborts the stream.
func (l *loop) sinkWrite(c ClientNum, cl *client, bufs [][]byte) (n int) {
	defer func() {
		if r := recover(); r != nil {
			n = 0
			l.streaming = false
			l.sinkPanicked(c, "StreamWrite", r)
		}
	}()
	return cl.sink.StreamWrite(c, bufs)
}

func (l *loop) sinkPanicked(c ClientNum, where string, r any) {
	l.cnt.panics++
	l.log.Error("netserver: stream sink panicked; closing its stream",
		"callback", where, "client", c, "panic", r, "stack", string(debug.Stack()))
	if cl := l.client(c); cl != nil {
		l.closeClient(c, cl, fmt.Errorf("%w: %s: %v", ErrCallbackPanic, where, r))
	}
}

// endStream reports the end of a stream's output to its sink, once.
func (l *loop) endStream(c ClientNum, cl *client, graceful bool) {
	if cl.ended {
		return
	}
	cl.ended = true
	defer func() {
		if r := recover(); r != nil {
			l.sinkPanicked(c, "StreamEnd", r)
		}
	}()
	cl.sink.StreamEnd(c, graceful)
}

// closeStreams runs in closeClient for a stream (it leaves its parent's
// list, and its sink hears of a cut) or a parent (its streams are
// aborted, with its cause).
func (l *loop) closeStreams(c ClientNum, cl *client) {
	if cl.kind == kindStream {
		l.unlinkStream(c, cl)
		l.endStream(c, cl, false)
	}
	for cl.kids != 0 {
		i := int(cl.kids - 1)
		kid := l.clients.slot(i)
		kc := makeClientNum(l.idx, i, kid.gen)
		if kid.state != stOpen { // cannot be: a closing stream leaves the list
			l.unlinkStream(kc, kid)
			continue
		}
		l.closeClient(kc, kid, cl.cause)
	}
}

// unlinkStream takes stream c off its parent's list.
func (l *loop) unlinkStream(c ClientNum, cl *client) {
	if cl.prevKid != 0 {
		l.clients.slot(int(cl.prevKid - 1)).nextKid = cl.nextKid
	} else if p := l.client(cl.parent); p != nil && p.kids == int32(c.Slot())+1 {
		p.kids = cl.nextKid
	}
	if cl.nextKid != 0 {
		l.clients.slot(int(cl.nextKid - 1)).prevKid = cl.prevKid
	}
	cl.prevKid, cl.nextKid = 0, 0
}

// streamShutdown is ShutdownWrite's Start on a stream: its output ends
// gracefully after what was queued before (a RawClose).
func streamShutdown(x *OpContext) bool {
	cl := x.l.client(x.c)
	if cl == nil || cl.kind != kindStream {
		return false
	}
	x.l.closeGracefully(x.c, cl, ErrLocalClose)
	x.Finish(false)
	return true
}
