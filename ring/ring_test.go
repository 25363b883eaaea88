package ring

import (
	"bytes"
	"errors"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func newRing(t *testing.T, entries uint32, o Options) *Ring {
	t.Helper()
	r, err := New(entries, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitOne submits and returns the next CQE's copy.
func waitOne(t *testing.T, r *Ring) CQE {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c := r.PeekCQE(); c != nil {
			v := *c
			r.CQAdvance(1)
			return v
		}
		if _, err := r.SubmitAndWaitTimeout(1, 100*time.Millisecond); err != nil {
			t.Fatalf("SubmitAndWait: %v", err)
		}
	}
	t.Fatal("no CQE within 10s")
	return CQE{}
}

func TestNop(t *testing.T) {
	for _, flags := range []uint32{0, SetupCoopTaskrun, SetupSingleIssuer | SetupDeferTaskrun} {
		func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := newRing(t, 8, Options{Flags: flags, Fallback: true})
			for i := uint64(1); i <= 20; i++ {
				sqe := r.GetSQE()
				sqe.PrepNop()
				sqe.UserData = i
				c := waitOne(t, r)
				if c.UserData != i || c.Res != 0 {
					t.Fatalf("flags %#x: got %+v, want user_data %d res 0", flags, c, i)
				}
			}
			if r.CQReady() != 0 {
				t.Fatalf("CQReady = %d after draining", r.CQReady())
			}
		}()
	}
}

func TestGetSQEFull(t *testing.T) {
	r := newRing(t, 4, Options{})
	for i := 0; i < int(r.SQEntries()); i++ {
		if r.GetSQE() == nil {
			t.Fatalf("GetSQE %d returned nil", i)
		}
	}
	if r.GetSQE() != nil || r.SQSpace() != 0 {
		t.Fatal("GetSQE on a full queue did not return nil")
	}
	if n, err := r.Submit(); err != nil || n != int(r.SQEntries()) {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if r.GetSQE() == nil {
		t.Fatal("GetSQE after submit returned nil")
	}
}

func TestPipeReadWrite(t *testing.T) {
	r := newRing(t, 8, Options{})
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	msg := []byte("hello, ring")
	sqe := r.GetSQE()
	sqe.PrepWrite(p[1], msg, ^uint64(0))
	sqe.UserData = 1
	if c := waitOne(t, r); c.Res != int32(len(msg)) {
		t.Fatalf("write res %d", c.Res)
	}
	buf := make([]byte, 64)
	sqe = r.GetSQE()
	sqe.PrepRead(p[0], buf, ^uint64(0))
	sqe.UserData = 2
	c := waitOne(t, r)
	if c.UserData != 2 || !bytes.Equal(buf[:c.Res], msg) {
		t.Fatalf("read %+v %q", c, buf[:max(c.Res, 0)])
	}

	// Vectored write and read.
	a, b := []byte("vec"), []byte("tored")
	iovs := []unix.Iovec{{Base: &a[0]}, {Base: &b[0]}}
	iovs[0].SetLen(len(a))
	iovs[1].SetLen(len(b))
	sqe = r.GetSQE()
	sqe.PrepWritev(p[1], iovs, ^uint64(0))
	if c := waitOne(t, r); c.Res != 8 {
		t.Fatalf("writev res %d", c.Res)
	}
	x, y := make([]byte, 3), make([]byte, 10)
	riovs := []unix.Iovec{{Base: &x[0]}, {Base: &y[0]}}
	riovs[0].SetLen(len(x))
	riovs[1].SetLen(len(y))
	sqe = r.GetSQE()
	sqe.PrepReadv(p[0], riovs, ^uint64(0))
	if c := waitOne(t, r); c.Res != 8 || string(x)+string(y[:5]) != "vectored" {
		t.Fatalf("readv res %d %q %q", c.Res, x, y)
	}
	runtime.KeepAlive(iovs)
	runtime.KeepAlive(riovs)
}

func listen(t *testing.T) (int, string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	t.Cleanup(func() { unix.Close(fd) })
	return fd, (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*unix.SockaddrInet4).Port}).String()
}

