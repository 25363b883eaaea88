package netserver

import "github.com/uringnet/uringnet/eventfd"

type cmdOp uint8

const (
	cmdWrite cmdOp = iota + 1
	cmdWritev
	cmdSend
	cmdRead
	cmdReadv
	cmdCloseClient
	cmdAbort
	cmdPassFD
	cmdEventOpen
	cmdEventPrepare
	cmdGroup
	cmdCustom
	cmdFunc
	cmdShutdown
	cmdClose
	cmdPauseRead
	cmdResumeRead
	cmdSetCause
	cmdSetHandler
	cmdTLSWire // a handshake flight, from the handshake goroutine
	cmdTLSDone // the end of a handshake goroutine
)

// command is a call handed to a loop from another goroutine (or run at
// once on the loop).
type command struct {
	op     cmdOp
	c      ClientNum
	data   []byte
	bufs   [][]byte
	info   uint64
	fd     int
	ev     *eventfd.EventFD
	group  []groupOp
	custom Op
	fn     func()           // cmdFunc
	err    error            // cmdSetCause
	h      Handler          // cmdSetHandler
	res    chan adoptResult // reply for PassFD and EventOpen from other goroutines
	result ClientNum        // the new client, when run on the loop
}

type adoptResult struct {
	c   ClientNum
	err error
}

// post queues cmd for the loop and wakes it.
func (l *loop) post(cmd command) {
	l.cmdMu.Lock()
	l.cmds = append(l.cmds, cmd)
	l.cmdMu.Unlock()
	if l.wakePending.CompareAndSwap(false, true) {
		if err := l.wake.Trigger(); err != nil {
			l.wakePending.Store(false)
		}
	}
}

// drainCommands runs the queued commands.
func (l *loop) drainCommands() {
	l.wakePending.Store(false)
	l.cmdMu.Lock()
	cmds := l.cmds
	l.cmds = l.cmdSpare[:0]
	l.cmdMu.Unlock()
	for i := range cmds {
		l.exec(&cmds[i], false)
		cmds[i] = command{}
	}
	l.cmdSpare = cmds[:0]
}

// exec runs a command on the loop. direct is true when user code called
// it on the loop itself: a closed client is then reported as ErrClosed;
// queued commands report it through the failed callbacks instead.
func (l *loop) exec(cmd *command, direct bool) error {
	switch cmd.op {
	case cmdShutdown:
		l.beginStop(false)
		return nil
	case cmdClose:
		l.beginStop(true)
		return nil
	case cmdPassFD, cmdEventOpen:
		c, err := l.adopt(cmd)
		cmd.result = c
		if cmd.res != nil {
			cmd.res <- adoptResult{c, err}
		}
		return err
	case cmdGroup:
		return l.submitGroup(cmd.group, direct)
	case cmdFunc:
		l.runFunc(cmd.fn)
		return nil
	case cmdTLSDone:
		l.hsRunning--
		defer l.tlsStartWaiting()
	}
	cl := l.client(cmd.c)
	if cl == nil || cl.state != stOpen {
		if direct {
			return ErrClosed
		}
		l.failCommand(cmd)
		return nil
	}
	switch cmd.op {
	case cmdWrite:
		l.queueWrite(cmd.c, cl, writeItem{data: cmd.data, size: len(cmd.data), cb: cbWrite})
	case cmdWritev:
		l.queueWrite(cmd.c, cl, writeItem{bufs: cmd.bufs, size: totalLen(cmd.bufs), cb: cbWritev})
	case cmdSend:
		l.queueCopy(cmd.c, cl, cmd.data)
	case cmdRead, cmdReadv:
		var err error
		if cmd.op == cmdRead {
			err = l.userRead(cmd.c, cl, cmd.data, nil)
		} else {
			err = l.userRead(cmd.c, cl, nil, cmd.bufs)
		}
		if err != nil && !direct {
			l.failCommand(cmd) // a stream, or TLS: the callback says it failed
		}
		return err
	case cmdCloseClient:
		l.closeGracefully(cmd.c, cl, ErrLocalClose)
	case cmdAbort:
		l.closeClient(cmd.c, cl, ErrLocalClose)
	case cmdEventPrepare:
		cl.info = cmd.info
		l.armEvent(cmd.c, cl)
	case cmdCustom:
		l.queueWrite(cmd.c, cl, writeItem{op: cmd.custom, size: 1, cb: cbOp})
	case cmdPauseRead, cmdResumeRead:
		l.setPaused(cmd.c, cl, cmd.op == cmdPauseRead)
	case cmdSetCause:
		if cl.cause == nil {
			cl.cause = cmd.err
		}
	case cmdSetHandler:
		cl.h = cmd.h
	case cmdTLSWire:
		l.queueWrite(cmd.c, cl, writeItem{data: cmd.data, size: len(cmd.data), wire: true})
	case cmdTLSDone:
		if cl.tls != nil && !cl.tls.ready {
			l.tlsHandshakeDone(cmd.c, cl, cmd.err)
		}
	}
	return nil
}

// failCommand reports a queued command on a closed client through its
// callback.
func (l *loop) failCommand(cmd *command) {
	switch cmd.op {
	case cmdWrite:
		l.cbWrite(cmd.data, cmd.c, true)
	case cmdWritev:
		l.cbWritev(cmd.bufs, cmd.c, true)
	case cmdRead:
		l.cbRead(nil, cmd.c, true)
	case cmdReadv:
		l.cbReadv(nil, cmd.c, true)
	case cmdCustom:
		l.cancelOp(cmd.custom, cmd.c)
	}
}

func totalLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}
