package epoll

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/uringnet/uringnet/ops"
	"golang.org/x/sys/unix"
)

// newPoller returns a Poller closed at the end of the test.
func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New(16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// pair returns a connected pair of stream sockets, closed at the end.
func pair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// prep fills and submits one SQE.
func prep(t *testing.T, p *Poller, ud uint64, fill func(*ops.Op)) {
	t.Helper()
	sqe := p.GetOp()
	if sqe == nil {
		t.Fatal("no SQE")
	}
	fill(sqe)
	sqe.UserData = ud
}

// reap runs the Poller until n completions have arrived (or 5 s passed)
// and returns them.
func reap(t *testing.T, p *Poller, n int) []ops.CQE {
	t.Helper()
	var got []ops.CQE
	dst := make([]*ops.CQE, 64)
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		if _, err := p.SubmitAndWaitTimeout(1, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		for {
			k := p.PeekBatchCQE(dst)
			if k == 0 {
				break
			}
			for _, c := range dst[:k] {
				got = append(got, *c)
			}
			p.CQAdvance(uint32(k))
		}
	}
	if len(got) < n {
		t.Fatalf("%d completions, want %d: %+v", len(got), n, got)
	}
	return got
}

// quiet checks that no completion arrives for a while.
func quiet(t *testing.T, p *Poller) {
	t.Helper()
	p.SubmitAndWaitTimeout(1, 20*time.Millisecond)
	dst := make([]*ops.CQE, 8)
	if k := p.PeekBatchCQE(dst); k > 0 {
		t.Fatalf("unexpected completion %+v", *dst[0])
	}
}

func TestRecvWaitsForData(t *testing.T) {
	p := newPoller(t)
	a, b := pair(t)
	buf := make([]byte, 16)
	prep(t, p, 1, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	quiet(t, p)
	unix.Write(b, []byte("hello"))
	got := reap(t, p, 1)
	if got[0].UserData != 1 || got[0].Res != 5 || string(buf[:5]) != "hello" {
		t.Fatalf("got %+v %q", got[0], buf)
	}
}

func TestMultishotRecvWithBuffers(t *testing.T) {
	p := newPoller(t)
	b, err := p.RegisterBuffers(3, 4, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RegisterBuffers(3, 4, 8); err == nil {
		t.Error("a second group 3: no error")
	}
	if _, err := p.RegisterBuffers(4, 0, 8); err == nil {
		t.Error("zero buffers: no error")
	}
	a, c := pair(t)
	prep(t, p, 7, func(s *ops.Op) { s.PrepRecvMultishot(a, 3, 0) })
	unix.Write(c, []byte("0123456789"))
	got := reap(t, p, 2)
	var all []byte
	for _, cqe := range got {
		bid, ok := cqe.BufferID()
		if !ok || !cqe.More() || cqe.UserData != 7 {
			t.Fatalf("cqe %+v", cqe)
		}
		all = append(all, b.Buffer(bid, int(cqe.Res))...)
		b.Add(bid)
	}
	b.Publish()
	if string(all) != "0123456789" {
		t.Fatalf("got %q", all)
	}
	// More data, then the end of stream: the last completion has no
	// CQEFMore.
	unix.Write(c, []byte("ab"))
	unix.Shutdown(c, unix.SHUT_WR)
	got = reap(t, p, 2)
	if bid, _ := got[0].BufferID(); string(b.Buffer(bid, int(got[0].Res))) != "ab" {
		t.Fatalf("got %+v", got[0])
	}
	if got[1].Res != 0 || got[1].More() {
		t.Fatalf("end of stream: %+v", got[1])
	}
}

func TestRecvNoBuffers(t *testing.T) {
	p := newPoller(t)
	if _, err := p.RegisterBuffers(0, 1, 4); err != nil {
		t.Fatal(err)
	}
	a, c := pair(t)
	unix.Write(c, []byte("abcdefgh"))
	prep(t, p, 1, func(s *ops.Op) { s.PrepRecvMultishot(a, 0, 0) })
	got := reap(t, p, 2)
	if got[0].Res != 4 || !got[0].More() {
		t.Fatalf("first %+v", got[0])
	}
	if got[1].Res != -int32(unix.ENOBUFS) || got[1].More() {
		t.Fatalf("then %+v, want -ENOBUFS", got[1])
	}
	prep(t, p, 2, func(s *ops.Op) { s.PrepRecvSelect(a, 9, 0) })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.ENOBUFS) {
		t.Fatalf("unknown group: %+v", got[0])
	}
}

// A multishot recv posts at most recvBudget buffers per turn, then lets
// the others run; the rest follows on the next turns.
func TestRecvBudget(t *testing.T) {
	p := newPoller(t)
	b, _ := p.RegisterBuffers(0, 64, 16)
	a, c := pair(t)
	want := bytes.Repeat([]byte("x"), 16*(recvBudget+4))
	unix.Write(c, want)
	prep(t, p, 1, func(s *ops.Op) { s.PrepRecvMultishot(a, 0, 0) })
	p.Submit()
	if n := len(p.cq) - p.head; n != recvBudget {
		t.Fatalf("%d completions in the first turn, want %d", n, recvBudget)
	}
	got := reap(t, p, recvBudget+4)
	total := 0
	for _, cqe := range got {
		total += int(cqe.Res)
		bid, _ := cqe.BufferID()
		b.Add(bid)
	}
	if total != len(want) {
		t.Fatalf("%d bytes, want %d", total, len(want))
	}
}

func TestAccept(t *testing.T) {
	for _, multishot := range []bool{false, true} {
		p := newPoller(t)
		ln, port := listener(t)
		prep(t, p, 5, func(s *ops.Op) {
			if multishot {
				s.PrepMultishotAccept(ln, unix.SOCK_CLOEXEC)
			} else {
				s.PrepAccept(ln, unix.SOCK_CLOEXEC)
			}
		})
		quiet(t, p)
		n := 3
		for i := 0; i < n; i++ {
			dial(t, port)
		}
		if !multishot {
			n = 1
		}
		got := reap(t, p, n)
		for _, cqe := range got {
			if cqe.Res < 0 || cqe.More() != multishot {
				t.Fatalf("multishot=%v: %+v", multishot, cqe)
			}
			fl, _ := unix.FcntlInt(uintptr(cqe.Res), unix.F_GETFL, 0)
			if fl&unix.O_NONBLOCK == 0 {
				t.Error("accepted socket is blocking")
			}
			unix.Close(int(cqe.Res))
		}
	}
}

// listener returns a non-blocking-or-not TCP listener on 127.0.0.1.
func listener(t *testing.T) (int, int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 64); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	return fd, sa.(*unix.SockaddrInet4).Port
}

func dial(t *testing.T, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		t.Fatal(err)
	}
}

