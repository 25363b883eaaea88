package backend

import (
	"testing"
	"time"

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
			if err != nil || !pr.Supported(ring.OpRecv) {
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
			get := func(ud uint64) *ring.SQE {
				sqe := b.GetSQE()
				sqe.UserData = ud
				return sqe
			}
			get(1).PrepRecvSelect(fds[0], bufs.Group(), 0)
			get(2).PrepSend(fds[1], []byte("hi"), unix.MSG_NOSIGNAL)
			buf := make([]byte, 8)
			get(3).PrepRecv(fds[1], buf, 0)
			get(4).PrepCancel(3, 0)
			res := map[uint64]ring.CQE{}
			dst := make([]*ring.CQE, 8)
			for deadline := time.Now().Add(5 * time.Second); len(res) < 4 && time.Now().Before(deadline); {
				b.SubmitAndWaitTimeout(1, 10*time.Millisecond)
				n := b.PeekBatchCQE(dst)
				for _, c := range dst[:n] {
					res[c.UserData] = *c
				}
				b.CQAdvance(uint32(n))
			}
			r1 := res[1]
			if bid, ok := r1.BufferID(); !ok || string(bufs.Buffer(bid, int(res[1].Res))) != "hi" {
				t.Errorf("recv select: %+v", res[1])
			}
			if res[2].Res != 2 || res[3].Res != -int32(unix.ECANCELED) || res[4].Res != 0 {
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