func TestAcceptRecvSend(t *testing.T) {
	r := newRing(t, 16, Options{})
	lfd, addr := listen(t)
	sqe := r.GetSQE()
	sqe.PrepAccept(lfd, unix.SOCK_CLOEXEC)
	sqe.UserData = 1
	r.Submit()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := waitOne(t, r)
	if c.UserData != 1 || c.Res < 0 {
		t.Fatalf("accept %+v", c)
	}
	cfd := int(c.Res)
	defer unix.Close(cfd)

	conn.Write([]byte("ping"))
	buf := make([]byte, 16)
	sqe = r.GetSQE()
	sqe.PrepRecv(cfd, buf, 0)
	sqe.UserData = 2
	if c := waitOne(t, r); c.Res != 4 || string(buf[:4]) != "ping" {
		t.Fatalf("recv %+v %q", c, buf)
	}
	out := []byte("pong")
	sqe = r.GetSQE()
	sqe.PrepSend(cfd, out, unix.MSG_NOSIGNAL)
	if c := waitOne(t, r); c.Res != 4 {
		t.Fatalf("send %+v", c)
	}
	got := make([]byte, 4)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(got); err != nil || string(got) != "pong" {
		t.Fatalf("client read %q %v", got, err)
	}

	// A send to a reset peer fails with EPIPE/ECONNRESET, never SIGPIPE.
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
	time.Sleep(20 * time.Millisecond)
	var res int32
	for i := 0; i < 3 && res >= 0; i++ {
		sqe = r.GetSQE()
		sqe.PrepSend(cfd, out, unix.MSG_NOSIGNAL)
		res = waitOne(t, r).Res
	}
	if res >= 0 {
		t.Fatalf("send to reset peer succeeded: %d", res)
	}

	// Shutdown and close through the ring.
	sqe = r.GetSQE()
	sqe.PrepShutdown(cfd, unix.SHUT_RDWR)
	waitOne(t, r)
}

