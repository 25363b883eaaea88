package sendfile

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"unsafe"

	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/ops"
	"golang.org/x/sys/unix"
)

// Defaults of the Config fields left zero.
const (
	DefaultPipeSize  = 1 << 20
	DefaultMaxPipes  = 32
	DefaultChunkSize = 64 << 10
)

// Config tunes a Sender. Zero fields take the defaults.
type Config struct {
	// PipeSize is the pipe capacity asked for with F_SETPIPE_SZ (default
	// 1 MiB); the kernel may give less (fs.pipe-max-size), and each splice
	// step moves at most the capacity it gave.
	PipeSize int
	// MaxPipes bounds the pipes of one loop, so the splice chains in
	// flight on it (default 32: 32 pipes of 1 MiB stay within the default
	// fs.pipe-user-pages-soft for two loops); further transfers wait in order.
	MaxPipes int
	// NoSplice forces the read+send fallback.
	NoSplice bool
	// ChunkSize is the buffer of the read+send fallback (default 64 KiB).
	ChunkSize int
	// Direct makes transfers call sendfile(2) on the loop thread with the
	// socket in non-blocking mode (always so on a backend without SPLICE,
	// such as epoll), as nginx does, waiting for POLLOUT through the loop when
	// the socket buffer is full, instead of linked SPLICE operations (which
	// io_uring always runs on io-wq worker threads). A file whose pages
	// are not in the page cache makes the call wait for the disk on the
	// loop. The environment variable
	// URINGNET_SENDFILE=direct or =splice overrides it (for benchmarks).
	Direct bool
	// DirectCached takes the direct path only for a range whose pages are
	// all in the page cache (mmap+mincore+munmap, a few µs, decides), and
	// splices the others, which also brings them into the page cache: the
	// direct path's speed without blocking the loop on the disk.
	// URINGNET_SENDFILE=cached sets it.
	DirectCached bool
}

// envMode applies URINGNET_SENDFILE to cfg.
func envMode(cfg *Config) {
	switch strings.TrimSpace(os.Getenv("URINGNET_SENDFILE")) {
	case "direct":
		cfg.Direct, cfg.DirectCached = true, false
	case "cached":
		cfg.Direct, cfg.DirectCached = false, true
	case "splice":
		cfg.Direct, cfg.DirectCached = false, false
	}
}

// Stats counts a Sender's work.
type Stats struct {
	Transfers, Fallbacks, Failed, PipesOpen, PipesDropped uint64
	// Resident and Cold count the DirectCached transfers that went direct
	// and those that were spliced.
	Resident, Cold uint64
	// Sealed counts the transfers to TLS clients whose records are sealed
	// in Go (no kernel TLS): read into memory, sealed and sent, chunk by
	// chunk. Their fallback is counted in Fallbacks too.
	Sealed uint64
}

// Sender runs file transfers on a server's loops. Create it with New; its
// transfers run on the loops only, and Close releases the pipes once the
// loops have stopped.
type Sender struct {
	cfg   Config
	loops []loopPipes
}

// loopPipes is one loop's pipe pool; only that loop touches it.
type loopPipes struct {
	free     []*pipe
	open     int
	waiting  []*Transfer
	noSplice bool // splice failed with EINVAL here: fall back from now on
	noDirect bool // the socket could not be made non-blocking: splice from now on
	// nonblock[fd] is the client whose socket at fd was made non-blocking
	// (direct mode), so that each connection pays for the fcntl once.
	nonblock  []netserver.ClientNum
	vec       []byte // mincore's scratch
	resident  uint64 // DirectCached transfers that went direct
	cold      uint64 // DirectCached transfers spliced: not all in the page cache
	transfers uint64
	fallbacks uint64
	sealed    uint64
	failed    uint64
	dropped   uint64
}

type pipe struct {
	r, w int
	size int
}

