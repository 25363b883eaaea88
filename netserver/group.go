package netserver

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// groupOp is one operation of a linked group.
type groupOp struct {
	kind opKind
	c    ClientNum
	data []byte
	bufs [][]byte
}

// Group builds a linked group of operations (the seed's queue_* calls):
// Submit sends them together, they run in order, and when one fails the
// rest are cancelled and report failed=true. A group takes its place in
// the output stream of each client it names, like a write: it starts once
// the writes asked for before it have left, and writes asked for after it
// wait until it has ended, so writes to one client always leave in call
// order and nothing interleaves with a group's writes. A group's close
// closes the client once the group has ended (whether or not its
// operations succeeded), failing the writes asked for after it. Unless
// operations must fail together, use the plain calls (RawWrite, ...)
// instead. All clients of a group must belong to one loop. A Group is used
// by one goroutine.
type Group struct {
	s   *Server
	ops []groupOp
}

// NewGroup starts an empty group.
func (s *Server) NewGroup() *Group { return &Group{s: s} }

// QueueWrite adds a write of data to c; the RawWrite callback reports it.
func (g *Group) QueueWrite(c ClientNum, data []byte) {
	g.ops = append(g.ops, groupOp{kind: opGroupWrite, c: c, data: data})
}

// QueueWritev adds a vectored write to c; the RawWritev callback reports it.
func (g *Group) QueueWritev(c ClientNum, bufs [][]byte) {
	g.ops = append(g.ops, groupOp{kind: opGroupWritev, c: c, bufs: bufs})
}

// QueueRead adds a read from c into buf; the RawRead callback reports it.
func (g *Group) QueueRead(c ClientNum, buf []byte) {
	g.ops = append(g.ops, groupOp{kind: opGroupRead, c: c, data: buf})
}

// QueueClose adds a close of c after the operations before it.
func (g *Group) QueueClose(c ClientNum) {
	g.ops = append(g.ops, groupOp{kind: opGroupClose, c: c})
}

// Len returns the number of operations queued.
func (g *Group) Len() int { return len(g.ops) }

// Submit sends the group to the ring and empties it.
func (g *Group) Submit() error {
	ops := g.ops
	g.ops = nil
	if len(ops) == 0 {
		return nil
	}
	first := ops[0].c.Loop()
	for _, op := range ops {
		if op.c.Loop() != first {
			return errors.New("netserver: a group's clients must belong to one loop")
		}
	}
	if len(ops) > int(g.s.cfg.RingEntries) {
		return fmt.Errorf("netserver: group of %d operations exceeds the ring size %d", len(ops), g.s.cfg.RingEntries)
	}
	return g.s.do(ops[0].c, command{op: cmdGroup, c: ops[0].c, group: ops})
}

// A submitted group runs as a custom Op in the output stream of every
// client it names (a groupMember per client): it starts once it has
// reached the head of each of those streams, so the writes asked for
// before it have left, and the writes asked for after it wait until its
// chain has ended. Writes to one client therefore leave in call order, and
// a group is atomic with respect to them.

// groupRun is one submitted group.
type groupRun struct {
	l       *loop
	ops     []groupOp
	members []*groupMember
	waiting int  // members not yet at the head of their client's stream
	failed  bool // a member's client was closed before the group could start
	pending int  // SQEs in flight
	iovs    [][]unix.Iovec
	msgs    []unix.Msghdr
	closing map[ClientNum]bool // clients to close when the group ends
}

// groupMember is a group's place in one client's output stream.
type groupMember struct {
	run *groupRun
	c   ClientNum
	x   *OpContext
}

// Start is called when the group reaches the head of the member's stream.
func (m *groupMember) Start(x *OpContext) {
	m.x = x
	m.run.waiting--
	m.run.maybeStart()
}

// Cancel is called instead of Start when the member's client was closed.
func (m *groupMember) Cancel(ClientNum) {
	m.run.failed = true
	m.run.waiting--
	m.run.maybeStart()
}

// Complete receives the completion of the group's operation number tag.
func (m *groupMember) Complete(_ *OpContext, tag uint64, res int32) {
	m.run.complete(int(tag), res)
}

// submitGroup queues a group in the streams of the clients it names.
func (l *loop) submitGroup(ops []groupOp, direct bool) error {
	for _, op := range ops {
		cl := l.client(op.c)
		if cl == nil || cl.state != stOpen || cl.tls != nil || cl.kind == kindStream {
			if direct {
				if cl != nil && cl.state == stOpen && cl.kind == kindStream {
					return ErrStream // a group reads and writes fds
				}
				if cl != nil && cl.state == stOpen {
					return ErrNotPlain // a group writes and reads the socket, bypassing the record layer
				}
				return ErrClosed
			}
			for _, op := range ops {
				l.groupCallback(op.kind, op.c, op.data, op.bufs, true)
			}
			return nil
		}
	}
	run := &groupRun{l: l, ops: ops}
	for _, op := range ops {
		if !slices.ContainsFunc(run.members, func(m *groupMember) bool { return m.c == op.c }) {
			run.members = append(run.members, &groupMember{run: run, c: op.c})
		}
	}
	run.waiting = len(run.members)
	for _, m := range run.members {
		// Queueing may start the member at once (unbatched mode), so every
		// member is counted in waiting before the first is queued.
		if cl := l.client(m.c); cl != nil && cl.state == stOpen {
			l.queueWrite(m.c, cl, writeItem{op: m, size: 1, cb: cbOp})
		} else {
			m.Cancel(m.c)
		}
	}
	return nil
}

