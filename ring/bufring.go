package ring

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bufEntry is struct io_uring_buf. The ring's 16-bit tail overlays the Resv
// field of entry 0, so Resv is never written through an entry.
type bufEntry struct {
	Addr uint64
	Len  uint32
	Bid  uint16
	Resv uint16
}

// BufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): a
// group of equal-sized buffers, in mmap memory outside the Go heap, that the
// kernel picks from for recvs with SQEBufferSelect. A buffer the kernel
// filled belongs to the caller until it is recycled.
type BufRing struct {
	ring    *Ring
	bgid    uint16
	mask    uint16
	entries uint32
	size    int
	tail    uint16 // local tail; published by Publish
	ringMem []byte
	bufs    []bufEntry
	data    []byte
}

// RegisterBufRing maps entries buffers of size bytes each (entries a power of
// two, at most 32768), registers them as group bgid and provides them all.
func (r *Ring) RegisterBufRing(bgid uint16, entries uint32, size int) (*BufRing, error) {
	if entries == 0 || entries > 32768 || entries&(entries-1) != 0 {
		return nil, fmt.Errorf("ring: buffer ring entries %d: want a power of two <= 32768", entries)
	}
	if size <= 0 {
		return nil, fmt.Errorf("ring: buffer size %d: want > 0", size)
	}
	ringBytes := int(entries) * int(unsafe.Sizeof(bufEntry{}))
	ringMem, err := unix.Mmap(-1, 0, ringBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("ring: mmap buffer ring: %w", err)
	}
	data, err := unix.Mmap(-1, 0, int(entries)*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANONYMOUS|unix.MAP_PRIVATE)
	if err != nil {
		unix.Munmap(ringMem)
		return nil, fmt.Errorf("ring: mmap buffers: %w", err)
	}
	reg := &bufReg{RingAddr: uint64(uintptr(unsafe.Pointer(&ringMem[0]))), RingEntries: entries, Bgid: bgid}
	if _, err := sysRegister(r.fd, registerPbufRing, unsafe.Pointer(reg), 1); err != nil {
		unix.Munmap(data)
		unix.Munmap(ringMem)
		return nil, fmt.Errorf("ring: register buffer ring %d: %w", bgid, err)
	}
	b := &BufRing{
		ring: r, bgid: bgid, mask: uint16(entries - 1), entries: entries, size: size,
		ringMem: ringMem, data: data,
		bufs: unsafe.Slice((*bufEntry)(unsafe.Pointer(&ringMem[0])), entries),
	}
	for i := uint32(0); i < entries; i++ {
		b.Add(uint16(i))
	}
	b.Publish()
	return b, nil
}

// Group returns the buffer group id.
func (b *BufRing) Group() uint16 { return b.bgid }

// Entries returns the number of buffers.
func (b *BufRing) Entries() uint32 { return b.entries }

// Size returns the size of each buffer.
func (b *BufRing) Size() int { return b.size }

// Buffer returns the first n bytes of buffer bid.
func (b *BufRing) Buffer(bid uint16, n int) []byte {
	off := int(bid) * b.size
	return b.data[off : off+n : off+b.size]
}

// Add hands buffer bid back to the ring at the local tail. It becomes
// visible to the kernel at the next Publish.
func (b *BufRing) Add(bid uint16) {
	e := &b.bufs[b.tail&b.mask]
	e.Addr = uint64(uintptr(unsafe.Pointer(&b.data[int(bid)*b.size])))
	e.Len = uint32(b.size)
	e.Bid = bid
	b.tail++
}

// Publish makes every buffer added so far visible to the kernel. Go has no
// 16-bit atomic store, so the aligned 32-bit word holding entry 0's bid
// (low half) and the tail (high half) is stored at once; only user space
// writes entry 0's bid, so rewriting it with its current value is safe.
func (b *BufRing) Publish() {
	word := (*uint32)(unsafe.Pointer(&b.ringMem[12]))
	atomic.StoreUint32(word, uint32(b.bufs[0].Bid)|uint32(b.tail)<<16)
}

// Close unregisters the group and unmaps its memory. No request may still
// use the group.
func (b *BufRing) Close() error {
	if b.data == nil {
		return nil
	}
	reg := &bufReg{Bgid: b.bgid}
	var err error
	if b.ring.fd >= 0 {
		if _, e := sysRegister(b.ring.fd, unregisterPbufRing, unsafe.Pointer(reg), 1); e != nil {
			err = fmt.Errorf("ring: unregister buffer ring %d: %w", b.bgid, e)
		}
	}
	unix.Munmap(b.data)
	unix.Munmap(b.ringMem)
	b.data, b.ringMem, b.bufs = nil, nil, nil
	return err
}