// A send with MSG_WAITALL larger than the socket buffer completes once
// all of it has gone, however many writable edges that takes.
func TestSendWaitAll(t *testing.T) {
	for _, vectored := range []bool{false, true} {
		p := newPoller(t)
		a, c := pair(t)
		unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
		data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10)
		var msg unix.Msghdr
		iovs := []unix.Iovec{{Base: &data[0]}, {Base: &data[len(data)/3]}}
		iovs[0].SetLen(len(data) / 3)
		iovs[1].SetLen(len(data) - len(data)/3)
		msg.Iov = &iovs[0]
		msg.SetIovlen(2)
		prep(t, p, 1, func(s *ops.Op) {
			if vectored {
				s.PrepSendmsg(a, &msg, unix.MSG_WAITALL)
			} else {
				s.PrepSend(a, data, unix.MSG_WAITALL)
			}
		})
		got := make(chan []byte)
		go func() {
			var all []byte
			buf := make([]byte, 32<<10)
			for len(all) < len(data) {
				n, err := unix.Read(c, buf)
				if n <= 0 || err != nil {
					break
				}
				all = append(all, buf[:n]...)
			}
			got <- all
		}()
		cqe := reap(t, p, 1)[0]
		if cqe.Res != int32(len(data)) {
			t.Fatalf("vectored=%v: res %d, want %d", vectored, cqe.Res, len(data))
		}
		if all := <-got; !bytes.Equal(all, data) {
			t.Fatalf("vectored=%v: %d bytes arrived, different", vectored, len(all))
		}
	}
}

