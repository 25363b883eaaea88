package epoll

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Buffers is a group of provided buffers in mmap memory (outside the Go
// heap; pages are touched only when used): recvs with buffer selection take
// the most recently given back first, so few pages stay warm.
type Buffers struct {
	group uint16
	size  int
	mem   []byte
	free  []uint16
}

// RegisterBuffers sets up entries buffers of size bytes as group bgid.
func (p *Poller) RegisterBuffers(bgid uint16, entries uint32, size int) (*Buffers, error) {
	if entries == 0 || entries > 1<<15 || size <= 0 {
		return nil, fmt.Errorf("epoll: %d buffers of %d bytes: bad size", entries, size)
	}
	for _, b := range p.bufs {
		if b.group == bgid {
			return nil, fmt.Errorf("epoll: buffer group %d: %w", bgid, unix.EEXIST)
		}
	}
	mem, err := unix.Mmap(-1, 0, int(entries)*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("epoll: buffers: mmap: %w", err)
	}
	b := &Buffers{group: bgid, size: size, mem: mem, free: make([]uint16, entries)}
	for i := range b.free {
		b.free[i] = uint16(int(entries) - 1 - i)
	}
	p.bufs = append(p.bufs, b)
	return b, nil
}

// Group returns the group id.
func (b *Buffers) Group() uint16 { return b.group }

// Buffer returns the first n bytes of buffer bid.
func (b *Buffers) Buffer(bid uint16, n int) []byte {
	off := int(bid) * b.size
	return b.mem[off : off+n : off+b.size]
}

// Add gives buffer bid back.
func (b *Buffers) Add(bid uint16) { b.free = append(b.free, bid) }

// Publish does nothing: Add makes a buffer available at once.
func (b *Buffers) Publish() {}

// Close unmaps the buffers.
func (b *Buffers) Close() error {
	if b.mem == nil {
		return nil
	}
	err := unix.Munmap(b.mem)
	b.mem, b.free = nil, nil
	return err
}

// take returns a free buffer.
func (b *Buffers) take() (uint16, []byte, bool) {
	n := len(b.free)
	if n == 0 || b.mem == nil {
		return 0, nil, false
	}
	bid := b.free[n-1]
	b.free = b.free[:n-1]
	off := int(bid) * b.size
	return bid, b.mem[off : off+b.size : off+b.size], true
}

// group returns the buffer group bgid, or nil.
func (p *Poller) group(bgid uint16) *Buffers {
	for _, b := range p.bufs {
		if b.group == bgid {
			return b
		}
	}
	return nil
}
