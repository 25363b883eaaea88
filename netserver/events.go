package netserver

import (
	"fmt"

	"errors"

	"github.com/uringnet/uringnet/tasks"
	"golang.org/x/sys/unix"
)

// errTooManyClients is returned when a loop's client table is full.
var errTooManyClients = errors.New("netserver: client table full")

// adopt registers an fd passed in (PassFD) or a new event (EventOpen).
func (l *loop) adopt(cmd *command) (ClientNum, error) {
	if l.stopping {
		if cmd.ev != nil {
			cmd.ev.Close()
		}
		return 0, ErrNotServing
	}
	fd, kind := cmd.fd, kindPassed
	if cmd.op == cmdEventOpen {
		fd, kind = cmd.ev.Fd(), kindEvent
	}
	c, cl, ok := l.newClient(fd, kind)
	if !ok {
		if cmd.ev != nil {
			cmd.ev.Close()
		}
		return 0, errTooManyClients
	}
	if kind == kindEvent {
		cl.ev = cmd.ev
		l.s.events.Store(c, cmd.ev)
	} else if _, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
		cl.socket = true
	}
	return c, nil
}

// armEvent arms the read of event c, unless one is armed.
func (l *loop) armEvent(c ClientNum, cl *client) {
	if cl.kind != kindEvent || cl.recvID != 0 || cl.state != stOpen {
		return
	}
	id, t, ok := l.tbl.Acquire()
	if !ok {
		l.deferred = append(l.deferred, func() bool {
			if l.tbl.Free() == 0 {
				return false
			}
			if cl := l.client(c); cl != nil {
				l.armEvent(c, cl)
			}
			return true
		})
		return
	}
	t.Kind = uint8(opEventRead)
	t.Client = uint64(c)
	t.Ref = cl.ev
	clear(cl.ev.Buffer()) // a completion that wrote nothing then reads as 0
	o := l.getOp()
	o.PrepRead(int(cl.fd), cl.ev.Buffer(), ^uint64(0))
	o.UserData = uint64(id)
	cl.recvID = id
	cl.inflight++
	l.prepared()
}

func (l *loop) onEvent(id tasks.ID, t *tasks.Task, res int32) {
	c := ClientNum(t.Client)
	l.tbl.Release(id)
	cl := l.client(c)
	if cl == nil {
		return
	}
	cl.recvID = 0
	cl.inflight--
	info := cl.info
	switch {
	case res == 8:
		// The counter holds every trigger since the last read: one
		// callback each, re-armed first so triggers during the callbacks
		// are not lost.
		n := cl.ev.Value()
		if cl.state == stOpen {
			l.armEvent(c, cl)
		}
		for ; n > 0; n-- {
			if cl = l.client(c); cl == nil || cl.state != stOpen {
				break
			}
			l.cnt.events++
			l.cbEvent(c, info)
		}
	case res == -int32(unix.ECANCELED) && cl.state != stOpen:
	default:
		if cl.state == stOpen {
			l.cbEventError(c, info)
		}
		if cl = l.client(c); cl != nil {
			l.closeClient(c, cl, fmt.Errorf("netserver: event read: %w", unix.Errno(-res)))
		}
	}
	if cl = l.client(c); cl != nil && cl.state == stClosing {
		l.maybeFinish(c, cl)
	}
}