// Linked ops run in order; one that fails or comes up short cancels the
// rest.
func TestLinks(t *testing.T) {
	p := newPoller(t)
	a, c := pair(t)
	buf := make([]byte, 4)
	prep(t, p, 1, func(s *ops.Op) { s.PrepSend(a, []byte("ping"), 0); s.Link = true })
	prep(t, p, 2, func(s *ops.Op) { s.PrepRecv(c, buf, unix.MSG_WAITALL); s.Link = true })
	prep(t, p, 3, func(s *ops.Op) { s.PrepNop() })
	got := reap(t, p, 3)
	for i, cqe := range got {
		if cqe.UserData != uint64(i+1) || cqe.Res < 0 {
			t.Fatalf("chain: %+v", got)
		}
	}
	// A send on a closed fd fails: the ops after it are cancelled.
	prep(t, p, 4, func(s *ops.Op) { s.PrepSend(-1, []byte("x"), 0); s.Link = true })
	prep(t, p, 5, func(s *ops.Op) { s.PrepNop(); s.Link = true })
	prep(t, p, 6, func(s *ops.Op) { s.PrepNop() })
	got = reap(t, p, 3)
	if got[0].Res >= 0 || got[1].Res != -int32(unix.ECANCELED) || got[2].Res != -int32(unix.ECANCELED) {
		t.Fatalf("failed chain: %+v", got)
	}
	// A short read breaks the chain.
	f := tempFile(t, "abc")
	prep(t, p, 7, func(s *ops.Op) { s.PrepRead(f, make([]byte, 10), 0); s.Link = true })
	prep(t, p, 8, func(s *ops.Op) { s.PrepNop() })
	got = reap(t, p, 2)
	if got[0].Res != 3 || got[1].Res != -int32(unix.ECANCELED) {
		t.Fatalf("short read chain: %+v", got)
	}
}

func tempFile(t *testing.T, content string) int {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(content)
	t.Cleanup(func() { f.Close() })
	return int(f.Fd())
}

func TestCancel(t *testing.T) {
	p := newPoller(t)
	a, _ := pair(t)
	buf := make([]byte, 4)
	prep(t, p, 1, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	prep(t, p, 2, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	quiet(t, p)
	prep(t, p, 3, func(s *ops.Op) { s.PrepCancel(1, 0) })
	got := reap(t, p, 2)
	if got[0].UserData != 1 || got[0].Res != -int32(unix.ECANCELED) || got[1].UserData != 3 || got[1].Res != 0 {
		t.Fatalf("cancel by user data: %+v", got)
	}
	prep(t, p, 4, func(s *ops.Op) { s.PrepCancel(1, 0) })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.ENOENT) {
		t.Fatalf("cancel of an ended op: %+v", got)
	}
	prep(t, p, 5, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	prep(t, p, 6, func(s *ops.Op) { s.PrepCancelFD(a, ops.CancelAll) })
	got = reap(t, p, 3)
	if got[2].UserData != 6 || got[2].Res != 2 {
		t.Fatalf("cancel all by fd: %+v", got)
	}
	prep(t, p, 7, func(s *ops.Op) { s.PrepCancelFD(a, 0) })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.ENOENT) {
		t.Fatalf("cancel by fd, nothing waiting: %+v", got)
	}
	prep(t, p, 8, func(s *ops.Op) { s.PrepCancelFD(1000, 0) })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.ENOENT) {
		t.Fatalf("cancel by unknown fd: %+v", got)
	}
}

