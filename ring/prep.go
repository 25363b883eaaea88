package ring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Prep helpers fill an SQE for one opcode. Every buffer, iovec array and
// timespec they point the kernel at must stay alive and unmoved (heap or
// mmap memory, never a goroutine stack) until the request's final CQE.

func bufAddr(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

func (s *SQE) prepRW(op uint8, fd int, addr uint64, n uint32, off uint64) {
	s.Opcode = op
	s.Fd = int32(fd)
	s.Addr = addr
	s.Len = n
	s.Off = off
}

// PrepNop prepares a no-op.
func (s *SQE) PrepNop() { s.prepRW(OpNop, -1, 0, 0, 0) }

// PrepAccept prepares a single-shot accept on a listening socket; flags are
// accept4(2) flags such as unix.SOCK_CLOEXEC. The peer address is not asked for.
func (s *SQE) PrepAccept(fd int, flags uint32) {
	s.prepRW(OpAccept, fd, 0, 0, 0)
	s.OpFlags = flags
}

// PrepMultishotAccept prepares an accept that posts one CQE per connection
// and stays armed while CQEs carry CQEFMore (5.19).
func (s *SQE) PrepMultishotAccept(fd int, flags uint32) {
	s.PrepAccept(fd, flags)
	s.IoPrio |= AcceptMultishot
}

// PrepRecv prepares a recv into buf.
func (s *SQE) PrepRecv(fd int, buf []byte, flags uint32) {
	s.prepRW(OpRecv, fd, bufAddr(buf), uint32(len(buf)), 0)
	s.OpFlags = flags
}

// PrepRecvSelect prepares a single-shot recv into a buffer the kernel picks
// from provided-buffer group bgid.
func (s *SQE) PrepRecvSelect(fd int, bgid uint16, flags uint32) {
	s.prepRW(OpRecv, fd, 0, 0, 0)
	s.OpFlags = flags
	s.Flags |= SQEBufferSelect
	s.BufIndex = bgid
}

// PrepRecvMultishot prepares a recv that posts one CQE per received chunk,
// each in a buffer from group bgid, and stays armed while CQEs carry
// CQEFMore (6.0).
func (s *SQE) PrepRecvMultishot(fd int, bgid uint16, flags uint32) {
	s.PrepRecvSelect(fd, bgid, flags)
	s.IoPrio |= RecvMultishot
}

// PrepRead prepares a read into buf at offset off (^uint64(0): current position).
func (s *SQE) PrepRead(fd int, buf []byte, off uint64) {
	s.prepRW(OpRead, fd, bufAddr(buf), uint32(len(buf)), off)
}

// PrepWrite prepares a write of buf at offset off (^uint64(0): current position).
func (s *SQE) PrepWrite(fd int, buf []byte, off uint64) {
	s.prepRW(OpWrite, fd, bufAddr(buf), uint32(len(buf)), off)
}

func iovAddr(iovs []unix.Iovec) uint64 {
	if len(iovs) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&iovs[0])))
}

// PrepReadv prepares a vectored read at offset off.
func (s *SQE) PrepReadv(fd int, iovs []unix.Iovec, off uint64) {
	s.prepRW(OpReadv, fd, iovAddr(iovs), uint32(len(iovs)), off)
}

// PrepWritev prepares a vectored write at offset off.
func (s *SQE) PrepWritev(fd int, iovs []unix.Iovec, off uint64) {
	s.prepRW(OpWritev, fd, iovAddr(iovs), uint32(len(iovs)), off)
}

// PrepSend prepares a send of buf; pass unix.MSG_NOSIGNAL so a reset peer
// gives EPIPE instead of SIGPIPE.
func (s *SQE) PrepSend(fd int, buf []byte, flags uint32) {
	s.prepRW(OpSend, fd, bufAddr(buf), uint32(len(buf)), 0)
	s.OpFlags = flags
}

