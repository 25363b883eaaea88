package epoll

import (
	"github.com/uringnet/uringnet/ring"
	"golang.org/x/sys/unix"
)

// cancel runs an ASYNC_CANCEL SQE: by user data (sqe.Addr), or by fd with
// ring.AsyncCancelFD (every op on it with ring.AsyncCancelAll). Only ops
// waiting for readiness can be found, as only armed requests can be in
// io_uring: the ops of a chain that have not started are cancelled with
// their chain. It returns the CQE result: 0 (or the count, with
// AsyncCancelAll) or -ENOENT.
func (p *Poller) cancel(sqe *ring.SQE) int32 {
	if sqe.OpFlags&ring.AsyncCancelFD != 0 {
		fd := int(sqe.Fd)
		if fd < 0 || fd >= len(p.fds) || p.fds[fd] == nil {
			return -int32(unix.ENOENT)
		}
		all := sqe.OpFlags&ring.AsyncCancelAll != 0
		n := p.cancelFD(p.fds[fd], all)
		switch {
		case n == 0:
			return -int32(unix.ENOENT)
		case all:
			return int32(n)
		}
		return 0
	}
	o, ok := p.waiting[sqe.Addr]
	if !ok {
		return -int32(unix.ENOENT)
	}
	p.dequeue(o)
	p.complete(o, -int32(unix.ECANCELED), 0)
	return 0
}

// cancelFD cancels the first op waiting on fs, or all of them, and returns
// how many it cancelled.
func (p *Poller) cancelFD(fs *fdState, all bool) int {
	n := 0
	for s := range fs.q {
		for len(fs.q[s]) > 0 {
			o := fs.q[s][0]
			p.dequeue(o)
			p.complete(o, -int32(unix.ECANCELED), 0)
			n++
			if !all {
				return n
			}
		}
	}
	return n
}