func TestPollShutdownClose(t *testing.T) {
	p := newPoller(t)
	a, c := pair(t)
	prep(t, p, 1, func(s *ops.Op) { s.PrepPollAdd(a, unix.POLLIN) })
	quiet(t, p)
	unix.Write(c, []byte("x"))
	if got := reap(t, p, 1); got[0].Res&unix.POLLIN == 0 {
		t.Fatalf("poll: %+v", got)
	}
	prep(t, p, 2, func(s *ops.Op) { s.PrepPollAdd(a, unix.POLLOUT) })
	if got := reap(t, p, 1); got[0].Res&unix.POLLOUT == 0 {
		t.Fatalf("poll out: %+v", got)
	}
	prep(t, p, 3, func(s *ops.Op) { s.PrepShutdown(a, unix.SHUT_WR) })
	if got := reap(t, p, 1); got[0].Res != 0 {
		t.Fatalf("shutdown: %+v", got)
	}
	if n, _ := unix.Read(c, make([]byte, 1)); n != 0 {
		t.Fatal("no end of stream after shutdown")
	}
	d, _ := unix.Dup(a)
	prep(t, p, 4, func(s *ops.Op) { s.PrepClose(d) })
	if got := reap(t, p, 1); got[0].Res != 0 {
		t.Fatalf("close: %+v", got)
	}
	prep(t, p, 5, func(s *ops.Op) { s.PrepClose(d) })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.EBADF) {
		t.Fatalf("second close: %+v", got)
	}
	prep(t, p, 6, func(s *ops.Op) { s.PrepSplice(a, -1, c, -1, 1, 0) })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.EINVAL) {
		t.Fatalf("splice: %+v, want -EINVAL", got)
	}
	if (Probe{}).Supported(ops.Splice) || !(Probe{}).Supported(ops.Send) {
		t.Error("probe: splice supported or send not")
	}
}