// PrepSendmsg prepares a sendmsg with msg (and its iovecs) kept alive by the caller.
func (s *SQE) PrepSendmsg(fd int, msg *unix.Msghdr, flags uint32) {
	s.prepRW(OpSendmsg, fd, uint64(uintptr(unsafe.Pointer(msg))), 1, 0)
	s.OpFlags = flags
}

// PrepSplice prepares a splice of n bytes from fdIn at offIn to fdOut at
// offOut; an offset of -1 means "no offset" (pipes and sockets).
func (s *SQE) PrepSplice(fdIn int, offIn int64, fdOut int, offOut int64, n uint32, flags uint32) {
	s.prepRW(OpSplice, fdOut, uint64(offIn), n, uint64(offOut))
	s.SpliceFdIn = int32(fdIn)
	s.OpFlags = flags
}

// PrepClose prepares a close of fd.
func (s *SQE) PrepClose(fd int) { s.prepRW(OpClose, fd, 0, 0, 0) }

// PrepShutdown prepares a shutdown(2) of a socket; how is unix.SHUT_*.
func (s *SQE) PrepShutdown(fd int, how int) { s.prepRW(OpShutdown, fd, 0, uint32(how), 0) }

// PrepTimeout prepares a timeout that completes after ts, or after count
// other completions when count > 0. It completes with -ETIME on expiry.
func (s *SQE) PrepTimeout(ts *Timespec, count uint32, flags uint32) {
	s.prepRW(OpTimeout, -1, uint64(uintptr(unsafe.Pointer(ts))), 1, uint64(count))
	s.OpFlags = flags
}

// PrepTimeoutRemove prepares the removal of the timeout with user data ud.
func (s *SQE) PrepTimeoutRemove(ud uint64, flags uint32) {
	s.prepRW(OpTimeoutRemove, -1, ud, 0, 0)
	s.OpFlags = flags
}

// PrepLinkTimeout prepares a timeout for the request linked before it
// (which must carry SQEIOLink): if ts passes first, that request is cancelled.
func (s *SQE) PrepLinkTimeout(ts *Timespec, flags uint32) {
	s.prepRW(OpLinkTimeout, -1, uint64(uintptr(unsafe.Pointer(ts))), 1, 0)
	s.OpFlags = flags
}

// PrepCancel prepares the cancellation of the request with user data ud.
func (s *SQE) PrepCancel(ud uint64, flags uint32) {
	s.prepRW(OpAsyncCancel, -1, ud, 0, 0)
	s.OpFlags = flags
}

// PrepCancelFD prepares the cancellation of requests on fd (5.19).
func (s *SQE) PrepCancelFD(fd int, flags uint32) {
	s.prepRW(OpAsyncCancel, fd, 0, 0, 0)
	s.OpFlags = flags | AsyncCancelFD
}

// PrepPollAdd prepares a one-shot poll for the events in mask (unix.POLLIN, ...).
func (s *SQE) PrepPollAdd(fd int, mask uint32) {
	s.prepRW(OpPollAdd, fd, 0, 0, 0)
	s.OpFlags = mask
}

// PrepPollMultishot prepares a poll that stays armed (5.13).
func (s *SQE) PrepPollMultishot(fd int, mask uint32) {
	s.PrepPollAdd(fd, mask)
	s.Len = PollAddMulti
}

// PrepPollRemove prepares the removal of the poll with user data ud.
func (s *SQE) PrepPollRemove(ud uint64) { s.prepRW(OpPollRemove, -1, ud, 0, 0) }

// PrepProvideBuffers prepares the legacy hand-over of n buffers of size
// bytes each, starting at addr, to group bgid with ids from bid.
func (s *SQE) PrepProvideBuffers(addr []byte, size, n int, bgid, bid uint16) {
	s.prepRW(OpProvideBufs, n, bufAddr(addr), uint32(size), uint64(bid))
	s.BufIndex = bgid
}
