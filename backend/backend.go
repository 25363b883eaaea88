package backend

import (
	"time"

	"github.com/uringnet/uringnet/ops"
)

// Backend runs operations (ops.Op) and reports their completions as CQEs.
// A Backend belongs to one goroutine (the loop's), locked to its OS thread;
// none of its methods may be called concurrently.
type Backend interface {
	// Name is "io_uring" or "epoll": for stats and logs only.
	Name() string
	// GetOp returns a zeroed Op to fill, or nil when the submission queue
	// is full (Submit makes room). Ops linked with Op.Link must be taken
	// without a Submit in between (Space tells whether they fit).
	GetOp() *ops.Op
	// Space returns how many Ops GetOp can hand out before a Submit.
	Space() uint32
	// Submit starts the Ops filled since the last submit, without waiting.
	Submit() (int, error)
	// SubmitAndWaitTimeout submits and then waits until at least waitNr
	// completions are ready or d has passed (d <= 0: no bound). Callers
	// look at the completions, not at the return value.
	SubmitAndWaitTimeout(waitNr uint32, d time.Duration) (int, error)
	// PeekBatchCQE fills dst with ready completions and returns how many;
	// each stays valid until CQAdvance moves past it.
	PeekBatchCQE(dst []*ops.CQE) int
	// CQAdvance marks n completions as consumed.
	CQAdvance(n uint32)
	// Probe tells which operations the backend runs.
	Probe() (Probe, error)
	// RegisterBufRing sets up entries provided buffers of size bytes in
	// buffer group bgid, for recvs with buffer selection.
	RegisterBufRing(bgid uint16, entries uint32, size int) (Buffers, error)
	// Forget tells the backend that fd is about to be closed other than
	// by an ops.Close op (close(2) directly), so that it drops what it
	// keeps about fd before the number is reused. Every operation on fd
	// must have completed.
	Forget(fd int)
	// Close releases the backend. Operations still in flight are dropped.
	Close() error
}

// Probe tells which operations a backend runs.
type Probe interface {
	// Supported reports whether the backend runs operation c.
	Supported(c ops.Code) bool
	// MultishotAccept reports whether an accept may stay armed (CQEFMore).
	MultishotAccept() bool
	// MultishotRecv reports whether a recv with buffer selection may stay
	// armed (CQEFMore) and stops at a cancel the loop submits: after the
	// cancel, it completes nothing more but its final CQE.
	MultishotRecv() bool
}

// Buffers is a group of provided buffers: recvs with buffer selection take
// one, their completion names it (ring.CQE.BufferID), and the loop gives it
// back with Add once it has used the bytes.
type Buffers interface {
	// Group returns the buffer group id for PrepRecvSelect and
	// PrepRecvMultishot.
	Group() uint16
	// Buffer returns the first n bytes of buffer bid.
	Buffer(bid uint16, n int) []byte
	// Add gives buffer bid back; it may be picked again after Publish.
	Add(bid uint16)
	// Publish makes the buffers added since the last Publish available.
	Publish()
	// Close releases the buffers.
	Close() error
}
