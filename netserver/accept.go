package netserver

import (
	"time"

	"github.com/uringnet/uringnet/ops"
	"github.com/uringnet/uringnet/tasks"
	"golang.org/x/sys/unix"
)

// Accept back-off bounds after EMFILE, ENFILE and other accept errors.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = 500 * time.Millisecond
)

// armAccept puts an accept on listener i.
func (l *loop) armAccept(i int) {
	ln := &l.listeners[i]
	if ln.armed || ln.closed || l.acceptStopped() {
		return
	}
	id, t, ok := l.tbl.Acquire()
	if !ok {
		ln.retryAt = l.now + int64(time.Millisecond)
		return
	}
	t.Kind = uint8(opAccept)
	t.Aux = uint64(i)
	o := l.getOp()
	if l.multishotAccept {
		o.PrepMultishotAccept(ln.fd, unix.SOCK_CLOEXEC)
	} else {
		o.PrepAccept(ln.fd, unix.SOCK_CLOEXEC)
	}
	o.UserData = uint64(id)
	ln.armed, ln.rearm = true, false
	ln.acceptID = uint64(id)
	l.prepared()
}

func (l *loop) onAccept(id tasks.ID, t *tasks.Task, cqe *ops.CQE) {
	i := int(t.Aux)
	ln := &l.listeners[i]
	more := cqe.More()
	if !more {
		l.tbl.Release(id)
		ln.armed = false
	}
	if cqe.Res >= 0 {
		ln.backoff = 0
		ln.accepts++
		l.newConn(int(cqe.Res))
		switch {
		case more:
		case l.acceptStopped():
			// A single-shot accept that completed before the stop's
			// cancel reached it: it is not re-armed, so nothing else
			// would close the listener until the loop ends.
			l.closeListener(ln)
		default:
			l.armAccept(i)
		}
		return
	}
	errno := unix.Errno(-cqe.Res)
	if l.acceptStopped() {
		if !more {
			l.closeListener(ln)
		}
		return
	}
	if errno == unix.ECANCELED {
		if ln.rearm && !more {
			l.armAccept(i) // the watch's cancel (watch.go)
		}
		return // else our own cancel after an error; timers re-arm it
	}
	l.cnt.acceptErrors++
	if ln.backoff == 0 {
		ln.backoff = minAcceptBackoff
		l.log.Warn("netserver: accept failed; backing off", "loop", l.idx, "err", errno)
	} else if ln.backoff *= 2; ln.backoff > maxAcceptBackoff {
		ln.backoff = maxAcceptBackoff
	}
	ln.retryAt = l.now + int64(ln.backoff)
	if more {
		l.cancelTask(id)
	}
}

// closeListener closes a listener that no accept is armed on, so that new
// connections are refused at once rather than left in the backlog while
// the loop stops.
func (l *loop) closeListener(ln *listener) {
	if !ln.closed {
		l.closeFD(ln.fd)
		ln.closed = true
	}
	l.checkUnlistened()
}

// checkUnlistened tells StopAccepting when the loop stopped accepting and
// closed all its listeners: no connection is accepted here any more.
func (l *loop) checkUnlistened() {
	if !l.acceptStopped() {
		return
	}
	for i := range l.listeners {
		if !l.listeners[i].closed {
			return
		}
	}
	l.signalUnlistened()
}

func (l *loop) signalUnlistened() {
	if !l.unlistenedDone {
		l.unlistenedDone = true
		close(l.unlistened)
	}
}

// newConn sets up an accepted connection.
func (l *loop) newConn(fd int) {
	if l.stopping || l.s.conns.Load() >= int64(l.s.cfg.MaxConns) {
		l.closeFD(fd)
		l.cnt.rejected++
		return
	}
	c, cl, ok := l.newClient(fd, kindConn)
	if !ok {
		l.closeFD(fd)
		l.cnt.rejected++
		return
	}
	// Sockets from accept do not get Go's default TCP_NODELAY.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	cl.socket = true
	l.s.conns.Add(1)
	l.cnt.connsOpen++
	l.cnt.accepted++
	if l.s.cfg.TLS != nil {
		l.newTLSClient(c, cl) // Accept comes when the handshake has ended
	} else {
		l.cbAccept(c)
	}
	if cl = l.client(c); cl != nil && cl.state == stOpen {
		l.armRecv(c, cl)
	}
}

// acceptStopped reports whether the loop accepts no more connections.
func (l *loop) acceptStopped() bool { return l.stopping || l.noAccept }

// stopAccepting closes the loop's listeners: an armed accept is cancelled
// and its last completion closes its listener.
func (l *loop) stopAccepting() {
	l.noAccept = true
	for i := range l.listeners {
		ln := &l.listeners[i]
		ln.retryAt = 0
		if ln.armed {
			l.cancelTask(tasks.ID(ln.acceptID))
		} else {
			l.closeListener(ln) // backing off after an accept error, or never armed
		}
	}
	l.checkUnlistened() // no listeners, or all closed already
}

// StopAccepting closes the listeners while the open connections are
// served on: the first step of a drain (the net/http adapter's Shutdown
// waits for its handlers in between). Shutdown or Close still ends the
// rest. Called off the loops, it returns once every loop has closed its
// listeners (an accept in flight cancelled, or completed and served): a
// connection that arrives afterwards is left to whoever else listens on
// the socket, such as an upgrade's successor. Called on a loop, it cannot
// wait and returns at once.
func (s *Server) StopAccepting() error {
	s.closingListeners()
	wait := true
	for i, l := range s.loops {
		if l.onLoop() {
			wait = false
		}
		if err := s.RunOnLoop(i, l.stopAccepting); err != nil {
			return err
		}
	}
	for _, l := range s.loops {
		if !wait {
			break
		}
		select {
		case <-l.unlistened:
		case <-s.done:
			return nil
		}
	}
	return nil
}