// New returns a Sender for a server with the given number of loops.
func New(loops int, cfg Config) *Sender {
	if cfg.PipeSize <= 0 {
		cfg.PipeSize = DefaultPipeSize
	}
	if cfg.MaxPipes <= 0 {
		cfg.MaxPipes = DefaultMaxPipes
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	envMode(&cfg)
	return &Sender{cfg: cfg, loops: make([]loopPipes, loops)}
}

// Direct reports whether transfers use sendfile(2) on the loop (Config.Direct).
func (s *Sender) Direct() bool { return s.cfg.Direct && !s.cfg.NoSplice }

// MayDirect reports whether some transfers may use sendfile(2) on the loop
// (Config.Direct or Config.DirectCached).
func (s *Sender) MayDirect() bool { return (s.cfg.Direct || s.cfg.DirectCached) && !s.cfg.NoSplice }

// resident reports whether every page of the file range [off, off+n) is in
// the page cache.
func resident(fd int, off, n int64, vec *[]byte) bool {
	if n <= 0 {
		return true
	}
	page := int64(os.Getpagesize())
	start := off &^ (page - 1)
	length := n + off - start
	if length > 1<<30 {
		return false
	}
	m, err := unix.Mmap(fd, start, int(length), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return false
	}
	pages := int((length + page - 1) / page)
	if cap(*vec) < pages {
		*vec = make([]byte, pages)
	}
	v := (*vec)[:pages]
	_, _, e := unix.RawSyscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&v[0])))
	unix.Munmap(m)
	if e != 0 {
		return false
	}
	for _, b := range v {
		if b&1 == 0 {
			return false
		}
	}
	return true
}

// Close closes the pooled pipes. Call it after the loops have stopped.
func (s *Sender) Close() {
	for i := range s.loops {
		lp := &s.loops[i]
		for _, p := range lp.free {
			p.close()
		}
		lp.open -= len(lp.free)
		lp.free = nil
	}
}

// Stats returns the counters, summed over the loops. Call it when the
// loops are stopped, or accept approximate values.
func (s *Sender) Stats() Stats {
	var st Stats
	for i := range s.loops {
		lp := &s.loops[i]
		st.Transfers += lp.transfers
		st.Fallbacks += lp.fallbacks
		st.Sealed += lp.sealed
		st.Failed += lp.failed
		st.PipesOpen += uint64(lp.open)
		st.PipesDropped += lp.dropped
		st.Resident += lp.resident
		st.Cold += lp.cold
	}
	return st
}

func newPipe(size int) (*pipe, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("sendfile: pipe: %w", err)
	}
	p := &pipe{r: fds[0], w: fds[1]}
	unix.FcntlInt(uintptr(p.w), unix.F_SETPIPE_SZ, size) // best effort
	got, err := unix.FcntlInt(uintptr(p.w), unix.F_GETPIPE_SZ, 0)
	if err != nil || got <= 0 {
		got = 64 << 10
	}
	p.size = got
	return p, nil
}

func (p *pipe) close() {
	unix.Close(p.r)
	unix.Close(p.w)
}

// get returns a pipe of the pool, or nil when every pipe is busy.
func (lp *loopPipes) get(cfg *Config) (*pipe, error) {
	if n := len(lp.free); n > 0 {
		p := lp.free[n-1]
		lp.free = lp.free[:n-1]
		return p, nil
	}
	if lp.open >= cfg.MaxPipes {
		return nil, nil
	}
	p, err := newPipe(cfg.PipeSize)
	if err != nil {
		return nil, err
	}
	lp.open++
	return p, nil
}

// put returns a pipe to the pool, or closes it when it may hold bytes,
// and hands a pipe to the first waiting transfer.
func (s *Sender) put(lp *loopPipes, p *pipe, clean bool) {
	if clean {
		lp.free = append(lp.free, p)
	} else {
		p.close()
		lp.open--
		lp.dropped++
	}
	for len(lp.waiting) > 0 {
		p, err := lp.get(&s.cfg)
		if p == nil && err == nil {
			return
		}
		t := lp.waiting[0]
		lp.waiting = lp.waiting[1:]
		if err != nil {
			t.startFallback()
			continue
		}
		t.p = p
		t.step()
	}
}

