package epoll

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The operations on sockets are non-blocking, so they skip the scheduler's
// system call bookkeeping (RawSyscall); reads and writes of other fds may
// be regular files, which can wait for the disk, so they do not.

// ptrAt turns an address taken from an SQE back into a pointer. The memory
// is kept alive by the submitter until the final completion, as the kernel
// requires of io_uring; this is the same contract.
func ptrAt(addr uint64) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func addrOfIov(v *unix.Iovec) uintptr { return uintptr(unsafe.Pointer(v)) }

func msghdrAt(addr uint64) *unix.Msghdr { return (*unix.Msghdr)(ptrAt(addr)) }

// iovecs returns the n iovecs at addr.
func iovecs(addr uint64, n int) []unix.Iovec {
	if n <= 0 || addr == 0 {
		return nil
	}
	return unsafe.Slice((*unix.Iovec)(ptrAt(addr)), n)
}

// iovTotal returns the bytes the n iovecs at addr describe.
func iovTotal(addr uint64, n int) int64 {
	var t int64
	for _, v := range iovecs(addr, n) {
		t += int64(v.Len)
	}
	return t
}

func accept4(fd, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, uintptr(flags), 0, 0)
	return int(r), e
}

func recv(fd int, addr uintptr, n, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), addr, uintptr(n), uintptr(flags|unix.MSG_DONTWAIT), 0, 0)
	return int(r), e
}

func send(fd int, addr uintptr, n, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), addr, uintptr(n), uintptr(flags|unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL), 0, 0)
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
