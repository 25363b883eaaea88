package epoll

import (
	"unsafe"

	"github.com/uringnet/uringnet/ring"
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
	sqe := &o.sqe
	fd := int(sqe.Fd)
	switch sqe.Opcode {
	case ring.OpNop:
		return stDone, 0, 0
	case ring.OpAccept:
		return p.accept(o)
	case ring.OpRecv:
		if sqe.Flags&ring.SQEBufferSelect != 0 {
			return p.recvSelect(o)
		}
		return p.transfer(o)
	case ring.OpSend, ring.OpRead, ring.OpWrite, ring.OpReadv, ring.OpWritev, ring.OpSendmsg:
		return p.transfer(o)
	case ring.OpPollAdd:
		pfd := [1]unix.PollFd{{Fd: sqe.Fd, Events: int16(sqe.OpFlags)}}
		if n, err := unix.Poll(pfd[:], 0); err == nil && n > 0 {
			return stDone, int32(pfd[0].Revents), 0
		}
		return stWait, 0, 0
	case ring.OpAsyncCancel:
		return stDone, p.cancel(sqe), 0
	case ring.OpShutdown:
		return stDone, result(unix.Shutdown(fd, int(sqe.Len))), 0
	case ring.OpClose:
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
	sqe := &o.sqe
	multishot := sqe.IoPrio&ring.AcceptMultishot != 0
	for i := 0; ; i++ {
		if multishot && i == acceptBudget {
			return stYield, 0, 0
		}
		nfd, e := accept4(int(sqe.Fd), int(sqe.OpFlags)|unix.SOCK_NONBLOCK)
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
		if !multishot {
			return stDone, int32(nfd), 0
		}
		p.post(sqe.UserData, int32(nfd), ring.CQEFMore)
	}
}

// recvSelect receives into provided buffers: one, or (multishot) one per
// completion until the socket is drained or the budget is used.
func (p *Poller) recvSelect(o *op) (status, int32, uint32) {
	sqe := &o.sqe
	b := p.group(sqe.BufIndex)
	if b == nil {
		return stDone, -int32(unix.ENOBUFS), 0
	}
	size := b.size
	if sqe.Len != 0 && int(sqe.Len) < size {
		size = int(sqe.Len)
	}
	multishot := sqe.IoPrio&ring.RecvMultishot != 0
	for i := 0; ; i++ {
		if multishot && i == recvBudget {
			return stYield, 0, 0
		}
		bid, addr, ok := b.take()
		if !ok {
			return stDone, -int32(unix.ENOBUFS), 0
		}
		n, e := recv(int(sqe.Fd), addr, size, int(sqe.OpFlags))
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
		flags := ring.CQEFBuffer | uint32(bid)<<ring.CQEBufferShift
		if !multishot {
			return stDone, int32(n), flags
		}
		p.post(sqe.UserData, int32(n), flags|ring.CQEFMore)
		if n < size && !p.peerClosed(int(sqe.Fd)) {
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
	sqe := &o.sqe
	fd := int(sqe.Fd)
	addr, n := uintptr(sqe.Addr)+uintptr(o.done), int(sqe.Len)-o.done
	switch sqe.Opcode {
	case ring.OpRecv:
		return recv(fd, addr, n, int(sqe.OpFlags))
	case ring.OpSend:
		return send(fd, addr, n, int(sqe.OpFlags))
	case ring.OpRead:
		return rw(unix.SYS_READ, unix.SYS_PREAD64, fd, addr, n, sqe.Off)
	case ring.OpWrite:
		return rw(unix.SYS_WRITE, unix.SYS_PWRITE64, fd, addr, n, sqe.Off)
	case ring.OpReadv:
		return rw(unix.SYS_READV, unix.SYS_PREADV, fd, uintptr(sqe.Addr), int(sqe.Len), sqe.Off)
	case ring.OpWritev:
		return rw(unix.SYS_WRITEV, unix.SYS_PWRITEV, fd, uintptr(sqe.Addr), int(sqe.Len), sqe.Off)
	}
	msg := msghdrAt(sqe.Addr)
	if len(o.iovs) > 0 {
		msg = &o.msg
	}
	return sendmsg(fd, msg, int(sqe.OpFlags))
}

// more reports whether a transfer that just moved k bytes goes on.
func (o *op) more(k int) bool {
	sqe := &o.sqe
	if sqe.OpFlags&unix.MSG_WAITALL == 0 {
		return false
	}
	switch sqe.Opcode {
	case ring.OpSend, ring.OpRecv:
		return o.done < int(sqe.Len)
	case ring.OpSendmsg:
		return o.advance(k)
	}
	return false
}

// advance drops k sent bytes from what is left of a sendmsg's iovecs
// (copying them on the first short send) and reports whether any is left.
func (o *op) advance(k int) bool {
	if len(o.iovs) == 0 {
		m := msghdrAt(o.sqe.Addr)
		o.msg = *m
		o.iovs = append(o.iovs[:0], iovecs(uint64(addrOfIov(m.Iov)), int(m.Iovlen))...)
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