// Forget drops an fd's state: ops waiting on it are cancelled, and a new
// fd with the same number starts afresh.
func TestForget(t *testing.T) {
	p := newPoller(t)
	a, c := pair(t)
	buf := make([]byte, 4)
	prep(t, p, 1, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	quiet(t, p)
	p.Forget(a)
	if got := reap(t, p, 1); got[0].Res != -int32(unix.ECANCELED) {
		t.Fatalf("forgotten: %+v", got)
	}
	p.Forget(a)    // twice: nothing
	p.Forget(1000) // unknown: nothing
	prep(t, p, 2, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	quiet(t, p)
	unix.Write(c, []byte("y"))
	if got := reap(t, p, 1); got[0].Res != 1 {
		t.Fatalf("after forget: %+v", got)
	}
}

// Reads and writes of pipes wait for readiness; vectored ones too, and
// positioned reads of files run at once.
func TestReadWrite(t *testing.T) {
	p := newPoller(t)
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	buf := make([]byte, 8)
	iov := []unix.Iovec{{Base: &buf[0]}}
	iov[0].SetLen(len(buf))
	prep(t, p, 1, func(s *ops.Op) { s.PrepReadv(fds[0], iov, ^uint64(0)) })
	quiet(t, p)
	out := []byte("pipe")
	oiov := []unix.Iovec{{Base: &out[0]}}
	oiov[0].SetLen(len(out))
	prep(t, p, 2, func(s *ops.Op) { s.PrepWritev(fds[1], oiov, ^uint64(0)) })
	got := reap(t, p, 2)
	if got[0].UserData != 2 || got[0].Res != 4 || got[1].Res != 4 || string(buf[:4]) != "pipe" {
		t.Fatalf("pipe: %+v %q", got, buf)
	}
	prep(t, p, 3, func(s *ops.Op) { s.PrepWrite(fds[1], []byte("w"), ^uint64(0)) })
	prep(t, p, 4, func(s *ops.Op) { s.PrepRead(fds[0], buf[:1], ^uint64(0)) })
	if got := reap(t, p, 2); got[0].Res != 1 || got[1].Res != 1 {
		t.Fatalf("read/write: %+v", got)
	}
	f := tempFile(t, "0123456789")
	prep(t, p, 5, func(s *ops.Op) { s.PrepRead(f, buf[:3], 4) })
	fiov := []unix.Iovec{{Base: &buf[4]}}
	fiov[0].SetLen(2)
	prep(t, p, 6, func(s *ops.Op) { s.PrepReadv(f, fiov, 8) })
	got = reap(t, p, 2)
	if got[0].Res != 3 || got[1].Res != 2 || string(buf[:3]) != "456" || string(buf[4:6]) != "89" {
		t.Fatalf("file: %+v %q", got, buf)
	}
}

// The SQ holds what New asked for; Submit empties it.
func TestQueueFull(t *testing.T) {
	p, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.GetOp().PrepNop()
	p.GetOp().PrepNop()
	if p.GetOp() != nil || p.Space() != 0 {
		t.Fatal("a third SQE from a queue of 2")
	}
	if n, _ := p.Submit(); n != 2 || p.Space() != 2 {
		t.Fatalf("submitted %d, space %d", n, p.Space())
	}
	reap(t, p, 2)
	if p.Close() != nil || p.Close() != nil {
		t.Error("close failed")
	}
}

// Unknown opcodes fail with EINVAL, as on a kernel that lacks them.
func TestUnknownOp(t *testing.T) {
	p := newPoller(t)
	prep(t, p, 1, func(s *ops.Op) { s.Code = 200 })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.EINVAL) {
		t.Fatalf("timeout: %+v", got)
	}
}

// Level-triggered, an fd is registered for the directions that have ops
// waiting; a direction reported with none waiting is dropped, and a hang-up
// with nothing waiting takes the fd out of the set.
func TestLevelTriggered(t *testing.T) {
	p, err := NewTrigger(16, Level)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, c := pair(t)
	buf := make([]byte, 4)
	prep(t, p, 1, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	quiet(t, p)
	fs := p.fds[a]
	if !fs.registered || fs.interest != sideEvents[rd] {
		t.Fatalf("registered %v, interest %#x; want the read side only", fs.registered, fs.interest)
	}
	unix.Write(c, []byte("abcdef"))
	if got := reap(t, p, 1); got[0].Res != 4 {
		t.Fatalf("recv: %+v", got)
	}
	// Two bytes are left unread and nothing waits: the read side is
	// dropped at the next report instead of being reported forever.
	quiet(t, p)
	if fs.interest != 0 {
		t.Fatalf("interest %#x after an idle report, want 0", fs.interest)
	}
	prep(t, p, 2, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	if got := reap(t, p, 1); got[0].Res != 2 {
		t.Fatalf("the rest: %+v", got)
	}
	prep(t, p, 3, func(s *ops.Op) { s.PrepRecv(a, buf, 0) })
	quiet(t, p)
	unix.Shutdown(c, unix.SHUT_RDWR)
	if got := reap(t, p, 1); got[0].Res != 0 {
		t.Fatalf("end of stream: %+v", got)
	}
	quiet(t, p)
	if fs.registered {
		t.Fatal("a hung-up fd with nothing waiting is still registered")
	}
}

// An op that would wait on no fd at all fails with EBADF.
func TestWaitOnBadFD(t *testing.T) {
	p := newPoller(t)
	prep(t, p, 1, func(s *ops.Op) { s.PrepPollAdd(-1, unix.POLLIN) })
	if got := reap(t, p, 1); got[0].Res != -int32(unix.EBADF) {
		t.Fatalf("poll on -1: %+v", got)
	}
}
