package netserver

import (
	"fmt"

	"github.com/uringnet/uringnet/tasks"
	"golang.org/x/sys/unix"
)

type cbKind uint8

const (
	cbNone   cbKind = iota // Send: copied bytes, no callback
	cbWrite                // RawWrite
	cbWritev               // RawWritev
	cbOp                   // a custom Op (QueueOp); size is 1 until it finishes
)

// writeItem is one write waiting in a client's output queue.
type writeItem struct {
	data   []byte
	bufs   [][]byte
	done   int // bytes already written
	size   int // bytes in all
	cb     cbKind
	pooled bool // data is a loop copy buffer
	wire   bool // ciphertext (a TLS handshake flight or alert): sent as it is
	op     Op   // the custom op of a cbOp item
}

// maxIov bounds the iovecs of one send.
const maxIov = 64

// copyBufSize is the size of the pooled buffers Send copies into.
const copyBufSize = 16 << 10

// sendState is the msghdr and iovec array of a send in flight.
type sendState struct {
	msg  unix.Msghdr
	iovs [maxIov]unix.Iovec
}

// queueWrite appends a write to c's output queue.
func (l *loop) queueWrite(c ClientNum, cl *client, it writeItem) {
	if it.cb != cbOp {
		cl.queued += it.size - it.done
	}
	cl.outq = append(cl.outq, it)
	l.charge(c, cl, itemCharge(&it))
	l.markDirty(c, cl)
	if !l.batch {
		l.service(c, cl)
	}
}

// queueCopy copies data into c's output queue, into the last copy buffer
// when it is not part of the send in flight and has room.
func (l *loop) queueCopy(c ClientNum, cl *client, data []byte) {
	if len(data) == 0 {
		return
	}
	if n := len(cl.outq); n > 0 && (!cl.sending || n > int(cl.sendItems)) {
		last := &cl.outq[n-1]
		if last.pooled && cap(last.data)-len(last.data) >= len(data) {
			last.data = append(last.data, data...)
			last.size += len(data)
			cl.queued += len(data)
			return
		}
	}
	var buf []byte
	if len(data) <= copyBufSize {
		buf = l.getCopyBuf()
	}
	buf = append(buf, data...)
	l.queueWrite(c, cl, writeItem{data: buf, size: len(buf), pooled: true})
}

func (l *loop) getCopyBuf() []byte {
	if n := len(l.copyBufs); n > 0 {
		b := l.copyBufs[n-1]
		l.copyBufs = l.copyBufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, copyBufSize)
}

func (l *loop) putCopyBuf(b []byte) {
	if cap(b) == copyBufSize && len(l.copyBufs) < 256 {
		l.copyBufs = append(l.copyBufs, b[:0])
	}
}

func (l *loop) getReadBuf() []byte {
	if n := len(l.readBufs); n > 0 {
		b := l.readBufs[n-1]
		l.readBufs = l.readBufs[:n-1]
		return b
	}
	return make([]byte, l.s.cfg.BufferSize)
}

func (l *loop) putReadBuf(b []byte) {
	if len(l.readBufs) < 1024 {
		l.readBufs = append(l.readBufs, b)
	}
}

func (l *loop) getSendState() *sendState {
	if n := len(l.sendPool); n > 0 {
		st := l.sendPool[n-1]
		l.sendPool = l.sendPool[:n-1]
		return st
	}
	return new(sendState)
}

// service sends a client's queued writes and closes it after its last
// write. Without batching, queueWrite calls it at once, from within
// callbacks; what may call back into the handler (a drain, held input, see
// resumeReading) runs only from flush, never nested in a callback.
func (l *loop) service(c ClientNum, cl *client) {
	if cl.state != stOpen {
		return
	}
	if cl.kind == kindStream {
		l.serviceStream(c, cl)
		return
	}
	if !cl.sending && len(cl.outq) > 0 {
		// Writes with nothing left (empty ones) complete at once.
		if cl.outq[0].size == cl.outq[0].done {
			l.complete(c, cl, 0)
			if cl = l.client(c); cl == nil || cl.state != stOpen {
				return
			}
		}
		if len(cl.outq) > 0 && cl.outq[0].cb == cbOp {
			l.startOp(c, cl)
			if cl = l.client(c); cl == nil || cl.state != stOpen {
				return
			}
		} else if len(cl.outq) > 0 && !cl.corked {
			if cl.tls == nil || !l.tlsSend(c, cl) {
				l.startSend(c, cl)
			}
		}
	}
	if cl.closeAfterWrites && !cl.sending && len(cl.outq) == 0 {
		if cl.tls != nil && l.tlsCloseNotify(c, cl) {
			return // the close_notify goes first
		}
		l.closeClient(c, cl, nil)
	}
}

