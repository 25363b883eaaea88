package netserver

import (
	"time"

	"github.com/uringnet/uringnet/tasks"
	"golang.org/x/sys/unix"
)

// A listening socket shared with another process (inherited, or handed
// out by ListenerFiles) is watched for a while: io_uring arms its accepts
// as exclusive waiters (EPOLLEXCLUSIVE), so a connection whose wake-up went
// to the other process's accept just as that accept was cancelled (the
// predecessor stopping, a failed successor killed) stays in the backlog,
// and nobody is woken for it until the next connection arrives. The watch
// looks at each armed listener every watchInterval (a zero-timeout poll);
// one that was readable at two looks in a row with no accept between them
// has its accept cancelled and armed again, which accepts at once.
const (
	watchInterval = 50 * time.Millisecond
	watchWindow   = 60 * time.Second
)

// watchFor makes the loop watch its listeners until d from now.
func (l *loop) watchFor(d time.Duration) {
	if until := time.Now().Add(d).UnixNano(); until > l.watchUntil {
		l.watchUntil = until
	}
	if l.nextWatch == 0 {
		l.nextWatch = l.now + int64(watchInterval)
	}
}

// watchDeadline is when the watch next looks, 0 when it is off.
func (l *loop) watchDeadline() int64 {
	if l.watchUntil == 0 {
		return 0
	}
	return l.nextWatch
}

// watch looks at the listeners when it is time (from timers).
func (l *loop) watch() {
	if l.watchUntil == 0 || l.now < l.nextWatch {
		return
	}
	if l.now > l.watchUntil || l.acceptStopped() {
		l.watchUntil, l.nextWatch = 0, 0
		return
	}
	l.nextWatch = l.now + int64(watchInterval)
	for i := range l.listeners {
		ln := &l.listeners[i]
		if !ln.armed || ln.closed || ln.rearm {
			ln.seen = false
			continue
		}
		pfd := []unix.PollFd{{Fd: int32(ln.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 0); err != nil || n == 0 || pfd[0].Revents&unix.POLLIN == 0 {
			ln.seen = false
			continue
		}
		if !ln.seen || ln.accepts != ln.seenAccepts {
			ln.seen, ln.seenAccepts = true, ln.accepts
			continue
		}
		ln.seen, ln.rearm = false, true
		l.cnt.acceptRearms++
		l.log.Info("netserver: connections waited in a shared listener's backlog unaccepted; accept re-armed", "loop", l.idx)
		l.cancelTask(tasks.ID(ln.acceptID))
	}
}
