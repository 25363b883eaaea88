package netserver

import (
	"fmt"
	"runtime/debug"
	"time"
)

// The cb* wrappers call the Handler. A panic is recovered, logged and
// counted, and closes the client the callback was about.

func (l *loop) recovered(c ClientNum, callback string) {
	r := recover()
	if r == nil {
		return
	}
	l.cnt.panics++
	l.log.Error("netserver: callback panicked; closing its client",
		"callback", callback, "client", c, "panic", r, "stack", string(debug.Stack()))
	if cl := l.client(c); cl != nil {
		l.closeClient(c, cl, fmt.Errorf("%w: %s: %v", ErrCallbackPanic, callback, r))
	}
}

// handler returns the Handler of c: its SetHandler override, or the
// server's.
func (l *loop) handler(c ClientNum) Handler {
	if cl := l.client(c); cl != nil && cl.h != nil {
		return cl.h
	}
	return l.h
}

func (l *loop) cbAccept(c ClientNum) {
	defer l.recovered(c, "Accept")
	l.h.Accept(c)
}

func (l *loop) cbRead(data []byte, c ClientNum, failed bool) {
	defer l.recovered(c, "RawRead")
	l.handler(c).RawRead(data, c, failed)
}

func (l *loop) cbReadv(bufs [][]byte, c ClientNum, failed bool) {
	defer l.recovered(c, "RawReadv")
	l.handler(c).RawReadv(bufs, c, failed)
}

func (l *loop) cbWrite(data []byte, c ClientNum, failed bool) {
	defer l.recovered(c, "RawWrite")
	l.handler(c).RawWrite(data, c, failed)
}

func (l *loop) cbWritev(bufs [][]byte, c ClientNum, failed bool) {
	defer l.recovered(c, "RawWritev")
	l.handler(c).RawWritev(bufs, c, failed)
}

func (l *loop) cbDrained(d Drainer, c ClientNum) {
	defer l.recovered(c, "RawDrained")
	d.RawDrained(c)
}

func (l *loop) cbClose(h Handler, c ClientNum, cause error) {
	defer l.recovered(c, "RawClose")
	h.RawClose(c, cause)
}

func (l *loop) cbEvent(c ClientNum, info uint64) {
	defer l.recovered(c, "EventTrigger")
	l.handler(c).EventTrigger(c, info)
}

func (l *loop) cbEventError(c ClientNum, info uint64) {
	defer l.recovered(c, "EventErrorClose")
	l.handler(c).EventErrorClose(c, info)
}

func (l *loop) tick() {
	now := time.Unix(0, l.now)
	if t, ok := l.h.(Ticker); ok {
		l.tickOne(t, now)
	}
	if ts := l.s.tickers.Load(); ts != nil {
		for _, t := range *ts {
			l.tickOne(t, now)
		}
	}
}

func (l *loop) tickOne(t Ticker, now time.Time) {
	defer l.recovered(0, "Tick")
	t.Tick(l.idx, now)
}

// runFunc runs a function given to RunOnLoop.
func (l *loop) runFunc(f func()) {
	defer l.recovered(0, "RunOnLoop")
	f()
}

func (l *loop) cancelOp(op Op, c ClientNum) {
	defer l.recovered(c, "Op.Cancel")
	op.Cancel(c)
}
