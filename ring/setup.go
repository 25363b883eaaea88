package ring

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Options configures New.
type Options struct {
	// Flags are the setup flags wanted (SetupSingleIssuer, ...).
	Flags uint32
	// CQEntries sizes the completion queue; zero keeps the kernel's default
	// of twice the submission queue.
	CQEntries uint32
	// Fallback drops flags the kernel rejects with EINVAL, newest first,
	// instead of failing. Ring.Flags tells what was kept.
	Fallback bool
	// NoExtArg makes SubmitAndWaitTimeout bound its waits with a TIMEOUT
	// request, as on kernels before 5.11, even when the kernel has
	// FeatExtArg (to test that path). Ring.ExtArg tells which is used.
	NoExtArg bool
}

// fallbackOrder is the order in which New drops flags an older kernel does
// not know: newest feature first.
var fallbackOrder = [...]uint32{
	SetupNoSQArray, SetupDeferTaskrun, SetupSingleIssuer, SetupTaskrunFlag,
	SetupCoopTaskrun, SetupSubmitAll,
}

// Ring is one io_uring instance: its fd, its mapped queues and its features.
type Ring struct {
	fd       int
	flags    uint32
	features uint32
	sq       submissionQueue
	cq       completionQueue

	ringMem []byte // SQ ring (and CQ ring with FeatSingleMmap)
	cqMem   []byte // CQ ring when mapped separately
	sqeMem  []byte

	// Arguments of a timed wait live here, not on a stack.
	waitArg getEventsArg
	waitTs  Timespec
	extArg  bool // timed waits pass their timeout in io_uring_enter (5.11)
}

type submissionQueue struct {
	head, tail, flags, dropped *uint32
	mask, entries              uint32
	sqes                       []SQE
	sqeTail                    uint32 // next SQE to hand out (local)
}

type completionQueue struct {
	head, tail, overflow *uint32
	mask, entries        uint32
	cqes                 []CQE
}

// New sets up a ring with the given number of submission entries (rounded up
// by the kernel to a power of two) and options. When io_uring cannot be used
// at all, the error is an *UnavailableError naming the cause and the fix.
func New(entries uint32, o Options) (*Ring, error) {
	flags := o.Flags
	if o.CQEntries != 0 {
		flags |= SetupCQSize
	}
	for {
		r, err := setup(entries, flags, o.CQEntries)
		if err == nil {
			r.extArg = r.features&FeatExtArg != 0 && !o.NoExtArg
			return r, nil
		}
		if !o.Fallback || !errors.Is(err, unix.EINVAL) {
			return nil, err
		}
		dropped := false
		for _, f := range fallbackOrder {
			if flags&f != 0 {
				flags &^= f
				if f == SetupSingleIssuer {
					flags &^= SetupDeferTaskrun
				}
				dropped = true
				break
			}
		}
		if !dropped {
			return nil, err
		}
	}
}

func setup(entries, flags, cqEntries uint32) (*Ring, error) {
	p := &params{Flags: flags, CQEntries: cqEntries}
	fd, err := sysSetup(entries, p)
	if err != nil {
		return nil, classifySetupError(err, flags)
	}
	r := &Ring{fd: fd, flags: flags, features: p.Features}
	if err := r.mmap(p); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return r, nil
}

func (r *Ring) mmap(p *params) error {
	sqSize := uintptr(p.SQOff.Array) + uintptr(p.SQEntries)*4
	cqSize := uintptr(p.CQOff.Cqes) + uintptr(p.CQEntries)*unsafe.Sizeof(CQE{})
	single := p.Features&FeatSingleMmap != 0
	if single && cqSize > sqSize {
		sqSize = cqSize
	}
	var err error
	r.ringMem, err = unix.Mmap(r.fd, offSQRing, int(sqSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("ring: mmap sq ring: %w", err)
	}
	cqMem := r.ringMem
	if !single {
		r.cqMem, err = unix.Mmap(r.fd, offCQRing, int(cqSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			r.unmap()
			return fmt.Errorf("ring: mmap cq ring: %w", err)
		}
		cqMem = r.cqMem
	}
	sqeSize := int(p.SQEntries) * int(unsafe.Sizeof(SQE{}))
	r.sqeMem, err = unix.Mmap(r.fd, offSQEs, sqeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.unmap()
		return fmt.Errorf("ring: mmap sqes: %w", err)
	}

	sq := &r.sq
	sq.head = u32At(r.ringMem, p.SQOff.Head)
	sq.tail = u32At(r.ringMem, p.SQOff.Tail)
	sq.flags = u32At(r.ringMem, p.SQOff.Flags)
	sq.dropped = u32At(r.ringMem, p.SQOff.Dropped)
	sq.mask = *u32At(r.ringMem, p.SQOff.RingMask)
	sq.entries = *u32At(r.ringMem, p.SQOff.RingEntries)
	sq.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMem[0])), sq.entries)
	sq.sqeTail = *sq.tail
	if r.flags&SetupNoSQArray == 0 {
		array := unsafe.Slice(u32At(r.ringMem, p.SQOff.Array), sq.entries)
		for i := range array {
			array[i] = uint32(i)
		}
	}

	cq := &r.cq
	cq.head = u32At(cqMem, p.CQOff.Head)
	cq.tail = u32At(cqMem, p.CQOff.Tail)
	cq.overflow = u32At(cqMem, p.CQOff.Overflow)
	cq.mask = *u32At(cqMem, p.CQOff.RingMask)
	cq.entries = *u32At(cqMem, p.CQOff.RingEntries)
	cq.cqes = unsafe.Slice((*CQE)(unsafe.Pointer(&cqMem[p.CQOff.Cqes])), cq.entries)
	return nil
}

func u32At(mem []byte, off uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&mem[off]))
}

func (r *Ring) unmap() {
	for _, m := range [][]byte{r.sqeMem, r.cqMem, r.ringMem} {
		if m != nil {
			unix.Munmap(m)
		}
	}
	r.sqeMem, r.cqMem, r.ringMem = nil, nil, nil
}

// Close unmaps the queues and closes the ring fd. The kernel cancels
// requests still in flight; buffers they referenced must stay alive until
// Close returns.
func (r *Ring) Close() error {
	if r.fd < 0 {
		return nil
	}
	r.unmap()
	err := unix.Close(r.fd)
	r.fd = -1
	if err != nil {
		return fmt.Errorf("ring: close: %w", err)
	}
	return nil
}

// Fd returns the ring's file descriptor.
func (r *Ring) Fd() int { return r.fd }

// Flags returns the setup flags the ring was created with.
func (r *Ring) Flags() uint32 { return r.flags }

// Features returns the kernel's feature bits (io_uring_params.features).
func (r *Ring) Features() uint32 { return r.features }

// ExtArg reports whether timed waits pass their timeout to io_uring_enter
// (FeatExtArg, 5.11) rather than queue a TIMEOUT request whose completion
// carries ReservedUserData.
func (r *Ring) ExtArg() bool { return r.extArg }

// SQEntries returns the number of submission queue entries.
func (r *Ring) SQEntries() uint32 { return r.sq.entries }

// CQEntries returns the number of completion queue entries.
func (r *Ring) CQEntries() uint32 { return r.cq.entries }
