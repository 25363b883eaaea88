package epoll

import (
	"github.com/uringnet/uringnet/ops"
	"golang.org/x/sys/unix"
)

// cancel runs a Cancel op: by user data (o.Target), or by fd with
// ops.CancelFD (every op on it with ops.CancelAll). Only ops waiting for
// readiness can be found, as only armed requests can be in io_uring: the
// ops of a chain that have not started are cancelled with their chain. It
// returns the CQE result: 0 (or the count, with CancelAll) or -ENOENT.
func (p *Poller) cancel(o *ops.Op) int32 {
	if o.Flags&ops.CancelFD != 0 {
		fd := int(o.Fd)
		if fd < 0 || fd >= len(p.fds) || p.fds[fd] == nil {
			return -int32(unix.ENOENT)
		}
		all := o.Flags&ops.CancelAll != 0
		n := p.cancelFD(p.fds[fd], all)
		switch {
		case n == 0:
			return -int32(unix.ENOENT)
		case all:
			return int32(n)
		}
		return 0
	}
	w, ok := p.waiting[o.Target]
	if !ok {
		return -int32(unix.ENOENT)
	}
	p.dequeue(w)
	p.complete(w, -int32(unix.ECANCELED), 0)
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
