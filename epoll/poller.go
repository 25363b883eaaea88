package epoll

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/uringnet/uringnet/ops"
	"golang.org/x/sys/unix"
)

// Poller is one epoll proactor. It belongs to one goroutine: none of its
// methods may be called concurrently.
type Poller struct {
	epfd    int
	sq      []ops.Op // filled since the last submit: sq[:sqn]
	sqn     int
	cq      []ops.CQE // completions not yet consumed: cq[head:]
	head    int
	fds     []*fdState     // by fd number
	waiting map[uint64]*op // ops waiting for readiness, by user data
	ready   []*fdState     // fds whose ops stopped at their per-turn budget
	events  []unix.EpollEvent
	bufs    []*Buffers
	pool    []*op
	trigger Trigger
}

// Trigger is how a Poller registers fds with epoll.
type Trigger uint8

// The triggers.
const (
	// Edge registers each fd once, edge-triggered, for both directions:
	// one epoll_ctl per fd, and an event only when something changes.
	Edge Trigger = iota
	// Level registers the directions that have ops waiting,
	// level-triggered, and drops a direction that reported readiness with
	// none waiting: an epoll_ctl at each such change. For comparison.
	Level
)

// EnvTrigger is the environment variable that picks the trigger of the
// Pollers New makes: "edge" (the default) or "level" (for benchmarks).
const EnvTrigger = "URINGNET_EPOLL_TRIGGER"

// New returns a Poller whose submission queue holds entries Ops,
// edge-triggered unless $URINGNET_EPOLL_TRIGGER is "level".
func New(entries uint32) (*Poller, error) {
	t := Edge
	if strings.EqualFold(strings.TrimSpace(os.Getenv(EnvTrigger)), "level") {
		t = Level
	}
	return NewTrigger(entries, t)
}

// NewTrigger is New with the trigger given.
func NewTrigger(entries uint32, t Trigger) (*Poller, error) {
	if entries == 0 {
		entries = 1024
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: epoll_create1: %w", err)
	}
	return &Poller{
		epfd:    epfd,
		sq:      make([]ops.Op, entries),
		waiting: make(map[uint64]*op),
		events:  make([]unix.EpollEvent, 256),
		trigger: t,
	}, nil
}

// Close releases the epoll instance and the buffers. Operations still
// waiting are dropped without completions.
func (p *Poller) Close() error {
	for _, b := range p.bufs {
		b.Close()
	}
	p.bufs = nil
	p.fds, p.waiting, p.ready = nil, nil, nil
	if p.epfd < 0 {
		return nil
	}
	err := unix.Close(p.epfd)
	p.epfd = -1
	return err
}

// Probe tells which operations the Poller runs.
func (p *Poller) Probe() Probe { return Probe{} }

// GetOp returns a zeroed Op to fill, or nil when the queue is full.
func (p *Poller) GetOp() *ops.Op {
	if p.sqn == len(p.sq) {
		return nil
	}
	o := &p.sq[p.sqn]
	p.sqn++
	*o = ops.Op{}
	return o
}

// Space returns how many Ops GetOp can hand out before a Submit.
func (p *Poller) Space() uint32 { return uint32(len(p.sq) - p.sqn) }

// Submit starts every Op filled since the last submit, in order: each is
// tried at once, and waits for readiness if it would block. Ops with Link
// set form a chain with the Op after them.
func (p *Poller) Submit() (int, error) {
	n := p.sqn
	var head, tail *op
	for i := 0; i < n; i++ {
		o := p.newOp(&p.sq[i])
		if head == nil {
			head = o
		} else {
			tail.next = o
		}
		tail = o
		if o.op.Link && i+1 < n {
			continue
		}
		p.start(head)
		head, tail = nil, nil
	}
	clear(p.sq[:n]) // the ops hold what they need; the queue must not
	p.sqn = 0
	return n, nil
}

// SubmitAndWaitTimeout submits, then waits for readiness until at least
// one completion is ready (waitNr > 0) or d has passed (d <= 0: no bound),
// and runs the operations whose fds became ready.
func (p *Poller) SubmitAndWaitTimeout(waitNr uint32, d time.Duration) (int, error) {
	n, _ := p.Submit()
	p.runReady()
	msec := -1
	if d > 0 {
		msec = int((d + time.Millisecond - 1) / time.Millisecond)
	}
	if waitNr == 0 || len(p.cq) > p.head || len(p.ready) > 0 {
		msec = 0
	}
	k, err := p.wait(msec)
	if err != nil {
		return n, fmt.Errorf("epoll: epoll_wait: %w", err)
	}
	for _, ev := range p.events[:k] {
		fd := int(ev.Fd)
		if fd >= len(p.fds) || p.fds[fd] == nil {
			continue // forgotten since; a stale registration
		}
		fs := p.fds[fd]
		if ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
			fs.rdhup = true
		}
		if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			p.run(fs, rd)
		}
		if ev.Events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			p.run(fs, wr)
		}
		if p.fds[fd] == fs {
			p.idle(fs, ev.Events)
		}
	}
	return n, nil
}

// wait is epoll_wait. It first looks without blocking, skipping the
// scheduler's system call bookkeeping (under load something is ready), and
// only then blocks through the scheduler, which hands the P off meanwhile.
func (p *Poller) wait(msec int) (int, error) {
	for {
		k, err := epollWaitNow(p.epfd, p.events)
		if k == 0 && err == nil && msec != 0 {
			k, err = unix.EpollWait(p.epfd, p.events, msec)
		}
		if err == unix.EINTR {
			if msec == 0 {
				continue
			}
			return 0, nil
		}
		return k, err
	}
}

// PeekBatchCQE fills dst with pointers to ready completions.
func (p *Poller) PeekBatchCQE(dst []*ops.CQE) int {
	if p.head == len(p.cq) {
		p.cq, p.head = p.cq[:0], 0
		return 0
	}
	n := min(len(dst), len(p.cq)-p.head)
	for i := 0; i < n; i++ {
		dst[i] = &p.cq[p.head+i]
	}
	return n
}

// CQAdvance marks n completions as consumed.
func (p *Poller) CQAdvance(n uint32) { p.head += int(n) }

// post appends a completion.
func (p *Poller) post(ud uint64, res int32, flags uint32) {
	p.cq = append(p.cq, ops.CQE{UserData: ud, Res: res, Flags: flags})
}

// runReady runs again the fds whose ops stopped at their budget.
func (p *Poller) runReady() {
	if len(p.ready) == 0 {
		return
	}
	list := p.ready
	p.ready = nil
	for _, fs := range list {
		fs.inReady = false
		if p.fds[fs.fd] != fs {
			continue // forgotten
		}
		p.run(fs, rd)
		p.run(fs, wr)
	}
	if p.ready == nil {
		p.ready = list[:0]
	}
}
