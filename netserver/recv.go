package netserver

import (
	"fmt"

	"github.com/uringnet/uringnet/ops"
	"github.com/uringnet/uringnet/tasks"
	"golang.org/x/sys/unix"
)

// armRecv puts the automatic recv on connection c: multishot into the
// buffer ring where the kernel has it, else single-shot. A connection's
// first recv is single-shot all the same: a client that sends a request
// and its body in one write is not read past one buffer before the layer
// above has seen the request (and perhaps paused the client).
func (l *loop) armRecv(c ClientNum, cl *client) {
	if cl.recvID != 0 || cl.state != stOpen || cl.closeAfterWrites {
		return
	}
	id, t, ok := l.tbl.Acquire()
	if !ok {
		cl.needRecv = true
		l.starved = append(l.starved, c)
		return
	}
	t.Kind = uint8(opRecv)
	t.Client = uint64(c)
	o := l.getOp()
	switch {
	case l.multishotRecv && !cl.singleShot && cl.readOnce:
		o.PrepRecvMultishot(int(cl.fd), l.buf.Group(), 0)
	case l.buf != nil:
		o.PrepRecvSelect(int(cl.fd), l.buf.Group(), 0)
	default:
		if cl.recvBuf == nil {
			cl.recvBuf = l.getReadBuf()
		}
		o.PrepRecv(int(cl.fd), cl.recvBuf, 0)
		t.Buf = cl.recvBuf
	}
	o.UserData = uint64(id)
	cl.recvID = id
	cl.inflight++
	l.prepared()
}

func (l *loop) onRecv(id tasks.ID, t *tasks.Task, cqe *ops.CQE) {
	c := ClientNum(t.Client)
	buf := t.Buf
	more := cqe.More()
	if !more {
		l.tbl.Release(id)
	}
	bid, hasBuf := cqe.BufferID()
	cl := l.client(c)
	if cl == nil {
		if hasBuf {
			l.recycle(bid)
		}
		return
	}
	if !more {
		cl.recvID = 0
		cl.recvCancelled = false
		cl.inflight--
	}
	res := cqe.Res
	switch {
	case res > 0:
		var data []byte
		if hasBuf {
			data = l.buf.Buffer(bid, int(res))
		} else {
			data = buf[:res]
		}
		l.cnt.bytesIn += uint64(res)
		cl.lastActive = l.now
		cl.readOnce = true
		switch {
		case cl.state != stOpen:
		case cl.tls != nil:
			l.tlsInput(c, cl, data)
		case len(cl.held) > 0 || !l.readable(cl):
			l.hold(c, cl, data)
		default:
			l.cbRead(data, c, false)
		}
		if hasBuf {
			l.recycle(bid)
		}
		if cl = l.client(c); cl != nil && !more && cl.state == stOpen {
			cl.needRecv = true
			l.markDirty(c, cl)
		}
	case res == 0:
		if hasBuf {
			l.recycle(bid)
		}
		if t := cl.tls; t != nil && cl.state == stOpen {
			t.w.setEOF()
			if t.ready && l.readable(cl) {
				l.tlsRead(c, cl) // what is left, then the end
			} else if t.ready {
				t.stalled = true
			} else if !t.ready && !t.started {
				l.tlsHandshakeFailed(c, cl, fmt.Errorf("%w: the peer closed before its ClientHello", ErrTLSHandshake))
			}
			break
		}
		if len(cl.held) > 0 {
			cl.heldEOF = true // after the held input is delivered
			break
		}
		l.closeGracefully(c, cl, ErrPeerClosed) // the peer is done sending; finish our writes
	case res == -int32(unix.ENOBUFS):
		l.cnt.noBuffers++
		if cl.state == stOpen {
			cl.needRecv = true
			l.markDirty(c, cl)
		}
	case res == -int32(unix.ECANCELED):
		if cl.state == stOpen {
			cl.needRecv = true // stopped reading; re-armed when readable
			l.markDirty(c, cl)
		}
	default:
		if cl.state == stOpen && (cl.tls == nil || cl.tls.ready) {
			l.cbRead(nil, c, true)
		}
		if cl = l.client(c); cl != nil {
			l.closeClient(c, cl, fmt.Errorf("netserver: recv: %w", unix.Errno(-res)))
		}
	}
	if cl = l.client(c); cl != nil && cl.state == stClosing {
		l.maybeFinish(c, cl)
	}
}

// recycle hands a provided buffer back to the kernel at the next publish.
func (l *loop) recycle(bid uint16) {
	l.buf.Add(bid)
	l.bufDirty = true
}

// userRead submits a RawRead (buf) or RawReadv (bufs) for c.
func (l *loop) userRead(c ClientNum, cl *client, buf []byte, bufs [][]byte) error {
	if cl.tls != nil {
		return ErrNotPlain
	}
	if cl.kind == kindStream {
		return ErrStream
	}
	id, t, ok := l.tbl.Acquire()
	if !ok {
		l.deferred = append(l.deferred, func() bool {
			if l.tbl.Free() == 0 {
				return false
			}
			cmd := command{op: cmdRead, c: c, data: buf, bufs: bufs}
			if bufs != nil {
				cmd.op = cmdReadv
			}
			l.exec(&cmd, false)
			return true
		})
		return nil
	}
	t.Client = uint64(c)
	o := l.getOp()
	if bufs == nil {
		t.Kind = uint8(opRead)
		t.Buf = buf
		if cl.socket {
			o.PrepRecv(int(cl.fd), buf, 0)
		} else {
			o.PrepRead(int(cl.fd), buf, ^uint64(0))
		}
	} else {
		t.Kind = uint8(opReadv)
		t.Bufs = bufs
		t.Iovs = iovecs(bufs)
		o.PrepReadv(int(cl.fd), t.Iovs, ^uint64(0))
	}
	o.UserData = uint64(id)
	cl.inflight++
	l.prepared()
	return nil
}

func (l *loop) onUserRead(id tasks.ID, t *tasks.Task, res int32) {
	c, kind, buf, bufs := ClientNum(t.Client), opKind(t.Kind), t.Buf, t.Bufs
	l.tbl.Release(id)
	cl := l.client(c)
	if cl == nil {
		return
	}
	cl.inflight--
	failed := res < 0
	if !failed {
		l.cnt.bytesIn += uint64(res)
		cl.lastActive = l.now
		cl.readOnce = true
	}
	if kind == opRead {
		if failed {
			buf = nil
		} else {
			buf = buf[:res]
		}
		l.cbRead(buf, c, failed)
	} else {
		if failed {
			bufs = nil
		} else {
			bufs = trimBufs(bufs, int(res))
		}
		l.cbReadv(bufs, c, failed)
	}
	if cl = l.client(c); cl != nil && cl.state == stClosing {
		l.maybeFinish(c, cl)
	}
}

// iovecs builds an iovec array for bufs (empty buffers are skipped).
func iovecs(bufs [][]byte) []unix.Iovec {
	iovs := make([]unix.Iovec, 0, len(bufs))
	for _, b := range bufs {
		if len(b) > 0 {
			iov := unix.Iovec{Base: &b[0]}
			iov.SetLen(len(b))
			iovs = append(iovs, iov)
		}
	}
	return iovs
}

// trimBufs returns bufs cut down to their first n bytes.
func trimBufs(bufs [][]byte, n int) [][]byte {
	out := make([][]byte, 0, len(bufs))
	for _, b := range bufs {
		if n <= 0 {
			break
		}
		if len(b) > n {
			b = b[:n]
		}
		out = append(out, b)
		n -= len(b)
	}
	return out
}