// Transfer is one file range on its way to a client: a netserver.Op.
type Transfer struct {
	s        *Sender
	lp       *loopPipes
	x        *netserver.OpContext
	f        *os.File
	fd       int
	off, n   int64 // next file offset; bytes not yet read from the file
	inPipe   int   // bytes in the pipe not yet sent
	p        *pipe
	buf      []byte // fallback buffer
	bufOff   int
	bufLen   int
	done     func(failed bool)
	failed   bool
	fallback bool
	toFall   bool // splice said EINVAL: continue with the fallback
	ended    bool
	head     []byte // sent before the file (TransferHead); what is left of it
	direct   bool   // sendfile(2) on the loop (Config.Direct)
	sealed   bool   // the client speaks TLS sealed in Go: read, seal, send
	wire     []byte // sealed: the records of the chunk read
}

// SQE tags of a transfer.
const (
	tagIn   = iota + 1 // splice file -> pipe
	tagOut             // splice pipe -> socket
	tagRead            // fallback read
	tagSend            // fallback send
	tagHead            // the head, before a splice or fallback transfer
	tagPoll            // direct: POLLOUT on the socket
)

// Transfer returns an Op that sends n bytes of f from offset off; queue it
// with netserver.Server.QueueOp. done (may be nil) is called exactly once,
// on the loop, when the transfer ended, with failed set unless every byte
// was sent; a failed transfer closes the client. f stays open: the caller
// closes it in done (f must remain open until then).
func (s *Sender) Transfer(f *os.File, off, n int64, done func(failed bool)) *Transfer {
	return &Transfer{s: s, f: f, fd: int(f.Fd()), off: off, n: n, done: done}
}

// TransferHead is Transfer with head (an HTTP response head, say) sent
// first, as part of the same operation: with Config.Direct the head and the
// start of the file leave in the same TCP segment (MSG_MORE). head is
// copied.
func (s *Sender) TransferHead(head []byte, f *os.File, off, n int64, done func(failed bool)) *Transfer {
	t := s.Transfer(f, off, n, done)
	t.head = append([]byte(nil), head...)
	return t
}

// TransferFD is TransferHead for a bare file descriptor, which the caller
// owns and closes in done (it must stay open until then): no os.File, so
// none of the system calls that making one costs.
func (s *Sender) TransferFD(head []byte, fd int, off, n int64, done func(failed bool)) *Transfer {
	t := &Transfer{s: s, fd: fd, off: off, n: n, done: done}
	if len(head) > 0 {
		t.head = append([]byte(nil), head...)
	}
	return t
}

// setNonblock puts the client's socket in non-blocking mode, once per
// connection: one fcntl(F_SETFL), which is all a socket's flags hold.
func (lp *loopPipes) setNonblock(x *netserver.OpContext) error {
	fd := x.Fd()
	if fd < len(lp.nonblock) && lp.nonblock[fd] == x.Client() {
		return nil
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, unix.O_RDWR|unix.O_NONBLOCK); err != nil {
		return err
	}
	if fd >= len(lp.nonblock) {
		lp.nonblock = append(lp.nonblock, make([]netserver.ClientNum, fd+1-len(lp.nonblock))...)
	}
	lp.nonblock[fd] = x.Client()
	return nil
}

// Start implements netserver.Op.
func (t *Transfer) Start(x *netserver.OpContext) {
	t.x = x
	t.lp = &t.s.loops[x.Loop()]
	t.lp.transfers++
	if x.Sealed() {
		// TLS records sealed in Go: the bytes must pass through the
		// process, so the file is read and each chunk sealed, in order.
		t.sealed = true
		t.lp.sealed++
		if len(t.head) > 0 {
			t.head = x.Seal(nil, t.head)
			t.sendHead()
			return
		}
		t.begin()
		return
	}
	// Without SPLICE in the loop's backend (epoll), sendfile(2) on the
	// loop is the way, as nginx does it.
	direct := t.s.Direct() || (!x.Supports(ops.Splice) && !t.s.cfg.NoSplice)
	if !direct && t.s.MayDirect() {
		if direct = resident(t.fd, t.off, t.n, &t.lp.vec); direct {
			t.lp.resident++
		} else {
			t.lp.cold++
		}
	}
	if direct && !t.lp.noDirect {
		if err := t.lp.setNonblock(x); err == nil {
			t.direct = true
			t.directStep()
			return
		}
		t.lp.noDirect = true
	}
	if len(t.head) > 0 {
		t.sendHead()
		return
	}
	t.begin()
}