func TestMultishotAcceptRecvBufRing(t *testing.T) {
	r := newRing(t, 64, Options{})
	p, err := r.Probe()
	if err != nil {
		t.Fatal(err)
	}
	if !p.MultishotAccept() || !p.MultishotRecv() {
		t.Skip("kernel lacks multishot accept/recv")
	}
	br, err := r.RegisterBufRing(7, 4, 8) // tiny: forces ENOBUFS and partial reads
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if br.Group() != 7 || br.Entries() != 4 || br.Size() != 8 {
		t.Fatal("buf ring accessors")
	}
	lfd, addr := listen(t)
	sqe := r.GetSQE()
	sqe.PrepMultishotAccept(lfd, unix.SOCK_CLOEXEC)
	sqe.UserData = 100
	r.Submit()
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	var fds []int
	for len(fds) < 3 {
		c := waitOne(t, r)
		if c.UserData != 100 || c.Res < 0 || !c.More() {
			t.Fatalf("multishot accept CQE %+v", c)
		}
		fds = append(fds, int(c.Res))
	}
	for _, fd := range fds {
		defer unix.Close(fd)
	}
	// Multishot recv on the first connection, buffers recycled as consumed.
	want := bytes.Repeat([]byte("0123456789"), 20)
	conns[0].Write(want)
	arm := func() {
		sqe := r.GetSQE()
		sqe.PrepRecvMultishot(fds[0], 7, 0)
		sqe.UserData = 200
	}
	arm()
	var got []byte
	enobufs := 0
	for len(got) < len(want) {
		c := waitOne(t, r)
		switch {
		case c.Res == -int32(unix.ENOBUFS):
			enobufs++
			arm()
			continue
		case c.Res <= 0:
			t.Fatalf("recv CQE %+v", c)
		}
		bid, ok := c.BufferID()
		if !ok {
			t.Fatalf("recv CQE without buffer: %+v", c)
		}
		got = append(got, br.Buffer(bid, int(c.Res))...)
		br.Add(bid)
		br.Publish()
		if !c.More() {
			arm()
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("multishot recv got %q", got)
	}
	t.Logf("ENOBUFS re-arms: %d", enobufs)
}

func TestProbe(t *testing.T) {
	r := newRing(t, 4, Options{})
	p, err := r.Probe()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []uint8{OpNop, OpReadv, OpAccept, OpRecv, OpSend, OpSplice, OpClose} {
		if !p.Supported(op) {
			t.Errorf("opcode %d not supported", op)
		}
	}
	if p.LastOp() < OpSplice || p.Supported(255) {
		t.Errorf("LastOp %d", p.LastOp())
	}
	if r.Features()&FeatNoDrop == 0 || r.Features()&FeatSingleMmap == 0 {
		t.Errorf("features %#x lack NODROP or SINGLE_MMAP", r.Features())
	}
}

func TestCQOverflow(t *testing.T) {
	r := newRing(t, 8, Options{CQEntries: 8})
	if r.CQEntries() != 8 {
		t.Fatalf("CQEntries = %d", r.CQEntries())
	}
	// Submit 3x the CQ size without reaping: with FEAT_NODROP nothing is lost.
	const total = 24
	for i := 0; i < total; i++ {
		sqe := r.GetSQE()
		if sqe == nil {
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			sqe = r.GetSQE()
		}
		sqe.PrepNop()
		sqe.UserData = uint64(i + 1)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	if !r.CQOverflowPending() {
		t.Fatal("expected the overflow flag with 24 completions in an 8-entry CQ")
	}
	seen := map[uint64]bool{}
	cqes := make([]*CQE, 4)
	for len(seen) < total {
		n := r.PeekBatchCQE(cqes)
		for _, c := range cqes[:n] {
			seen[c.UserData] = true
		}
		r.CQAdvance(uint32(n))
		if n == 0 {
			if _, err := r.SubmitAndWaitTimeout(1, time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r.CQOverflow() != 0 || r.SQDropped() != 0 {
		t.Fatalf("dropped: cq %d sq %d", r.CQOverflow(), r.SQDropped())
	}
}

// drainReserved reaps every ready CQE and returns the results of those
// carrying ReservedUserData; any other CQE fails the test.
func drainReserved(t *testing.T, r *Ring) []int32 {
	t.Helper()
	var res []int32
	for c := r.PeekCQE(); c != nil; c = r.PeekCQE() {
		if c.UserData != ReservedUserData {
			t.Fatalf("unexpected CQE %+v", *c)
		}
		res = append(res, c.Res)
		r.CQAdvance(1)
	}
	return res
}

// SubmitAndWaitTimeout bounds the wait through EXT_ARG (5.11) or, forced by
// NoExtArg, through a TIMEOUT request as on 5.10; both end on the first
// completion or when the time is up.
func TestWaitTimeoutModes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noExtArg bool
	}{
		{"extarg", false},
		{"timeout-sqe", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRing(t, 4, Options{NoExtArg: tc.noExtArg})
			if r.ExtArg() != (!tc.noExtArg && r.Features()&FeatExtArg != 0) {
				t.Fatalf("ExtArg() = %v with NoExtArg=%v, features %#x", r.ExtArg(), tc.noExtArg, r.Features())
			}
			// Nothing in flight: the wait lasts the whole timeout.
			start := time.Now()
			if _, err := r.SubmitAndWaitTimeout(1, 30*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			// The wait may end early with nothing to show (a signal, such
			// as the runtime's preemption, interrupts it; callers look at
			// the CQ ring): wait on for what is left, without a second
			// timeout request.
			for left := 30*time.Millisecond - time.Since(start); left > 0 && r.CQReady() == 0; left = 30*time.Millisecond - time.Since(start) {
				var err error
				if r.ExtArg() {
					_, err = r.SubmitAndWaitTimeout(1, left)
				} else {
					_, err = r.SubmitAndWait(1)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if d := time.Since(start); d < 25*time.Millisecond {
				t.Fatalf("wait returned after %v", d)
			}
			got := drainReserved(t, r)
			if want := 0; r.ExtArg() && len(got) != want {
				t.Fatalf("EXT_ARG wait left CQEs %v", got)
			}
			if !r.ExtArg() && (len(got) != 1 || got[0] != -int32(unix.ETIME)) {
				t.Fatalf("expired wait: reserved CQEs %v, want one -ETIME", got)
			}
			// A completion ends a long wait at once, and the timeout request
			// (if any) completes with it rather than lingering.
			for i := 0; i < 3; i++ {
				r.GetSQE().PrepNop()
				start = time.Now()
				if _, err := r.SubmitAndWaitTimeout(1, 10*time.Second); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Fatalf("wait with a NOP ready took %v", d)
				}
				c := waitOne(t, r)
				if c.UserData != 0 || c.Res != 0 {
					t.Fatalf("NOP CQE %+v", c)
				}
				if !r.ExtArg() {
					// The TIMEOUT's count of 1 is met by the NOP.
					if c := waitOne(t, r); c.UserData != ReservedUserData || c.Res != 0 {
						t.Fatalf("timeout request CQE %+v, want reserved with res 0", c)
					}
				}
				if got := drainReserved(t, r); len(got) != 0 {
					t.Fatalf("left over CQEs %v", got)
				}
			}
			// A full SQ: the pending entries are submitted first, then the
			// wait is bounded all the same.
			for r.SQSpace() > 0 {
				r.GetSQE().PrepNop()
			}
			if _, err := r.SubmitAndWaitTimeout(1, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			nops := 0
			deadline := time.Now().Add(10 * time.Second)
			for nops < 4 && time.Now().Before(deadline) {
				for c := r.PeekCQE(); c != nil; c = r.PeekCQE() {
					if c.UserData == 0 {
						nops++
					}
					r.CQAdvance(1)
				}
				if nops < 4 {
					r.SubmitAndWaitTimeout(1, 100*time.Millisecond)
				}
			}
			if nops != 4 || r.Pending() != 0 {
				t.Fatalf("full SQ: %d NOPs completed, %d pending", nops, r.Pending())
			}
		})
	}
}

func TestWaitTimeout(t *testing.T) {
	r := newRing(t, 4, Options{})
	// Timeout SQE, and its removal.
	ts := &Timespec{Nsec: int64(time.Millisecond)}
	sqe := r.GetSQE()
	sqe.PrepTimeout(ts, 0, 0)
	sqe.UserData = 9
	if c := waitOne(t, r); c.UserData != 9 || c.Res != -int32(unix.ETIME) {
		t.Fatalf("timeout CQE %+v", c)
	}
	long := &Timespec{Sec: 60}
	sqe = r.GetSQE()
	sqe.PrepTimeout(long, 0, 0)
	sqe.UserData = 10
	sqe = r.GetSQE()
	sqe.PrepTimeoutRemove(10, 0)
	sqe.UserData = 11
	got := map[uint64]int32{}
	for len(got) < 2 {
		c := waitOne(t, r)
		got[c.UserData] = c.Res
	}
	if got[10] != -int32(unix.ECANCELED) || got[11] != 0 {
		t.Fatalf("timeout remove results %v", got)
	}
	runtime.KeepAlive(ts)
	runtime.KeepAlive(long)
}

func TestLinkTimeoutAndCancel(t *testing.T) {
	r := newRing(t, 8, Options{})
	var p [2]int
	unix.Pipe2(p[:], unix.O_CLOEXEC)
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	buf := make([]byte, 8)
	ts := &Timespec{Nsec: int64(5 * time.Millisecond)}
	sqe := r.GetSQE()
	sqe.PrepRead(p[0], buf, ^uint64(0))
	sqe.Flags |= SQEIOLink
	sqe.UserData = 1
	sqe = r.GetSQE()
	sqe.PrepLinkTimeout(ts, 0)
	sqe.UserData = 2
	got := map[uint64]int32{}
	for len(got) < 2 {
		c := waitOne(t, r)
		got[c.UserData] = c.Res
	}
	if got[1] != -int32(unix.ECANCELED) || got[2] != -int32(unix.ETIME) {
		t.Fatalf("link timeout results %v", got)
	}
	// Cancel by user data, then by fd; a poll that never fires.
	sqe = r.GetSQE()
	sqe.PrepPollAdd(p[0], unix.POLLIN)
	sqe.UserData = 3
	sqe = r.GetSQE()
	sqe.PrepCancel(3, 0)
	sqe.UserData = 4
	got = map[uint64]int32{}
	for len(got) < 2 {
		c := waitOne(t, r)
		got[c.UserData] = c.Res
	}
	if got[3] != -int32(unix.ECANCELED) || got[4] != 0 {
		t.Fatalf("cancel results %v", got)
	}
	sqe = r.GetSQE()
	sqe.PrepPollMultishot(p[0], unix.POLLIN)
	sqe.UserData = 5
	sqe = r.GetSQE()
	sqe.PrepCancelFD(p[0], 0)
	sqe.UserData = 6
	got = map[uint64]int32{}
	for len(got) < 2 {
		c := waitOne(t, r)
		got[c.UserData] = c.Res
	}
	if got[5] != -int32(unix.ECANCELED) || got[6] < 0 {
		t.Fatalf("cancel fd results %v", got)
	}
	sqe = r.GetSQE()
	sqe.PrepPollRemove(12345)
	if c := waitOne(t, r); c.Res != -int32(unix.ENOENT) {
		t.Fatalf("poll remove of nothing: %+v", c)
	}
	runtime.KeepAlive(ts)
}

func TestSpliceAndClose(t *testing.T) {
	r := newRing(t, 8, Options{})
	f, err := os.CreateTemp(t.TempDir(), "splice")
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("abcdefgh"), 4096) // 32 KiB
	f.Write(content)
	var p [2]int
	unix.Pipe2(p[:], unix.O_CLOEXEC)
	defer unix.Close(p[0])
	// file -> pipe from offset 8, 1000 bytes, then pipe -> nothing; read back.
	sqe := r.GetSQE()
	sqe.PrepSplice(int(f.Fd()), 8, p[1], -1, 1000, 0)
	if c := waitOne(t, r); c.Res != 1000 {
		t.Fatalf("splice res %d", c.Res)
	}
	buf := make([]byte, 1000)
	if n, _ := unix.Read(p[0], buf); n != 1000 || !bytes.Equal(buf, content[8:1008]) {
		t.Fatalf("spliced bytes differ (n=%d)", n)
	}
	sqe = r.GetSQE()
	sqe.PrepClose(p[1])
	if c := waitOne(t, r); c.Res != 0 {
		t.Fatalf("close res %d", c.Res)
	}
	if _, err := unix.Write(p[1], []byte("x")); err == nil {
		t.Fatal("fd still open after ring close")
	}
	f.Close()
}

func TestProvideBuffersLegacy(t *testing.T) {
	r := newRing(t, 8, Options{})
	mem := make([]byte, 4*16)
	sqe := r.GetSQE()
	sqe.PrepProvideBuffers(mem, 16, 4, 3, 0)
	if c := waitOne(t, r); c.Res < 0 {
		t.Fatalf("provide buffers %+v", c)
	}
	var p [2]int
	unix.Pipe2(p[:], unix.O_CLOEXEC)
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	unix.Write(p[1], []byte("legacy"))
	sqe = r.GetSQE()
	sqe.prepRW(OpRead, p[0], 0, 16, ^uint64(0))
	sqe.Flags |= SQEBufferSelect
	sqe.BufIndex = 3
	c := waitOne(t, r)
	bid, ok := c.BufferID()
	if c.Res != 6 || !ok || string(mem[int(bid)*16:int(bid)*16+6]) != "legacy" {
		t.Fatalf("buffer-select read %+v", c)
	}
	runtime.KeepAlive(mem)
}

func TestSetupFallbackAndErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Every flag we know how to drop, wanted at once: falls back to what the kernel has.
	r := newRing(t, 8, Options{Flags: SetupNoSQArray | SetupSingleIssuer | SetupDeferTaskrun | SetupSubmitAll | SetupCoopTaskrun, Fallback: true})
	sqe := r.GetSQE()
	sqe.PrepNop()
	waitOne(t, r)
	if r.Fd() < 0 || r.Flags()&SetupCQSize != 0 {
		t.Fatalf("fd %d flags %#x", r.Fd(), r.Flags())
	}
	// An unknown flag with no fallback is a plain error.
	if _, err := New(8, Options{Flags: 1 << 30}); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("unknown flag: %v", err)
	}
	if _, err := New(8, Options{Flags: 1 << 30, Fallback: true}); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("unknown flag with fallback: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestClassifySetupError(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{unix.ENOSYS, "CONFIG_IO_URING"},
		{unix.EPERM, "io_uring"},
		{unix.ENOMEM, "RLIMIT_MEMLOCK"},
	}
	for _, c := range cases {
		err := classifySetupError(c.err, 0)
		var ue *UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, c.err) || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%v -> %v", c.err, err)
		}
	}
	if err := classifySetupError(syscall.EINVAL, 3); errors.As(err, new(*UnavailableError)) || !errors.Is(err, unix.EINVAL) {
		t.Errorf("EINVAL -> %v", err)
	}
	if readSysctl("/nonexistent") != "" {
		t.Error("readSysctl of a missing file")
	}
}

func TestBufRingArgs(t *testing.T) {
	r := newRing(t, 4, Options{})
	if _, err := r.RegisterBufRing(1, 3, 16); err == nil {
		t.Error("non power of two accepted")
	}
	if _, err := r.RegisterBufRing(1, 4, 0); err == nil {
		t.Error("zero size accepted")
	}
	b, err := r.RegisterBufRing(1, 4, 16)
	if err != nil {
		t.Skip("no buffer rings:", err)
	}
	if _, err := r.RegisterBufRing(1, 4, 16); err == nil {
		t.Error("duplicate group accepted")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkNop(b *testing.B) {
	r, err := New(64, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	cqes := make([]*CQE, 32)
	b.ReportAllocs()
	for i := 0; i < b.N; i += 32 {
		for j := 0; j < 32; j++ {
			r.GetSQE().PrepNop()
		}
		r.SubmitAndWait(32)
		for done := 0; done < 32; {
			n := r.PeekBatchCQE(cqes)
			r.CQAdvance(uint32(n))
			done += n
			if n == 0 {
				r.SubmitAndWait(1)
			}
		}
	}
}
