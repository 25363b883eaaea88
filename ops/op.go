package ops

import (
	"github.com/uringnet/uringnet/ring"
	"golang.org/x/sys/unix"
)

// Code says what an Op does. The values are io_uring's opcodes.
type Code uint8

// The operations.
const (
	Nop      = Code(ring.OpNop)
	Readv    = Code(ring.OpReadv)
	Writev   = Code(ring.OpWritev)
	PollAdd  = Code(ring.OpPollAdd)
	Sendmsg  = Code(ring.OpSendmsg)
	Accept   = Code(ring.OpAccept)
	Cancel   = Code(ring.OpAsyncCancel)
	Close    = Code(ring.OpClose)
	Read     = Code(ring.OpRead)
	Write    = Code(ring.OpWrite)
	Send     = Code(ring.OpSend)
	Recv     = Code(ring.OpRecv)
	Splice   = Code(ring.OpSplice)
	Shutdown = Code(ring.OpShutdown)
)

// Op is one operation. Fill it with a Prep method, set UserData (and Link),
// and submit it; every buffer, iovec array and msghdr it names must stay
// alive and unmoved until its final completion (the kernel may use them
// until then).
type Op struct {
	Code     Code
	Fd       int32
	Buf      []byte       // recv, send, read, write
	Iovs     []unix.Iovec // readv, writev
	Msg      *unix.Msghdr // sendmsg
	Off      uint64       // read, write, readv, writev: file offset, ^0 for the current position; splice: output offset
	Flags    uint32       // msg flags, accept flags, poll mask, splice flags, cancel flags
	Len      uint32       // splice: bytes; shutdown: how
	FdIn     int32        // splice: the input fd
	OffIn    int64        // splice: the input offset (-1: none)
	Target   uint64       // cancel: the user data of the op to cancel
	Group    uint16       // recv with buffer selection: the buffer group
	Select   bool         // recv: into a provided buffer of Group
	More     bool         // accept, recv with Select: multishot, stays armed while CQEs carry CQEFMore
	Link     bool         // the next Op of the same submission starts only if this one succeeds
	UserData uint64       // comes back in the CQE
}

// CQE is a completion: the UserData of its Op, the result (a count, an fd,
// or -errno) and flags (CQEFMore, CQEFBuffer with the buffer id).
type CQE = ring.CQE

// Completion flags and cancel flags, as io_uring has them.
const (
	CQEFBuffer     = ring.CQEFBuffer
	CQEFMore       = ring.CQEFMore
	CQEBufferShift = ring.CQEBufferShift
	CancelAll      = ring.AsyncCancelAll // Cancel: every op that matches, not just the first
	CancelFD       = ring.AsyncCancelFD  // Cancel: match by fd, not by user data
)

func (o *Op) reset(c Code, fd int) {
	*o = Op{Code: c, Fd: int32(fd), UserData: o.UserData, Link: o.Link}
}

// PrepNop prepares a no-op.
func (o *Op) PrepNop() { o.reset(Nop, -1) }

// PrepAccept prepares a single-shot accept; flags are accept4(2) flags such
// as unix.SOCK_CLOEXEC.
func (o *Op) PrepAccept(fd int, flags uint32) {
	o.reset(Accept, fd)
	o.Flags = flags
}

// PrepMultishotAccept prepares an accept that completes once per connection
// and stays armed while its CQEs carry CQEFMore.
func (o *Op) PrepMultishotAccept(fd int, flags uint32) {
	o.PrepAccept(fd, flags)
	o.More = true
}

// PrepRecv prepares a recv into buf.
func (o *Op) PrepRecv(fd int, buf []byte, flags uint32) {
	o.reset(Recv, fd)
	o.Buf, o.Flags = buf, flags
}

// PrepRecvSelect prepares a recv into a provided buffer of group.
func (o *Op) PrepRecvSelect(fd int, group uint16, flags uint32) {
	o.reset(Recv, fd)
	o.Select, o.Group, o.Flags = true, group, flags
}

// PrepRecvMultishot prepares a recv that completes once per provided buffer
// filled and stays armed while its CQEs carry CQEFMore.
func (o *Op) PrepRecvMultishot(fd int, group uint16, flags uint32) {
	o.PrepRecvSelect(fd, group, flags)
	o.More = true
}

// PrepRead prepares a read into buf at offset off (^uint64(0): the current
// position).
func (o *Op) PrepRead(fd int, buf []byte, off uint64) {
	o.reset(Read, fd)
	o.Buf, o.Off = buf, off
}

// PrepWrite prepares a write of buf at offset off.
func (o *Op) PrepWrite(fd int, buf []byte, off uint64) {
	o.reset(Write, fd)
	o.Buf, o.Off = buf, off
}

// PrepReadv prepares a vectored read at offset off.
func (o *Op) PrepReadv(fd int, iovs []unix.Iovec, off uint64) {
	o.reset(Readv, fd)
	o.Iovs, o.Off = iovs, off
}

// PrepWritev prepares a vectored write at offset off.
func (o *Op) PrepWritev(fd int, iovs []unix.Iovec, off uint64) {
	o.reset(Writev, fd)
	o.Iovs, o.Off = iovs, off
}

// PrepSend prepares a send of buf; pass unix.MSG_NOSIGNAL.
func (o *Op) PrepSend(fd int, buf []byte, flags uint32) {
	o.reset(Send, fd)
	o.Buf, o.Flags = buf, flags
}

// PrepSendmsg prepares a sendmsg of msg.
func (o *Op) PrepSendmsg(fd int, msg *unix.Msghdr, flags uint32) {
	o.reset(Sendmsg, fd)
	o.Msg, o.Flags = msg, flags
}

// PrepSplice prepares a splice of n bytes from fdIn at offIn to fdOut at
// offOut (-1: no offset).
func (o *Op) PrepSplice(fdIn int, offIn int64, fdOut int, offOut int64, n uint32, flags uint32) {
	o.reset(Splice, fdOut)
	o.FdIn, o.OffIn, o.Off, o.Len, o.Flags = int32(fdIn), offIn, uint64(offOut), n, flags
}

// PrepClose prepares a close of fd.
func (o *Op) PrepClose(fd int) { o.reset(Close, fd) }

// PrepShutdown prepares a shutdown(2); how is unix.SHUT_*.
func (o *Op) PrepShutdown(fd int, how int) {
	o.reset(Shutdown, fd)
	o.Len = uint32(how)
}

// PrepCancel prepares the cancellation of the op with user data target.
func (o *Op) PrepCancel(target uint64, flags uint32) {
	o.reset(Cancel, -1)
	o.Target, o.Flags = target, flags
}

// PrepCancelFD prepares the cancellation of ops on fd (every one with
// CancelAll).
func (o *Op) PrepCancelFD(fd int, flags uint32) {
	o.reset(Cancel, fd)
	o.Flags = flags | CancelFD
}

// PrepPollAdd prepares a one-shot poll for the events in mask
// (unix.POLLIN, unix.POLLOUT).
func (o *Op) PrepPollAdd(fd int, mask uint32) {
	o.reset(PollAdd, fd)
	o.Flags = mask
}

// ReservedUserData marks a backend's own completions (the io_uring
// backend's wait timeout before Linux 5.11): skip a CQE that carries it.
const ReservedUserData = ring.ReservedUserData
