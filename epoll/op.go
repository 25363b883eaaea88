package epoll

import (
	"github.com/uringnet/uringnet/ops"
	"golang.org/x/sys/unix"
)

// op is one submitted Op until its final completion.
type op struct {
	op   ops.Op
	next *op      // the next op of its linked chain: started if this one succeeds
	fs   *fdState // the fd it waits on, while it waits
	side side
	done int          // bytes moved so far, for MSG_WAITALL
	iovs []unix.Iovec // what is left to send, once a sendmsg with MSG_WAITALL came up short
	msg  unix.Msghdr  // the msghdr for iovs
}

// status is what exec made of an op.
type status uint8

const (
	stDone  status = iota // finished: post res and flags
	stWait                // would block: wait for readiness
	stYield               // a multishot op used its budget: run again next turn
)

func (p *Poller) newOp(src *ops.Op) *op {
	var o *op
	if n := len(p.pool); n > 0 {
		o = p.pool[n-1]
		p.pool = p.pool[:n-1]
	} else {
		o = new(op)
	}
	o.op = *src
	return o
}

func (p *Poller) freeOp(o *op) {
	*o = op{iovs: o.iovs[:0]}
	if len(p.pool) < 1024 {
		p.pool = append(p.pool, o)
	}
}

// sideOf returns the direction an Op waits for, and whether it has an fd
// to wait on at all.
func sideOf(o *ops.Op) (side, bool) {
	switch o.Code {
	case ops.Accept, ops.Recv, ops.Read, ops.Readv:
		return rd, true
	case ops.Send, ops.Sendmsg, ops.Write, ops.Writev:
		return wr, true
	case ops.PollAdd:
		if o.Flags&unix.POLLIN != 0 {
			return rd, true
		}
		return wr, true
	}
	return 0, false
}

// start runs o (the head of a chain) now, or queues it behind the ops
// already waiting on its fd in the same direction.
func (p *Poller) start(o *op) {
	s, ok := sideOf(&o.op)
	var fs *fdState
	if ok {
		fs = p.state(int(o.op.Fd))
		if fs != nil && len(fs.q[s]) > 0 {
			p.enqueue(fs, s, o)
			return
		}
	}
	switch st, res, flags := p.exec(o); {
	case st != stDone && fs == nil:
		p.complete(o, -int32(unix.EBADF), 0) // nothing to wait on
	case st == stWait:
		p.enqueue(fs, s, o)
	case st == stYield:
		p.enqueue(fs, s, o)
		p.yield(fs)
	default:
		p.complete(o, res, flags)
	}
}

// complete posts o's final completion and goes on with its chain: the next
// op starts if o succeeded, else the rest is cancelled.
func (p *Poller) complete(o *op, res int32, flags uint32) {
	p.post(o.op.UserData, res, flags)
	next := o.next
	failed := res < 0 || short(&o.op, res)
	p.freeOp(o)
	if next == nil {
		return
	}
	if failed {
		p.cancelChain(next)
		return
	}
	p.start(next)
}

// cancelChain completes o and the ops linked after it with -ECANCELED.
func (p *Poller) cancelChain(o *op) {
	for o != nil {
		p.post(o.op.UserData, -int32(unix.ECANCELED), 0)
		next := o.next
		p.freeOp(o)
		o = next
	}
}

// short reports whether a result breaks a chain although it is not an
// error, as io_uring judges it: a read or write that moved less than asked,
// or a send or recv with MSG_WAITALL that did.
func short(o *ops.Op, res int32) bool {
	waitall := o.Flags&unix.MSG_WAITALL != 0
	switch o.Code {
	case ops.Read, ops.Write:
		return int(res) != len(o.Buf)
	case ops.Send, ops.Recv:
		return waitall && !o.Select && int(res) != len(o.Buf)
	case ops.Readv, ops.Writev:
		return int64(res) != iovTotal(o.Iovs)
	case ops.Sendmsg:
		return waitall && int64(res) != iovTotal(msgIovs(o.Msg))
	}
	return false
}
