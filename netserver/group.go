package netserver

import (
	"errors"
	"fmt"

	"github.com/uringnet/uringnet/ring"
	"github.com/uringnet/uringnet/tasks"
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
// rest are cancelled and report failed=true. Unless operations must fail
// together, use the plain calls (RawWrite, ...) instead. All clients of a
// group must belong to one loop. A Group is used by one goroutine.
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

// submitGroup puts a group on the ring as one linked chain in one submit.
func (l *loop) submitGroup(ops []groupOp, direct bool) error {
	for _, op := range ops {
		if cl := l.client(op.c); cl == nil || cl.state != stOpen {
			if direct {
				return ErrClosed
			}
			for _, op := range ops {
				l.groupCallback(op.kind, op.c, op.data, op.bufs, true)
			}
			return nil
		}
	}
	if l.tbl.Free() < len(ops) {
		l.deferred = append(l.deferred, func() bool {
			if l.tbl.Free() < len(ops) {
				return false
			}
			l.submitGroup(ops, false)
			return true
		})
		return nil
	}
	if l.ring.SQSpace() < uint32(len(ops)) {
		// A link chain must not be cut by a submit boundary.
		l.cnt.enters++
		l.ring.Submit()
	}
	for i, op := range ops {
		cl := l.client(op.c)
		id, t, _ := l.tbl.Acquire()
		t.Kind = uint8(op.kind)
		t.Client = uint64(op.c)
		t.Buf = op.data
		t.Bufs = op.bufs
		sqe := l.getSQE()
		fd := int(cl.fd)
		switch op.kind {
		case opGroupWrite:
			if cl.socket {
				sqe.PrepSend(fd, op.data, unix.MSG_NOSIGNAL|unix.MSG_WAITALL)
			} else {
				sqe.PrepWrite(fd, op.data, ^uint64(0))
			}
		case opGroupWritev:
			t.Iovs = iovecs(op.bufs)
			if cl.socket {
				msg := &unix.Msghdr{}
				if len(t.Iovs) > 0 {
					msg.Iov = &t.Iovs[0]
					msg.SetIovlen(len(t.Iovs))
				}
				t.Ref = msg
				sqe.PrepSendmsg(fd, msg, unix.MSG_NOSIGNAL|unix.MSG_WAITALL)
			} else {
				sqe.PrepWritev(fd, t.Iovs, ^uint64(0))
			}
		case opGroupRead:
			if cl.socket {
				sqe.PrepRecv(fd, op.data, 0)
			} else {
				sqe.PrepRead(fd, op.data, ^uint64(0))
			}
		case opGroupClose:
			sqe.PrepNop()
		}
		if i < len(ops)-1 {
			sqe.Flags |= ring.SQEIOLink
		}
		sqe.UserData = uint64(id)
		cl.inflight++
	}
	l.prepared()
	return nil
}

func (l *loop) onGroup(id tasks.ID, t *tasks.Task, res int32) {
	c, kind, data, bufs := ClientNum(t.Client), opKind(t.Kind), t.Buf, t.Bufs
	l.tbl.Release(id)
	cl := l.client(c)
	if cl != nil {
		cl.inflight--
	}
	failed := res < 0
	if !failed {
		switch kind {
		case opGroupWrite, opGroupWritev:
			l.cnt.bytesOut += uint64(res)
			size := len(data)
			if kind == opGroupWritev {
				size = totalLen(bufs)
			}
			if int(res) < size && cl != nil && cl.state == stOpen {
				// Short write: the rest goes through the client's queue,
				// and the callback fires when it is out.
				it := writeItem{data: data, bufs: bufs, done: int(res), size: size, cb: cbWrite}
				if kind == opGroupWritev {
					it.data, it.cb = nil, cbWritev
				}
				l.queueWrite(c, cl, it)
				return
			}
			failed = int(res) < size
		case opGroupRead:
			l.cnt.bytesIn += uint64(res)
			data = data[:res]
		}
	}
	l.groupCallback(kind, c, data, bufs, failed)
	if cl = l.client(c); cl == nil {
		return
	}
	if kind == opGroupClose {
		l.closeGracefully(c, cl)
	}
	if cl.state == stClosing {
		l.maybeFinish(c, cl)
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
