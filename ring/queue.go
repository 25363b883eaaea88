package ring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReservedUserData marks internal requests (the wait timeout on kernels
// without FeatExtArg). CQEs carrying it must be skipped by the caller; task
// ids never take this value.
const ReservedUserData = ^uint64(0)

// GetSQE returns the next free submission queue entry, zeroed, or nil when
// the queue is full (submit, then try again). The entry is published to the
// kernel by the next Submit.
func (r *Ring) GetSQE() *SQE {
	sq := &r.sq
	head := atomic.LoadUint32(sq.head) // acquire: the kernel consumed up to head
	if sq.sqeTail-head >= sq.entries {
		return nil
	}
	sqe := &sq.sqes[sq.sqeTail&sq.mask]
	sq.sqeTail++
	*sqe = SQE{}
	return sqe
}

// SQSpace returns how many SQEs GetSQE can still hand out before a submit.
func (r *Ring) SQSpace() uint32 {
	return r.sq.entries - (r.sq.sqeTail - atomic.LoadUint32(r.sq.head))
}

// flushSQ publishes every SQE handed out so far (store-release of the tail,
// after the entries were written) and returns how many the kernel has not
// consumed yet.
func (r *Ring) flushSQ() uint32 {
	sq := &r.sq
	if *sq.tail != sq.sqeTail { // only user space writes the tail
		atomic.StoreUint32(sq.tail, sq.sqeTail)
	}
	return sq.sqeTail - atomic.LoadUint32(sq.head)
}

// Pending returns the number of SQEs handed out but not yet consumed by the
// kernel.
func (r *Ring) Pending() uint32 { return r.sq.sqeTail - atomic.LoadUint32(r.sq.head) }

// needsEnterForCQ reports whether completions are waiting that only an
// io_uring_enter with GETEVENTS will post (overflow list, deferred task work).
func (r *Ring) needsEnterForCQ() bool {
	if r.flags&SetupDeferTaskrun != 0 {
		return true
	}
	return atomic.LoadUint32(r.sq.flags)&(SQCQOverflow|SQTaskrun) != 0
}

// Submit publishes pending SQEs to the kernel without waiting. It returns the
// number of SQEs the kernel consumed.
func (r *Ring) Submit() (int, error) { return r.SubmitAndWait(0) }

// SubmitAndWait publishes pending SQEs and waits until at least waitNr CQEs
// are ready, in a single io_uring_enter. The call may return with fewer CQEs
// ready than asked (a signal can interrupt the wait after the submit), so
// callers must look at the CQ ring, not at the return value.
func (r *Ring) SubmitAndWait(waitNr uint32) (int, error) {
	return r.enter(waitNr, nil)
}

// SubmitAndWaitTimeout is SubmitAndWait with a bound on the wait. A timeout
// is not an error: it returns with whatever is in the CQ ring. A
// non-positive d waits without a bound.
func (r *Ring) SubmitAndWaitTimeout(waitNr uint32, d time.Duration) (int, error) {
	if d <= 0 || waitNr == 0 {
		return r.enter(waitNr, nil)
	}
	r.waitTs = Timespec{Sec: int64(d / time.Second), Nsec: int64(d % time.Second)}
	if !r.extArg {
		// Kernels before 5.11 (or Options.NoExtArg): a TIMEOUT request that
		// completes after one other completion, or when d has passed, ends
		// the wait. Its own completion carries ReservedUserData.
		sqe := r.GetSQE()
		if sqe == nil {
			if _, err := r.enter(0, nil); err != nil {
				return 0, err
			}
			sqe = r.GetSQE()
		}
		if sqe != nil {
			sqe.PrepTimeout(&r.waitTs, 1, 0)
			sqe.UserData = ReservedUserData
		}
		return r.enter(waitNr, nil)
	}
	r.waitArg = getEventsArg{SigmaskSz: 8, Ts: uint64(uintptr(unsafe.Pointer(&r.waitTs)))}
	return r.enter(waitNr, &r.waitArg)
}

func (r *Ring) enter(waitNr uint32, arg *getEventsArg) (int, error) {
	for {
		submit := r.flushSQ()
		var flags uint32
		if waitNr > 0 || r.needsEnterForCQ() {
			flags |= EnterGetEvents
		}
		if r.flags&SetupSQPoll != 0 {
			// The SQ thread consumes SQEs itself; wake it if it sleeps.
			if atomic.LoadUint32(r.sq.flags)&SQNeedWakeup != 0 {
				flags |= EnterSQWakeup
			}
			if flags == 0 {
				return int(submit), nil
			}
			submit = 0
		}
		if submit == 0 && flags&EnterGetEvents == 0 {
			return 0, nil
		}
		var argp unsafe.Pointer
		var argSz uintptr
		if arg != nil {
			flags |= EnterExtArg
			argp, argSz = unsafe.Pointer(arg), unsafe.Sizeof(*arg)
		}
		n, err := sysEnter(r.fd, submit, waitNr, flags, argp, argSz)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ETIME):
			return n, nil
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EBUSY):
			// Short of resources or the CQ overflowed (pre-NODROP): the
			// caller reaps completions and enters again.
			return 0, nil
		}
		return n, fmt.Errorf("ring: io_uring_enter(submit=%d, wait=%d): %w", submit, waitNr, err)
	}
}

// CQReady returns the number of CQEs ready to be read.
func (r *Ring) CQReady() uint32 {
	return atomic.LoadUint32(r.cq.tail) - *r.cq.head // acquire the tail; only user space writes head
}

// PeekBatchCQE fills dst with pointers to ready CQEs, oldest first, and
// returns how many it filled. The CQEs stay valid until CQAdvance.
func (r *Ring) PeekBatchCQE(dst []*CQE) int {
	cq := &r.cq
	head := *cq.head
	ready := atomic.LoadUint32(cq.tail) - head
	n := uint32(len(dst))
	if ready < n {
		n = ready
	}
	for i := uint32(0); i < n; i++ {
		dst[i] = &cq.cqes[(head+i)&cq.mask]
	}
	return int(n)
}

// PeekCQE returns the oldest ready CQE, or nil.
func (r *Ring) PeekCQE() *CQE {
	cq := &r.cq
	head := *cq.head
	if atomic.LoadUint32(cq.tail) == head {
		return nil
	}
	return &cq.cqes[head&cq.mask]
}

// CQAdvance marks n CQEs as consumed (store-release of the head), handing
// their slots back to the kernel.
func (r *Ring) CQAdvance(n uint32) {
	if n > 0 {
		atomic.StoreUint32(r.cq.head, *r.cq.head+n)
	}
}

// WaitCQE returns the oldest CQE, entering the kernel until one is there.
func (r *Ring) WaitCQE() (*CQE, error) {
	for {
		if c := r.PeekCQE(); c != nil {
			return c, nil
		}
		if _, err := r.SubmitAndWait(1); err != nil {
			return nil, err
		}
	}
}

// CQOverflowPending reports whether the kernel holds completions that did
// not fit in the CQ ring (FeatNoDrop keeps them; an enter with GETEVENTS
// flushes them once space is free).
func (r *Ring) CQOverflowPending() bool {
	return atomic.LoadUint32(r.sq.flags)&SQCQOverflow != 0
}

// CQOverflow returns the number of completions the kernel had to drop
// (only on kernels without FeatNoDrop).
func (r *Ring) CQOverflow() uint32 { return atomic.LoadUint32(r.cq.overflow) }

// SQDropped returns the number of invalid SQEs the kernel skipped.
func (r *Ring) SQDropped() uint32 { return atomic.LoadUint32(r.sq.dropped) }