// startSend submits one send of everything queued for c (up to maxIov
// buffers).
func (l *loop) startSend(c ClientNum, cl *client) {
	id, t, ok := l.tbl.Acquire()
	if !ok {
		l.starved = append(l.starved, c)
		return
	}
	t.Kind = uint8(opSend)
	t.Client = uint64(c)
	o := l.getOp()
	o.UserData = uint64(id)
	if it := &cl.outq[0]; (len(cl.outq) == 1 || cl.outq[1].cb == cbOp) && it.bufs == nil {
		b := it.data[it.done:]
		if cl.socket {
			o.PrepSend(int(cl.fd), b, unix.MSG_NOSIGNAL)
		} else {
			o.PrepWrite(int(cl.fd), b, ^uint64(0))
		}
		cl.sendItems = 1
	} else {
		st := l.getSendState()
		t.Ref = st
		nio, items := 0, 0
		for i := range cl.outq {
			it := &cl.outq[i]
			if it.cb == cbOp {
				break // an op waits for the bytes before it
			}
			skip := it.done
			if it.bufs == nil {
				if b := it.data[skip:]; len(b) > 0 {
					st.iovs[nio] = unix.Iovec{Base: &b[0]}
					st.iovs[nio].SetLen(len(b))
					nio++
				}
			} else {
				for _, b := range it.bufs {
					if skip >= len(b) {
						skip -= len(b)
						continue
					}
					b = b[skip:]
					skip = 0
					st.iovs[nio] = unix.Iovec{Base: &b[0]}
					st.iovs[nio].SetLen(len(b))
					if nio++; nio == maxIov {
						break
					}
				}
			}
			items++
			if nio == maxIov {
				break
			}
		}
		cl.sendItems = int32(items)
		if cl.socket {
			st.msg = unix.Msghdr{Iov: &st.iovs[0]}
			st.msg.SetIovlen(nio)
			o.PrepSendmsg(int(cl.fd), &st.msg, unix.MSG_NOSIGNAL)
		} else {
			o.PrepWritev(int(cl.fd), st.iovs[:nio], ^uint64(0))
		}
	}
	cl.sending = true
	cl.inflight++
	l.prepared()
}

func (l *loop) onSend(id tasks.ID, t *tasks.Task, res int32) {
	c := ClientNum(t.Client)
	if st, ok := t.Ref.(*sendState); ok {
		*st = sendState{}
		l.sendPool = append(l.sendPool, st)
	}
	l.tbl.Release(id)
	cl := l.client(c)
	if cl == nil {
		return
	}
	cl.sending = false
	cl.sendItems = 0
	if res < 0 {
		l.failAll(c, cl)
		cl.inflight--
		if cl.state == stOpen {
			l.closeClient(c, cl, fmt.Errorf("netserver: send: %w", unix.Errno(-res)))
		} else {
			l.maybeFinish(c, cl)
		}
		return
	}
	l.cnt.bytesOut += uint64(res)
	cl.lastActive = l.now
	cl.inflight--
	n := int(res)
	if cl.tls != nil {
		n = l.tlsSent(cl, n)
	}
	l.complete(c, cl, n)
	if cl = l.client(c); cl == nil {
		return
	}
	switch {
	case cl.state == stClosing:
		l.maybeFinish(c, cl)
	case len(cl.outq) > 0 || cl.closeAfterWrites:
		l.markDirty(c, cl)
	}
}

// complete consumes n written bytes from the front of c's queue and fires
// the callbacks of the writes now done.
func (l *loop) complete(c ClientNum, cl *client, n int) {
	cl.queued -= n
	done := l.doneItems[:0]
	k := 0
	for k < len(cl.outq) {
		it := &cl.outq[k]
		rem := it.size - it.done
		if rem > n {
			it.done += n
			break
		}
		n -= rem
		done = append(done, *it)
		k++
	}
	if k > 0 {
		m := copy(cl.outq, cl.outq[k:])
		clear(cl.outq[m:])
		cl.outq = cl.outq[:m]
	}
	charged := 0
	for i := range done {
		charged += itemCharge(&done[i])
	}
	l.charge(c, cl, -charged)
	l.doneItems = nil // callbacks may re-enter
	for i := range done {
		l.finishItem(c, &done[i], false)
	}
	clear(done)
	l.doneItems = done[:0]
}

// finishItem fires a write's callback and recycles its copy buffer.
func (l *loop) finishItem(c ClientNum, it *writeItem, failed bool) {
	switch it.cb {
	case cbWrite:
		l.cbWrite(it.data, c, failed)
	case cbWritev:
		l.cbWritev(it.bufs, c, failed)
	case cbOp:
		l.cancelOp(it.op, c)
	default:
		if it.pooled {
			l.putCopyBuf(it.data)
		}
	}
}

// failQueued fails the writes of c that are not part of the send in flight.
func (l *loop) failQueued(c ClientNum, cl *client) {
	keep := 0
	if cl.sending {
		keep = int(cl.sendItems)
	}
	if len(cl.outq) <= keep {
		return
	}
	failed := append([]writeItem(nil), cl.outq[keep:]...)
	charged := 0
	for i := range failed {
		if failed[i].cb != cbOp {
			cl.queued -= failed[i].size - failed[i].done
		}
		charged += itemCharge(&failed[i])
	}
	clear(cl.outq[keep:])
	cl.outq = cl.outq[:keep]
	l.charge(c, cl, -charged)
	for i := range failed {
		l.finishItem(c, &failed[i], true)
	}
}

// failAll fails every queued write of c.
func (l *loop) failAll(c ClientNum, cl *client) {
	cl.sending = false
	cl.sendItems = 0
	l.failQueued(c, cl)
}