// sendHead sends (the rest of) the head through the ring.
func (t *Transfer) sendHead() {
	x := t.x
	o := x.NewOp(tagHead)
	if o == nil {
		t.end(true)
		return
	}
	o.PrepSend(x.Fd(), t.head, unix.MSG_NOSIGNAL)
	x.Submit()
}

// begin starts the file part of a splice or fallback transfer.
func (t *Transfer) begin() {
	if t.n <= 0 {
		t.end(false)
		return
	}
	if t.s.cfg.NoSplice || t.lp.noSplice || t.sealed {
		t.startFallback()
		return
	}
	if len(t.lp.waiting) > 0 {
		t.lp.waiting = append(t.lp.waiting, t)
		return
	}
	p, err := t.lp.get(&t.s.cfg)
	if err != nil {
		t.startFallback()
		return
	}
	if p == nil {
		t.lp.waiting = append(t.lp.waiting, t)
		return
	}
	t.p = p
	t.step()
}

// Cancel implements netserver.Op: the client closed before the transfer
// started.
func (t *Transfer) Cancel(netserver.ClientNum) {
	t.ended = true
	if t.done != nil {
		t.done(true)
	}
}

// step submits the next splice step.
func (t *Transfer) step() {
	x := t.x
	switch {
	case x.Closing():
		t.end(true)
		return
	case t.inPipe > 0:
		o := x.NewOp(tagOut)
		if o == nil {
			t.end(true)
			return
		}
		o.PrepSplice(t.p.r, -1, x.Fd(), -1, uint32(t.inPipe), 0)
	case t.n == 0:
		t.end(false)
		return
	default:
		chunk := uint32(min(t.n, int64(t.p.size)))
		if !x.Reserve(2) {
			t.end(true)
			return
		}
		o := x.NewOp(tagIn)
		o.PrepSplice(t.fd, t.off, t.p.w, -1, chunk, 0)
		o.Link = true
		o = x.NewOp(tagOut)
		o.PrepSplice(t.p.r, -1, x.Fd(), -1, chunk, 0)
	}
	x.Submit()
}

// Complete implements netserver.Op.
func (t *Transfer) Complete(x *netserver.OpContext, tag uint64, res int32) {
	switch tag {
	case tagIn:
		switch {
		case res > 0:
			t.off += int64(res)
			t.n -= int64(res)
			t.inPipe += int(res)
		case res == -int32(unix.EINVAL) && t.inPipe == 0 && !t.failed:
			t.toFall = true
		default:
			t.failed = true // an error, or the file shrank (0: EOF)
		}
	case tagOut:
		switch {
		case res > 0:
			t.inPipe -= int(res)
			x.AddBytesOut(int(res))
		case res == -int32(unix.ECANCELED):
			// the step before it was short or failed: decided there
		default:
			t.failed = true
		}
	case tagRead:
		if res <= 0 {
			t.failed = true
		} else {
			t.off += int64(res)
			t.n -= int64(res)
			t.bufOff, t.bufLen = 0, int(res)
			if t.sealed {
				t.wire = x.Seal(t.wire[:0], t.buf[:res])
				t.bufLen = len(t.wire)
			}
		}
	case tagSend:
		if res <= 0 {
			t.failed = true
		} else {
			t.bufOff += int(res)
			x.AddBytesOut(int(res))
		}
	case tagHead:
		if res <= 0 {
			t.failed = true
		} else {
			t.head = t.head[res:]
			x.AddBytesOut(int(res))
		}
	case tagPoll:
		if res < 0 {
			t.failed = true
		}
	}
	if x.Closing() {
		t.failed = true
		if x.InFlight() > 0 {
			x.Cancel()
		}
	}
	if x.InFlight() > 0 {
		return
	}
	switch {
	case t.failed:
		t.end(true)
	case t.direct:
		t.directStep()
	case len(t.head) > 0:
		t.sendHead()
	case tagHead == tag:
		t.head = nil
		t.begin()
	case t.toFall:
		t.toFall = false
		t.lp.noSplice = true
		p := t.p
		t.p = nil
		t.s.put(t.lp, p, true)
		t.startFallback()
	case t.fallback:
		t.fallbackStep()
	default:
		t.step()
	}
}

