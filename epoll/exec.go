package epoll

import (
	"unsafe"

	"github.com/uringnet/uringnet/ops"
	"golang.org/x/sys/unix"
)

// Per-turn budgets of multishot ops, so that one busy fd cannot starve
// the others: then the op yields and runs again next turn.
const (
	acceptBudget = 32
	recvBudget   = 8
)

// exec tries o once (a multishot op: until it would block or used its
// budget, posting a completion per result).
func (p *Poller) exec(o *op) (status, int32, uint32) {
	d := &o.op
	fd := int(d.Fd)
	switch d.Code {
	case ops.Nop:
		return stDone, 0, 0
	case ops.Accept:
		return p.accept(o)
	case ops.Recv:
		if d.Select {
			return p.recvSelect(o)
		}
		return p.transfer(o)
	case ops.Send, ops.Read, ops.Write, ops.Readv, ops.Writev, ops.Sendmsg:
		return p.transfer(o)
	case ops.PollAdd:
		pfd := [1]unix.PollFd{{Fd: d.Fd, Events: int16(d.Flags)}}
		if n, err := unix.Poll(pfd[:], 0); err == nil && n > 0 {
			return stDone, int32(pfd[0].Revents), 0
		}
		return stWait, 0, 0
	case ops.Cancel:
		return stDone, p.cancel(d), 0
	case ops.Shutdown:
		return stDone, result(unix.Shutdown(fd, int(d.Len))), 0
	case ops.Close:
		p.Forget(fd)
		return stDone, result(unix.Close(fd)), 0
	}
	return stDone, -int32(unix.EINVAL), 0
}

// result turns an error into a CQE result: 0 or -errno.
func result(err error) int32 {
	if err == nil {
		return 0
	}
	if e, ok := err.(unix.Errno); ok {
		return -int32(e)
	}
	return -int32(unix.EIO)
}

// accept accepts one connection, or (multishot) every pending one, each
// non-blocking.
func (p *Poller) accept(o *op) (status, int32, uint32) {
	d := &o.op
	for i := 0; ; i++ {
		if d.More && i == acceptBudget {
			return stYield, 0, 0
		}
		nfd, e := accept4(int(d.Fd), int(d.Flags)|unix.SOCK_NONBLOCK)
		switch e {
		case 0:
		case unix.EINTR, unix.ECONNABORTED:
			continue
		case unix.EAGAIN:
			return stWait, 0, 0
		default:
			return stDone, -int32(e), 0
		}
		p.fresh(nfd)
		if !d.More {
			return stDone, int32(nfd), 0
		}
		p.post(d.UserData, int32(nfd), ops.CQEFMore)
	}
}

// recvSelect receives into provided buffers: one, or (multishot) one per
// completion until the socket is drained or the budget is used.
func (p *Poller) recvSelect(o *op) (status, int32, uint32) {
	d := &o.op
	b := p.group(d.Group)
	if b == nil {
		return stDone, -int32(unix.ENOBUFS), 0
	}
	for i := 0; ; i++ {
		if d.More && i == recvBudget {
			return stYield, 0, 0
		}
		bid, buf, ok := b.take()
		if !ok {
			return stDone, -int32(unix.ENOBUFS), 0
		}
		n, e := recv(int(d.Fd), buf, int(d.Flags))
		if e != 0 {
			b.Add(bid)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return stWait, 0, 0
			}
			return stDone, -int32(e), 0
		}
		if n == 0 {
			b.Add(bid)
			return stDone, 0, 0
		}
		flags := ops.CQEFBuffer | uint32(bid)<<ops.CQEBufferShift
		if !d.More {
			return stDone, int32(n), flags
		}
		p.post(d.UserData, int32(n), flags|ops.CQEFMore)
		if n < len(buf) && !p.peerClosed(int(d.Fd)) {
			// Drained: edge-triggered epoll reports the next arrival.
			// Not so when the end of stream already came: its edge may
			// have passed while no recv waited, and a recv stops short
			// of it.
			return stWait, 0, 0
		}
	}
}

// peerClosed reports whether epoll has reported the end of fd's stream.
func (p *Poller) peerClosed(fd int) bool {
	return fd < len(p.fds) && p.fds[fd] != nil && p.fds[fd].rdhup
}

// transfer runs a recv, send, read or write of one buffer, or a readv,
// writev or sendmsg. A send or recv with MSG_WAITALL goes on until the
// whole buffer has moved, and a sendmsg with it until all its iovecs have
// (from a copy of what is left of them).
func (p *Poller) transfer(o *op) (status, int32, uint32) {
	for {
		k, e := o.attempt()
		switch e {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return stWait, 0, 0
		default:
			if o.done > 0 {
				return stDone, int32(o.done), 0
			}
			return stDone, -int32(e), 0
		}
		o.done += k
		if k == 0 || !o.more(k) {
			return stDone, int32(o.done), 0
		}
	}
}

// attempt makes one system call for a transfer, from where it stands.
func (o *op) attempt() (int, unix.Errno) {
	d := &o.op
	fd := int(d.Fd)
	switch d.Code {
	case ops.Recv:
		return recv(fd, d.Buf[o.done:], int(d.Flags))
	case ops.Send:
		return send(fd, d.Buf[o.done:], int(d.Flags))
	case ops.Read:
		return rw(unix.SYS_READ, unix.SYS_PREAD64, fd, bufPtr(d.Buf), len(d.Buf), d.Off)
	case ops.Write:
		return rw(unix.SYS_WRITE, unix.SYS_PWRITE64, fd, bufPtr(d.Buf), len(d.Buf), d.Off)
	case ops.Readv:
		return rw(unix.SYS_READV, unix.SYS_PREADV, fd, iovPtr(d.Iovs), len(d.Iovs), d.Off)
	case ops.Writev:
		return rw(unix.SYS_WRITEV, unix.SYS_PWRITEV, fd, iovPtr(d.Iovs), len(d.Iovs), d.Off)
	}
	msg := d.Msg
	if len(o.iovs) > 0 {
		msg = &o.msg
	}
	return sendmsg(fd, msg, int(d.Flags))
}

// more reports whether a transfer that just moved k bytes goes on.
func (o *op) more(k int) bool {
	d := &o.op
	if d.Flags&unix.MSG_WAITALL == 0 {
		return false
	}
	switch d.Code {
	case ops.Send, ops.Recv:
		return o.done < len(d.Buf)
	case ops.Sendmsg:
		return o.advance(k)
	}
	return false
}

// advance drops k sent bytes from what is left of a sendmsg's iovecs
// (copying them on the first short send) and reports whether any is left.
func (o *op) advance(k int) bool {
	if len(o.iovs) == 0 {
		o.msg = *o.op.Msg
		o.iovs = append(o.iovs[:0], msgIovs(o.op.Msg)...)
	}
	for len(o.iovs) > 0 && k >= int(o.iovs[0].Len) {
		k -= int(o.iovs[0].Len)
		o.iovs = o.iovs[1:]
	}
	if len(o.iovs) == 0 {
		return false
	}
	o.iovs[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(o.iovs[0].Base), k))
	o.iovs[0].Len -= uint64(k)
	o.msg.Iov = &o.iovs[0]
	o.msg.SetIovlen(len(o.iovs))
	return true
}