// maybeStart submits the chain once every member is at the head of its
// stream, or fails the group when a member's client was closed.
func (r *groupRun) maybeStart() {
	if r.waiting > 0 {
		return
	}
	for _, m := range r.members {
		if m.x != nil && m.x.Closing() {
			r.failed = true
		}
	}
	if r.failed {
		for _, op := range r.ops {
			if op.kind == opGroupClose {
				r.closeAtEnd(op.c) // a group's close always closes
			}
			r.l.groupCallback(op.kind, op.c, op.data, op.bufs, true)
		}
		r.finish()
		return
	}
	if !r.members[0].x.Reserve(len(r.ops)) {
		// The task table is full: try again at the next flush.
		r.l.deferred = append(r.l.deferred, func() bool {
			if r.l.tbl.Free() < len(r.ops) {
				return false
			}
			r.maybeStart()
			return true
		})
		return
	}
	r.submit()
}

// member returns the member of client c.
func (r *groupRun) member(c ClientNum) *groupMember {
	for _, m := range r.members {
		if m.c == c {
			return m
		}
	}
	return nil
}

// submit puts the group on the ring as one linked chain (Reserve made room
// for all of it, so no submit boundary cuts it).
func (r *groupRun) submit() {
	r.iovs = make([][]unix.Iovec, len(r.ops))
	r.msgs = make([]unix.Msghdr, len(r.ops))
	for i, op := range r.ops {
		x := r.member(op.c).x
		o := x.NewOp(uint64(i))
		fd := x.Fd()
		socket := r.l.client(op.c).socket
		switch op.kind {
		case opGroupWrite:
			if socket {
				o.PrepSend(fd, op.data, unix.MSG_NOSIGNAL|unix.MSG_WAITALL)
			} else {
				o.PrepWrite(fd, op.data, ^uint64(0))
			}
		case opGroupWritev:
			r.iovs[i] = iovecs(op.bufs)
			if socket {
				msg := &r.msgs[i]
				if len(r.iovs[i]) > 0 {
					msg.Iov = &r.iovs[i][0]
					msg.SetIovlen(len(r.iovs[i]))
				}
				o.PrepSendmsg(fd, msg, unix.MSG_NOSIGNAL|unix.MSG_WAITALL)
			} else {
				o.PrepWritev(fd, r.iovs[i], ^uint64(0))
			}
		case opGroupRead:
			if socket {
				o.PrepRecv(fd, op.data, 0)
			} else {
				o.PrepRead(fd, op.data, ^uint64(0))
			}
		case opGroupClose:
			o.PrepNop()
		}
		if i < len(r.ops)-1 {
			o.Link = true
		}
	}
	r.pending = len(r.ops)
	r.l.prepared()
}

// complete handles the completion of operation i of the chain.
func (r *groupRun) complete(i int, res int32) {
	l, op := r.l, r.ops[i]
	data, failed := op.data, res < 0
	switch op.kind {
	case opGroupWrite, opGroupWritev:
		size := len(op.data)
		if op.kind == opGroupWritev {
			size = totalLen(op.bufs)
		}
		if res >= 0 {
			l.cnt.bytesOut += uint64(res)
			if int(res) < size {
				// Part of the write left: the client's byte stream is
				// broken, so it is closed when the group ends.
				failed = true
				r.closeAtEnd(op.c)
			}
		}
	case opGroupRead:
		if failed {
			data = nil
		} else {
			l.cnt.bytesIn += uint64(res)
			data = data[:res]
		}
	case opGroupClose:
		r.closeAtEnd(op.c) // a group's close always closes
	}
	if cl := l.client(op.c); cl != nil && res >= 0 {
		cl.lastActive = l.now
	}
	l.groupCallback(op.kind, op.c, data, op.bufs, failed)
	if r.pending--; r.pending == 0 {
		r.finish()
	}
}

func (r *groupRun) closeAtEnd(c ClientNum) {
	if r.closing == nil {
		r.closing = map[ClientNum]bool{}
	}
	r.closing[c] = true
}

// finish hands each stream back; a client whose group closed it is closed,
// failing the writes asked for after the group.
func (r *groupRun) finish() {
	for _, m := range r.members {
		if m.x == nil {
			continue
		}
		m.x.Finish(false)
		if cl := r.l.client(m.c); cl != nil && r.closing[m.c] {
			r.l.closeClient(m.c, cl, ErrLocalClose)
		}
	}
}

func (l *loop) groupCallback(kind opKind, c ClientNum, data []byte, bufs [][]byte, failed bool) {
	switch kind {
	case opGroupWrite:
		l.cbWrite(data, c, failed)
	case opGroupWritev:
		l.cbWritev(bufs, c, failed)
	case opGroupRead:
		if failed {
			data = nil
		}
		l.cbRead(data, c, failed)
	}
}
