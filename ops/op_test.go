package ops

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestPrep(t *testing.T) {
	buf := make([]byte, 8)
	iovs := []unix.Iovec{{Base: &buf[0], Len: 8}}
	msg := &unix.Msghdr{}
	for _, tc := range []struct {
		name string
		prep func(*Op)
		want Op
	}{
		{"nop", func(o *Op) { o.PrepNop() }, Op{Code: Nop, Fd: -1}},
		{"accept", func(o *Op) { o.PrepAccept(3, unix.SOCK_CLOEXEC) }, Op{Code: Accept, Fd: 3, Flags: unix.SOCK_CLOEXEC}},
		{"multishot accept", func(o *Op) { o.PrepMultishotAccept(3, 0) }, Op{Code: Accept, Fd: 3, More: true}},
		{"recv", func(o *Op) { o.PrepRecv(4, buf, 1) }, Op{Code: Recv, Fd: 4, Buf: buf, Flags: 1}},
		{"recv select", func(o *Op) { o.PrepRecvSelect(4, 2, 0) }, Op{Code: Recv, Fd: 4, Select: true, Group: 2}},
		{"recv multishot", func(o *Op) { o.PrepRecvMultishot(4, 2, 0) }, Op{Code: Recv, Fd: 4, Select: true, Group: 2, More: true}},
		{"read", func(o *Op) { o.PrepRead(5, buf, 9) }, Op{Code: Read, Fd: 5, Buf: buf, Off: 9}},
		{"write", func(o *Op) { o.PrepWrite(5, buf, ^uint64(0)) }, Op{Code: Write, Fd: 5, Buf: buf, Off: ^uint64(0)}},
		{"readv", func(o *Op) { o.PrepReadv(5, iovs, 0) }, Op{Code: Readv, Fd: 5, Iovs: iovs}},
		{"writev", func(o *Op) { o.PrepWritev(5, iovs, 1) }, Op{Code: Writev, Fd: 5, Iovs: iovs, Off: 1}},
		{"send", func(o *Op) { o.PrepSend(6, buf, unix.MSG_NOSIGNAL) }, Op{Code: Send, Fd: 6, Buf: buf, Flags: unix.MSG_NOSIGNAL}},
		{"sendmsg", func(o *Op) { o.PrepSendmsg(6, msg, 0) }, Op{Code: Sendmsg, Fd: 6, Msg: msg}},
		{"splice", func(o *Op) { o.PrepSplice(7, 100, 8, -1, 50, 2) }, Op{Code: Splice, Fd: 8, FdIn: 7, OffIn: 100, Off: ^uint64(0), Len: 50, Flags: 2}},
		{"close", func(o *Op) { o.PrepClose(9) }, Op{Code: Close, Fd: 9}},
		{"shutdown", func(o *Op) { o.PrepShutdown(9, unix.SHUT_WR) }, Op{Code: Shutdown, Fd: 9, Len: unix.SHUT_WR}},
		{"cancel", func(o *Op) { o.PrepCancel(77, 0) }, Op{Code: Cancel, Fd: -1, Target: 77}},
		{"cancel fd", func(o *Op) { o.PrepCancelFD(9, CancelAll) }, Op{Code: Cancel, Fd: 9, Flags: CancelAll | CancelFD}},
		{"poll", func(o *Op) { o.PrepPollAdd(9, unix.POLLOUT) }, Op{Code: PollAdd, Fd: 9, Flags: unix.POLLOUT}},
	} {
		// A Prep keeps the user data and link set before it, and drops
		// whatever else an earlier Prep left.
		o := Op{UserData: 42, Link: true, Buf: []byte("stale"), More: true, Target: 1}
		tc.prep(&o)
		tc.want.UserData, tc.want.Link = 42, true
		if o.Code != tc.want.Code || o.Fd != tc.want.Fd || len(o.Buf) != len(tc.want.Buf) || len(o.Iovs) != len(tc.want.Iovs) ||
			o.Msg != tc.want.Msg || o.Off != tc.want.Off || o.Flags != tc.want.Flags || o.Len != tc.want.Len ||
			o.FdIn != tc.want.FdIn || o.OffIn != tc.want.OffIn || o.Target != tc.want.Target || o.Group != tc.want.Group ||
			o.Select != tc.want.Select || o.More != tc.want.More || o.Link != tc.want.Link || o.UserData != tc.want.UserData {
			t.Errorf("%s: got %+v, want %+v", tc.name, o, tc.want)
		}
	}
}