func (t *Transfer) startFallback() {
	t.fallback = true
	t.lp.fallbacks++
	t.buf = make([]byte, t.s.cfg.ChunkSize)
	t.bufOff, t.bufLen = 0, 0
	t.fallbackStep()
}

// fallbackStep reads the next chunk or sends the rest of the buffer.
func (t *Transfer) fallbackStep() {
	x := t.x
	if x.Closing() {
		t.end(true)
		return
	}
	if t.bufOff < t.bufLen {
		o := x.NewOp(tagSend)
		if o == nil {
			t.end(true)
			return
		}
		src := t.buf
		if t.sealed {
			src = t.wire
		}
		o.PrepSend(x.Fd(), src[t.bufOff:t.bufLen], unix.MSG_NOSIGNAL)
	} else if t.n == 0 {
		t.end(false)
		return
	} else {
		o := x.NewOp(tagRead)
		if o == nil {
			t.end(true)
			return
		}
		o.PrepRead(t.fd, t.buf[:min(int64(len(t.buf)), t.n)], uint64(t.off))
	}
	x.Submit()
}

// end finishes the transfer once.
func (t *Transfer) end(failed bool) {
	if t.ended {
		return
	}
	t.ended = true
	if failed {
		t.lp.failed++
	}
	if p := t.p; p != nil {
		t.p = nil
		t.s.put(t.lp, p, t.inPipe == 0)
	}
	t.buf, t.wire = nil, nil
	if t.done != nil {
		t.done(failed)
	}
	t.x.Finish(failed)
}

// directStep sends what the socket takes now, the head with send(2) and
// the file with sendfile(2), both non-blocking on the loop thread, and
// waits for POLLOUT through the ring when the socket buffer is full.
func (t *Transfer) directStep() {
	x := t.x
	if x.Closing() {
		t.end(true)
		return
	}
	fd := x.Fd()
	for len(t.head) > 0 {
		flags := uintptr(unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL)
		if t.n > 0 {
			flags |= unix.MSG_MORE
		}
		r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&t.head[0])), uintptr(len(t.head)), flags, 0, 0)
		switch {
		case e == 0:
			t.head = t.head[r:]
			x.AddBytesOut(int(r))
		case e == unix.EINTR:
		case e == unix.EAGAIN:
			t.pollOut()
			return
		default:
			t.end(true)
			return
		}
	}
	for t.n > 0 {
		want := int(min(t.n, maxSendfile))
		off := t.off
		k, err := sendfileNow(fd, t.fd, &off, want)
		switch {
		case k > 0:
			t.off += int64(k)
			t.n -= int64(k)
			x.AddBytesOut(k)
			if k < want {
				t.pollOut() // short: the socket buffer is full
				return
			}
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			t.pollOut()
			return
		default: // an error, or 0: the file shrank
			t.end(true)
			return
		}
	}
	t.end(false)
}

// sendfileNow is sendfile(2) without the scheduler's system call
// bookkeeping (RawSyscall): the socket is non-blocking, so the call only
// copies page-cache pages into the socket (or waits for the disk, which
// the loop's thread would wait for anyway); through Syscall, a copy longer
// than sysmon's 20 µs makes the runtime hand the loop's P to another
// thread and take it back afterwards, a futex round trip per call.
func sendfileNow(out, in int, off *int64, n int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDFILE, uintptr(out), uintptr(in), uintptr(unsafe.Pointer(off)), uintptr(n), 0, 0)
	if e != 0 {
		return int(r), e
	}
	return int(r), nil
}

// maxSendfile bounds one sendfile(2) call.
const maxSendfile = 1 << 30

// pollOut waits for the socket to take more.
func (t *Transfer) pollOut() {
	x := t.x
	o := x.NewOp(tagPoll)
	if o == nil {
		t.end(true)
		return
	}
	o.PrepPollAdd(x.Fd(), unix.POLLOUT)
	x.Submit()
}
