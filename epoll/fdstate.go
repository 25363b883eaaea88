package epoll

import (
	"golang.org/x/sys/unix"
)

// side is the direction an operation waits for.
type side uint8

const (
	rd side = iota // readable
	wr             // writable
)

// fdState is what the Poller keeps about one fd number.
type fdState struct {
	fd         int
	registered bool     // in the epoll set
	interest   uint32   // the events registered
	inReady    bool     // on the ready list
	rdhup      bool     // epoll reported the peer's end of stream (or a hang-up)
	q          [2][]*op // ops waiting, per side, in submission order
}

// state returns fd's state, creating it (and putting fd in non-blocking
// mode) on first sight.
func (p *Poller) state(fd int) *fdState {
	if fd < 0 {
		return nil
	}
	p.grow(fd)
	if fs := p.fds[fd]; fs != nil {
		return fs
	}
	setNonblock(fd)
	fs := &fdState{fd: fd}
	p.fds[fd] = fs
	return fs
}

// fresh records fd as new and non-blocking (the Poller accepted it),
// dropping whatever was kept about an earlier fd with the same number.
func (p *Poller) fresh(fd int) {
	p.grow(fd)
	if old := p.fds[fd]; old != nil {
		p.cancelFD(old, true) // closed without Forget: nothing can wake these
	}
	p.fds[fd] = &fdState{fd: fd}
}

// grow makes p.fds long enough to index fd.
func (p *Poller) grow(fd int) {
	if fd >= len(p.fds) {
		p.fds = append(p.fds, make([]*fdState, fd+1-len(p.fds)+len(p.fds)/2)...)
	}
}

// setNonblock puts fd in non-blocking mode (a regular file ignores it).
func setNonblock(fd int) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil && fl&unix.O_NONBLOCK == 0 {
		unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_NONBLOCK)
	}
}

// Forget drops what the Poller keeps about fd, which its owner is about
// to close. Ops still waiting on it complete with -ECANCELED.
func (p *Poller) Forget(fd int) {
	if fd < 0 || fd >= len(p.fds) || p.fds[fd] == nil {
		return
	}
	fs := p.fds[fd]
	p.cancelFD(fs, true)
	p.fds[fd] = nil
}

// sideEvents are the epoll events a side waits for.
var sideEvents = [2]uint32{rd: unix.EPOLLIN | unix.EPOLLRDHUP, wr: unix.EPOLLOUT}

// enqueue makes o wait for fd's side s. Edge-triggered, fd is registered
// once, for both sides, at its first wait; level-triggered, for the sides
// that have ops waiting (see idle). Registration reports readiness at once
// if fd is ready, so no wake-up is lost between the failed attempt and the
// wait.
func (p *Poller) enqueue(fs *fdState, s side, o *op) {
	want := sideEvents[rd] | sideEvents[wr] | unix.EPOLLET
	if p.trigger == Level {
		want = fs.interest | sideEvents[s]
	}
	if !fs.registered || fs.interest != want {
		if err := p.register(fs, want); err != nil {
			p.complete(o, -int32(err.(unix.Errno)), 0)
			return
		}
	}
	o.fs, o.side = fs, s
	fs.q[s] = append(fs.q[s], o)
	p.waiting[o.op.UserData] = o
}

// register sets fd's events in the epoll set.
func (p *Poller) register(fs *fdState, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fs.fd)}
	var err error
	if fs.registered {
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fs.fd, &ev)
	} else {
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fs.fd, &ev)
		if err == unix.EEXIST {
			err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fs.fd, &ev)
		}
	}
	if err != nil {
		return err
	}
	fs.registered, fs.interest = true, events
	return nil
}

// idle drops, level-triggered, the sides of fd that epoll reported but
// that have no op waiting, which it would otherwise report on every wait;
// an fd with none waiting at all that reports a hang-up or error (which
// cannot be masked) leaves the epoll set.
func (p *Poller) idle(fs *fdState, events uint32) {
	if p.trigger != Level || !fs.registered {
		return
	}
	keep := fs.interest
	for s := range fs.q {
		if len(fs.q[s]) == 0 && events&sideEvents[s] != 0 {
			keep &^= sideEvents[s]
		}
	}
	if keep == 0 && events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fs.fd, nil)
		fs.registered, fs.interest = false, 0
		return
	}
	if keep != fs.interest {
		p.register(fs, keep)
	}
}

// dequeue takes o out of its fd's queue. When o was the head and others
// wait behind it (queued without being tried), the fd runs again next turn:
// the readiness they wait for may have come already.
func (p *Poller) dequeue(o *op) {
	fs := o.fs
	q := fs.q[o.side]
	for i, v := range q {
		if v == o {
			if i == 0 && len(q) > 1 {
				p.yield(fs)
			}
			copy(q[i:], q[i+1:])
			q[len(q)-1] = nil
			fs.q[o.side] = q[:len(q)-1]
			break
		}
	}
	delete(p.waiting, o.op.UserData)
	o.fs = nil
}

// yield puts fs on the ready list: its head op stopped at its budget and
// runs again next turn without waiting for an event.
func (p *Poller) yield(fs *fdState) {
	if !fs.inReady {
		fs.inReady = true
		p.ready = append(p.ready, fs)
	}
}

// run runs fs's ops waiting on side s, in order, until one would block.
func (p *Poller) run(fs *fdState, s side) {
	for len(fs.q[s]) > 0 {
		o := fs.q[s][0]
		switch st, res, flags := p.exec(o); st {
		case stWait:
			return
		case stYield:
			p.yield(fs)
			return
		default:
			p.dequeue(o)
			p.complete(o, res, flags)
		}
	}
}
