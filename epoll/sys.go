package epoll

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The operations on sockets are non-blocking, so they skip the scheduler's
// system call bookkeeping (RawSyscall); reads and writes of other fds may
// be regular files, which can wait for the disk, so they do not.

func bufPtr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func iovPtr(v []unix.Iovec) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(v))) }

// msgIovs returns the iovecs m points at.
func msgIovs(m *unix.Msghdr) []unix.Iovec {
	if m == nil || m.Iov == nil || m.Iovlen == 0 {
		return nil
	}
	return unsafe.Slice(m.Iov, m.Iovlen)
}

// iovTotal returns the bytes iovs describe.
func iovTotal(iovs []unix.Iovec) int64 {
	var t int64
	for _, v := range iovs {
		t += int64(v.Len)
	}
	return t
}

func accept4(fd, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, uintptr(flags), 0, 0)
	return int(r), e
}

func recv(fd int, b []byte, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), bufPtr(b), uintptr(len(b)), uintptr(flags|unix.MSG_DONTWAIT), 0, 0)
	return int(r), e
}

func send(fd int, b []byte, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), bufPtr(b), uintptr(len(b)), uintptr(flags|unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL), 0, 0)
	return int(r), e
}

func sendmsg(fd int, msg *unix.Msghdr, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags|unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL))
	return int(r), e
}

// rw is read/write (readv/writev) at the current position when off is
// ^0, else pread/pwrite (preadv/pwritev) at off.
func rw(plain, positioned uintptr, fd int, addr uintptr, n int, off uint64) (int, unix.Errno) {
	var r uintptr
	var e unix.Errno
	if off == ^uint64(0) {
		r, _, e = unix.Syscall(plain, uintptr(fd), addr, uintptr(n))
	} else {
		r, _, e = unix.Syscall6(positioned, uintptr(fd), addr, uintptr(n), uintptr(off), uintptr(off>>32), 0)
	}
	return int(r), e
}

// epollWaitNow is epoll_wait with a zero timeout.
func epollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
