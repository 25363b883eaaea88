package backend

import (
	"runtime"
	"testing"
	"time"

	"github.com/uringnet/uringnet/ops"
	"github.com/uringnet/uringnet/ring"
	"golang.org/x/sys/unix"
)

func TestParseKind(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Kind
		ok   bool
	}{
		{"", Auto, true}, {"auto", Auto, true}, {" AUTO ", Auto, true},
		{"uring", Uring, true}, {"io_uring", Uring, true}, {"epoll", Epoll, true},
		{"kqueue", "", false}, {"uring,epoll", "", false},
	} {
		got, err := ParseKind(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseKind(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for k, want := range map[Kind]string{Uring: "io_uring", Epoll: "epoll", Auto: ""} {
		if k.Name() != want {
			t.Errorf("%s.Name() = %q, want %q", k, k.Name(), want)
		}
	}
}

// Both backends run the same operations with the same results: a recv
// that waits for data, a send, a linked pair, a cancel.
func TestBackendsAgree(t *testing.T) {
	for _, k := range []Kind{Uring, Epoll} {
		t.Run(string(k), func(t *testing.T) {
			// A ring set up SINGLE_ISSUER answers EEXIST to any other
			// thread, as the loops' rings do: stay on one.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b, err := Open(k, Options{Entries: 8})
			if err != nil {
				t.Skipf("%s: %v", k, err)
			}
			defer b.Close()
			if b.Name() != k.Name() {
				t.Errorf("Name %q, want %q", b.Name(), k.Name())
			}
			if _, isRing := AsRing(b); isRing != (k == Uring) {
				t.Errorf("AsRing: %v", isRing)
			}
			pr, err := b.Probe()
			if err != nil || !pr.Supported(ops.Recv) {
				t.Fatalf("probe: %v", err)
			}
			bufs, err := b.RegisterBufRing(1, 4, 64)
			if err != nil {
				t.Fatal(err)
			}
			defer bufs.Close()
			if _, err := b.RegisterBufRing(1, 4, 64); err == nil {
				t.Error("buffer group 1 registered twice")
			}
			fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			defer unix.Close(fds[0])
			defer unix.Close(fds[1])
			get := func(ud uint64) *ops.Op {
				sqe := b.GetOp()
				sqe.UserData = ud
				return sqe
			}
			get(1).PrepRecvSelect(fds[0], bufs.Group(), 0)
			get(2).PrepSend(fds[1], []byte("hi"), unix.MSG_NOSIGNAL)
			buf := make([]byte, 8)
			get(3).PrepRecv(fds[1], buf, 0)
			get(4).PrepCancel(3, 0)
			res := map[uint64]ops.CQE{}
			dst := make([]*ops.CQE, 8)
			collect := func(want ...uint64) {
				t.Helper()
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
					b.SubmitAndWaitTimeout(1, 10*time.Millisecond)
					n := b.PeekBatchCQE(dst)
					for _, c := range dst[:n] {
						res[c.UserData] = *c
					}
					b.CQAdvance(uint32(n))
					done := true
					for _, ud := range want {
						_, ok := res[ud]
						done = done && ok
					}
					if done {
						return
					}
				}
				t.Fatalf("completions %v missing: %+v", want, res)
			}
			collect(1, 2, 4)
			if res[4].Res == -int32(unix.EALREADY) {
				// io_uring had the recv running already: it cannot be
				// cancelled, so give it something to read.
				unix.Write(fds[0], []byte("x"))
			}
			collect(3)
			r1 := res[1]
			if bid, ok := r1.BufferID(); !ok || string(bufs.Buffer(bid, int(res[1].Res))) != "hi" {
				t.Errorf("recv select: %+v", res[1])
			}
			cancelled := res[3].Res == -int32(unix.ECANCELED) && res[4].Res == 0
			raced := res[3].Res == 1 && res[4].Res == -int32(unix.EALREADY)
			if res[2].Res != 2 || !(cancelled || raced) {
				t.Errorf("send/recv/cancel: %+v", res)
			}
			b.Forget(fds[0])
		})
	}
}

// Auto is io_uring where it works; Uring and Epoll resolve to themselves.
func TestResolve(t *testing.T) {
	for _, k := range []Kind{Uring, Epoll} {
		if got, err := Resolve(k, Options{}); got != k || err != nil {
			t.Errorf("Resolve(%s) = %s, %v", k, got, err)
		}
	}
	got, err := Resolve(Auto, Options{Entries: 8})
	switch {
	case got == Uring && err == nil:
	case got == Epoll && err != nil:
		t.Logf("io_uring refused here: %v", err)
	default:
		t.Errorf("Resolve(auto) = %q, %v", got, err)
	}
	if _, err := Open("kqueue", Options{}); err == nil {
		t.Error("Open(kqueue): no error")
	}
}

// toSQE encodes every operation as ring's own Prep helper would.
func TestToSQE(t *testing.T) {
	buf := make([]byte, 8)
	iovs := []unix.Iovec{{Base: &buf[0], Len: 8}}
	msg := &unix.Msghdr{}
	for _, tc := range []struct {
		name string
		op   func(*ops.Op)
		sqe  func(*ring.SQE)
	}{
		{"nop", func(o *ops.Op) { o.PrepNop() }, func(s *ring.SQE) { s.PrepNop() }},
		{"accept", func(o *ops.Op) { o.PrepAccept(3, 1) }, func(s *ring.SQE) { s.PrepAccept(3, 1) }},
		{"multishot accept", func(o *ops.Op) { o.PrepMultishotAccept(3, 1) }, func(s *ring.SQE) { s.PrepMultishotAccept(3, 1) }},
		{"recv", func(o *ops.Op) { o.PrepRecv(4, buf, 2) }, func(s *ring.SQE) { s.PrepRecv(4, buf, 2) }},
		{"recv select", func(o *ops.Op) { o.PrepRecvSelect(4, 5, 0) }, func(s *ring.SQE) { s.PrepRecvSelect(4, 5, 0) }},
		{"recv multishot", func(o *ops.Op) { o.PrepRecvMultishot(4, 5, 0) }, func(s *ring.SQE) { s.PrepRecvMultishot(4, 5, 0) }},
		{"send", func(o *ops.Op) { o.PrepSend(4, buf, 3) }, func(s *ring.SQE) { s.PrepSend(4, buf, 3) }},
		{"sendmsg", func(o *ops.Op) { o.PrepSendmsg(4, msg, 3) }, func(s *ring.SQE) { s.PrepSendmsg(4, msg, 3) }},
		{"read", func(o *ops.Op) { o.PrepRead(4, buf, 7) }, func(s *ring.SQE) { s.PrepRead(4, buf, 7) }},
		{"write", func(o *ops.Op) { o.PrepWrite(4, buf, 7) }, func(s *ring.SQE) { s.PrepWrite(4, buf, 7) }},
		{"readv", func(o *ops.Op) { o.PrepReadv(4, iovs, 7) }, func(s *ring.SQE) { s.PrepReadv(4, iovs, 7) }},
		{"writev", func(o *ops.Op) { o.PrepWritev(4, iovs, 7) }, func(s *ring.SQE) { s.PrepWritev(4, iovs, 7) }},
		{"splice", func(o *ops.Op) { o.PrepSplice(5, 10, 6, -1, 99, 1) }, func(s *ring.SQE) { s.PrepSplice(5, 10, 6, -1, 99, 1) }},
		{"close", func(o *ops.Op) { o.PrepClose(4) }, func(s *ring.SQE) { s.PrepClose(4) }},
		{"shutdown", func(o *ops.Op) { o.PrepShutdown(4, 1) }, func(s *ring.SQE) { s.PrepShutdown(4, 1) }},
		{"poll", func(o *ops.Op) { o.PrepPollAdd(4, 4) }, func(s *ring.SQE) { s.PrepPollAdd(4, 4) }},
		{"cancel", func(o *ops.Op) { o.PrepCancel(77, 0) }, func(s *ring.SQE) { s.PrepCancel(77, 0) }},
		{"cancel fd", func(o *ops.Op) { o.PrepCancelFD(4, ops.CancelAll) }, func(s *ring.SQE) { s.PrepCancelFD(4, ring.AsyncCancelAll) }},
		{"unknown", func(o *ops.Op) { o.Code, o.Fd = 200, 4 }, func(s *ring.SQE) { s.Opcode, s.Fd = 200, 4 }},
	} {
		for _, link := range []bool{false, true} {
			o := ops.Op{UserData: 9}
			tc.op(&o)
			o.Link = link
			var got, want ring.SQE
			toSQE(&got, &o)
			tc.sqe(&want)
			want.UserData = 9
			if link {
				want.Flags |= ring.SQEIOLink
			}
			if got != want {
				t.Errorf("%s (link %v): got %+v, want %+v", tc.name, link, got, want)
			}
		}
	}
}
