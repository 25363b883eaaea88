package rooms

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// room is one room's local members and what this instance knows of the
// other instances' members (peers).
type room struct {
	name string

	// The members. Joins and leaves edit them under mu and mark them
	// changed; list rebuilds the snapshot that messages go to only when
	// they changed, so a burst of joins costs no copies.
	mu      sync.Mutex
	members []netserver.ClientNum
	index   map[netserver.ClientNum]int // position in members
	changed atomic.Bool
	current atomic.Pointer[[]netserver.ClientNum]
	count   atomic.Int32

	// gone is set when the room was emptied and taken off the Hub (under
	// the Hub's mu): a late delivery to it goes nowhere.
	gone atomic.Bool

	// sub is the room's bus subscription; the publisher goroutine sets
	// and ends it.
	sub Subscription

	// peers are the other instances heard from on this room, by
	// instance id: touched by the bus's delivery goroutine, by Presence
	// and by the publisher's expiry.
	pmu   sync.Mutex
	peers map[uint64]*peer
}

// peer is what a room knows of one other instance.
type peer struct {
	stream  uint32    // the instance's current numbering of the room
	last    uint64    // the last number seen in stream
	members uint32    // its local members, from its last heartbeat
	beat    time.Time // its last heartbeat
	heard   time.Time // its last message or heartbeat
}

func newRoom(name string) *room {
	return &room{name: name, index: map[netserver.ClientNum]int{}, peers: map[uint64]*peer{}}
}

// add makes c a member; it reports false if c already was one.
func (r *room) add(c netserver.ClientNum) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.index[c]; ok {
		return false
	}
	r.index[c] = len(r.members)
	r.members = append(r.members, c)
	r.changed.Store(true)
	r.count.Store(int32(len(r.members)))
	return true
}

// remove drops c; it returns the members left, and false if c was not
// one.
func (r *room) remove(c netserver.ClientNum) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.index[c]
	if !ok {
		return len(r.members), false
	}
	last := len(r.members) - 1
	moved := r.members[last]
	r.members[i] = moved
	r.index[moved] = i
	r.members = r.members[:last]
	delete(r.index, c)
	r.changed.Store(true)
	r.count.Store(int32(last))
	return last, true
}

// list returns the members now; the slice must not be modified.
func (r *room) list() []netserver.ClientNum {
	if r.changed.Load() {
		r.mu.Lock()
		if r.changed.Load() {
			l := append([]netserver.ClientNum(nil), r.members...)
			r.current.Store(&l)
			r.changed.Store(false)
		}
		r.mu.Unlock()
	}
	if l := r.current.Load(); l != nil {
		return *l
	}
	return nil
}

// maxPeers bounds the instances a room keeps numbers for. Beyond it
// (a bus with that many instances, or one that forges origins) messages
// from new instances are delivered untracked: no duplicate or loss
// detection for them.
const maxPeers = 4096

// verdict is what a room makes of a packet from another instance.
type verdict struct {
	deliver bool   // a message to hand to the members
	dup     bool   // a number already seen, or an old stream
	lost    uint64 // numbers skipped before this one
}

// judge records packet p from another instance, heard at now.
func (r *room) judge(p *packet, now time.Time) verdict {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	pe := r.peers[p.origin]
	if pe == nil {
		if len(r.peers) >= maxPeers {
			return verdict{deliver: p.kind == kindMessage}
		}
		pe = &peer{}
		r.peers[p.origin] = pe
	}
	pe.heard = now
	if p.kind == kindHeartbeat {
		pe.members, pe.beat = p.members, now
	}
	switch {
	case p.stream == 0: // a heartbeat from an instance that has sent nothing
		return verdict{}
	case p.stream < pe.stream:
		return verdict{dup: p.kind == kindMessage}
	case p.stream > pe.stream:
		// The first we hear of this stream: what came before it, if
		// anything, is unknown, not lost.
		pe.stream, pe.last = p.stream, p.seq
		return verdict{deliver: p.kind == kindMessage}
	case p.seq <= pe.last:
		return verdict{dup: p.kind == kindMessage}
	}
	lost := p.seq - pe.last
	pe.last = p.seq
	if p.kind == kindHeartbeat {
		return verdict{lost: lost} // the last lost messages were the stream's end
	}
	return verdict{deliver: true, lost: lost - 1}
}

// presence returns the members the other instances reported in their
// heartbeats since after.
func (r *room) presence(after time.Time) int {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	n := 0
	for _, pe := range r.peers {
		if pe.beat.After(after) {
			n += int(pe.members)
		}
	}
	return n
}

// expire forgets the instances not heard from since before; it returns
// how many are left.
func (r *room) expire(before time.Time) int {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	for id, pe := range r.peers {
		if pe.heard.Before(before) {
			delete(r.peers, id)
		}
	}
	return len(r.peers)
}

// heardSince reports whether every instance heard after before has been
// heard after since.
func (r *room) heardSince(before, since time.Time) bool {
	r.pmu.Lock()
	defer r.pmu.Unlock()
	for _, pe := range r.peers {
		if pe.heard.After(before) && !pe.heard.After(since) {
			return false
		}
	}
	return true
}
