package backend

import (
	"time"

	"github.com/uringnet/uringnet/ops"
	"github.com/uringnet/uringnet/ring"
)

// uringBackend is io_uring: Ops queue up as they are filled and become SQEs
// at each submit.
type uringBackend struct {
	r *ring.Ring
	q []ops.Op // filled since the last submit: q[:n]
	n int
}

func newUring(entries uint32, o ring.Options) (*uringBackend, error) {
	r, err := ring.New(entries, o)
	if err != nil {
		return nil, err
	}
	return &uringBackend{r: r, q: make([]ops.Op, r.SQEntries())}, nil
}

func (*uringBackend) Name() string { return "io_uring" }

func (b *uringBackend) GetOp() *ops.Op {
	if b.n == len(b.q) {
		return nil
	}
	o := &b.q[b.n]
	b.n++
	*o = ops.Op{}
	return o
}

func (b *uringBackend) Space() uint32 { return uint32(len(b.q) - b.n) }

func (b *uringBackend) Submit() (int, error) {
	b.fill()
	return b.r.Submit()
}

func (b *uringBackend) SubmitAndWaitTimeout(waitNr uint32, d time.Duration) (int, error) {
	b.fill()
	return b.r.SubmitAndWaitTimeout(waitNr, d)
}

// fill turns the queued Ops into SQEs, each linked chain whole in the SQ.
func (b *uringBackend) fill() {
	for i := 0; i < b.n; {
		end := i + 1
		for end < b.n && b.q[end-1].Link {
			end++
		}
		if b.r.SQSpace() < uint32(end-i) {
			b.r.Submit()
		}
		for ; i < end; i++ {
			sqe := b.r.GetSQE()
			for sqe == nil {
				b.r.Submit()
				sqe = b.r.GetSQE()
			}
			toSQE(sqe, &b.q[i])
		}
	}
	clear(b.q[:b.n]) // the tasks keep the buffers alive; this queue must not
	b.n = 0
}

// toSQE encodes o for io_uring.
func toSQE(sqe *ring.SQE, o *ops.Op) {
	fd := int(o.Fd)
	switch o.Code {
	case ops.Nop:
		sqe.PrepNop()
	case ops.Accept:
		if o.More {
			sqe.PrepMultishotAccept(fd, o.Flags)
		} else {
			sqe.PrepAccept(fd, o.Flags)
		}
	case ops.Recv:
		switch {
		case o.More:
			sqe.PrepRecvMultishot(fd, o.Group, o.Flags)
		case o.Select:
			sqe.PrepRecvSelect(fd, o.Group, o.Flags)
		default:
			sqe.PrepRecv(fd, o.Buf, o.Flags)
		}
	case ops.Send:
		sqe.PrepSend(fd, o.Buf, o.Flags)
	case ops.Sendmsg:
		sqe.PrepSendmsg(fd, o.Msg, o.Flags)
	case ops.Read:
		sqe.PrepRead(fd, o.Buf, o.Off)
	case ops.Write:
		sqe.PrepWrite(fd, o.Buf, o.Off)
	case ops.Readv:
		sqe.PrepReadv(fd, o.Iovs, o.Off)
	case ops.Writev:
		sqe.PrepWritev(fd, o.Iovs, o.Off)
	case ops.Splice:
		sqe.PrepSplice(int(o.FdIn), o.OffIn, fd, int64(o.Off), o.Len, o.Flags)
	case ops.Close:
		sqe.PrepClose(fd)
	case ops.Shutdown:
		sqe.PrepShutdown(fd, int(o.Len))
	case ops.PollAdd:
		sqe.PrepPollAdd(fd, o.Flags)
	case ops.Cancel:
		if o.Flags&ops.CancelFD != 0 {
			sqe.PrepCancelFD(fd, o.Flags)
		} else {
			sqe.PrepCancel(o.Target, o.Flags)
		}
	default: // the kernel answers what it does not know with -EINVAL
		sqe.Opcode, sqe.Fd = uint8(o.Code), o.Fd
	}
	sqe.UserData = o.UserData
	if o.Link {
		sqe.Flags |= ring.SQEIOLink
	}
}

func (b *uringBackend) PeekBatchCQE(dst []*ops.CQE) int { return b.r.PeekBatchCQE(dst) }

func (b *uringBackend) CQAdvance(n uint32) { b.r.CQAdvance(n) }

func (b *uringBackend) Probe() (Probe, error) {
	p, err := b.r.Probe()
	if err != nil {
		return nil, err
	}
	return uringProbe{p, b.r.Flags()&ring.SetupDeferTaskrun != 0}, nil
}

// uringProbe is the kernel's probe.
type uringProbe struct {
	*ring.Probe
	deferred bool // the ring runs completions only when the loop waits
}

func (p uringProbe) Supported(c ops.Code) bool { return p.Probe.Supported(uint8(c)) }

// MultishotRecv needs DEFER_TASKRUN as well as the opcode: without it the
// kernel runs a multishot recv's task work at every io_uring_enter before
// the loop's cancel is submitted, and on any other kernel entry, so a recv
// the loop wants to stop keeps draining the socket (the whole of an 8 MiB
// write, measured) and the input a congested client makes us hold is
// unbounded. With it, completions are produced only while the loop waits,
// after the cancel it submitted.
func (p uringProbe) MultishotRecv() bool { return p.deferred && p.Probe.MultishotRecv() }

func (b *uringBackend) RegisterBufRing(bgid uint16, entries uint32, size int) (Buffers, error) {
	br, err := b.r.RegisterBufRing(bgid, entries, size)
	if err != nil {
		return nil, err
	}
	return br, nil
}

// Forget has nothing to drop: the kernel keeps no state about an fd
// between requests.
func (*uringBackend) Forget(int) {}

func (b *uringBackend) Close() error { return b.r.Close() }

// AsRing returns the ring under b when b is the io_uring backend, for tests
// and diagnostics that look at ring setup flags.
func AsRing(b Backend) (*ring.Ring, bool) {
	u, ok := b.(*uringBackend)
	if !ok {
		return nil, false
	}
	return u.r, true
}
