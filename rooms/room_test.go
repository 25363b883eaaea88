package rooms

import (
	"slices"
	"testing"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

func TestRoomMembers(t *testing.T) {
	r := newRoom("r")
	cs := []netserver.ClientNum{3, 1, 4, 5}
	for _, c := range cs {
		if !r.add(c) {
			t.Fatalf("add %d: already a member", c)
		}
	}
	if r.add(4) {
		t.Fatal("add 4 twice")
	}
	l := r.list()
	if !slices.Equal(l, cs) {
		t.Fatalf("list %v", l)
	}
	if left, ok := r.remove(3); !ok || left != 3 {
		t.Fatalf("remove 3: %d, %v", left, ok)
	}
	if _, ok := r.remove(3); ok {
		t.Fatal("remove 3 twice")
	}
	got := slices.Clone(r.list())
	slices.Sort(got)
	if !slices.Equal(got, []netserver.ClientNum{1, 4, 5}) {
		t.Fatalf("after remove: %v", got)
	}
	if !slices.Equal(l, cs) {
		t.Fatalf("an earlier list changed: %v", l)
	}
	if r.count.Load() != 3 {
		t.Fatalf("count %d", r.count.Load())
	}
}

func TestRoomJudge(t *testing.T) {
	msg := func(origin uint64, stream uint32, seq uint64) packet {
		return packet{kind: kindMessage, origin: origin, stream: stream, seq: seq}
	}
	beat := func(origin uint64, stream uint32, seq uint64) packet {
		return packet{kind: kindHeartbeat, origin: origin, stream: stream, seq: seq, members: 2}
	}
	type step struct {
		p    packet
		want verdict
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{msg(1, 1, 1), verdict{deliver: true}},
			{msg(1, 1, 2), verdict{deliver: true}},
			{beat(1, 1, 2), verdict{}},
		}},
		{"first heard late is not a loss", []step{
			{msg(1, 1, 50), verdict{deliver: true}},
			{msg(1, 1, 51), verdict{deliver: true}},
		}},
		{"gap", []step{
			{msg(1, 1, 1), verdict{deliver: true}},
			{msg(1, 1, 4), verdict{deliver: true, lost: 2}},
		}},
		{"duplicate and reordered", []step{
			{msg(1, 1, 1), verdict{deliver: true}},
			{msg(1, 1, 2), verdict{deliver: true}},
			{msg(1, 1, 2), verdict{dup: true}},
			{msg(1, 1, 1), verdict{dup: true}},
		}},
		{"heartbeat tells a trailing loss", []step{
			{msg(1, 1, 1), verdict{deliver: true}},
			{beat(1, 1, 3), verdict{lost: 2}},
			{msg(1, 1, 3), verdict{dup: true}},
			{msg(1, 1, 4), verdict{deliver: true}},
		}},
		{"new stream", []step{
			{msg(1, 1, 9), verdict{deliver: true}},
			{msg(1, 2, 5), verdict{deliver: true}},
			{msg(1, 1, 10), verdict{dup: true}},
			{msg(1, 2, 6), verdict{deliver: true}},
		}},
		{"heartbeat starts a stream", []step{
			{beat(1, 0, 0), verdict{}},
			{beat(1, 3, 7), verdict{}},
			{msg(1, 3, 8), verdict{deliver: true}},
			{beat(1, 2, 9), verdict{}},
		}},
		{"origins apart", []step{
			{msg(1, 1, 1), verdict{deliver: true}},
			{msg(2, 1, 1), verdict{deliver: true}},
			{msg(2, 1, 3), verdict{deliver: true, lost: 1}},
			{msg(1, 1, 2), verdict{deliver: true}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom("r")
			now := time.Now()
			for i, s := range tt.steps {
				if got := r.judge(&s.p, now); got != s.want {
					t.Fatalf("step %d (%+v): %+v, want %+v", i, s.p, got, s.want)
				}
			}
		})
	}
}

func TestRoomPeersBounded(t *testing.T) {
	r := newRoom("r")
	now := time.Now()
	for o := uint64(1); o <= maxPeers; o++ {
		r.judge(&packet{kind: kindHeartbeat, origin: o, members: 1}, now)
	}
	// Untracked beyond the bound: delivered, never a duplicate.
	p := packet{kind: kindMessage, origin: maxPeers + 1, stream: 1, seq: 1}
	for range 2 {
		if v := r.judge(&p, now); v != (verdict{deliver: true}) {
			t.Fatalf("untracked: %+v", v)
		}
	}
	if n := r.presence(now.Add(-time.Second)); n != maxPeers {
		t.Fatalf("presence %d", n)
	}
	if n := r.presence(now); n != 0 {
		t.Fatalf("presence after the beats: %d", n)
	}
	if n := r.expire(now.Add(time.Nanosecond)); n != 0 {
		t.Fatalf("%d peers left after expiry", n)
	}
}
