package websocket

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/uringnet/uringnet/netserver"
)

// maxPooledFrame is the largest shared frame buffer kept for reuse.
const maxPooledFrame = 64 << 10

// sharedFrame is a frame encoded once and written to many connections: a
// reference counter over the bytes. Every write of it to a connection holds
// one reference (netserver keeps the slice until the write's completion),
// each loop's share of a broadcast holds one while it queues the writes, and
// the broadcaster holds one until it has handed the work to every loop. The
// last release puts the buffer back in the pool.
type sharedFrame struct {
	refs atomic.Int32
	b    []byte
	s    *Server
}

func (s *Server) newFrame(op Opcode, msg []byte) *sharedFrame {
	f := s.getFrame()
	f.b = AppendFrame(f.b[:0], op, msg)
	return f
}

// frameOf returns a shared frame holding a copy of the encoded frame b.
func (s *Server) frameOf(b []byte) *sharedFrame {
	f := s.getFrame()
	f.b = append(f.b[:0], b...)
	return f
}

func (s *Server) getFrame() *sharedFrame {
	f, _ := s.frames.Get().(*sharedFrame)
	if f == nil {
		f = &sharedFrame{s: s}
	}
	f.refs.Store(1)
	s.nframes.Add(1)
	return f
}

// release drops one reference; the last one recycles the frame.
func (f *sharedFrame) release() {
	switch n := f.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("websocket: shared frame released too often")
	}
	s := f.s
	s.nframes.Add(-1)
	if cap(f.b) > maxPooledFrame {
		f.b = nil
	}
	s.frames.Put(f)
}

// Broadcast sends msg as one message of type op (OpText or OpBinary) to
// every connection in clients. The frame is encoded once, uncompressed
// (valid with or without permessage-deflate), into a buffer that every
// send shares and that is released after the last send completed. A frame
// smaller than QueuedWriteCost is copied instead to the clients that have
// writes queued, coalesced with their other copies: cheaper than sharing
// it, and many small messages leave in one iovec. (To a client with
// nothing queued a copy would cost a 16 KiB send buffer of its own, which
// made a broadcast to 10,000 idle clients 7 times slower.)
//
// The clients are grouped by loop; on the caller's own loop the writes are
// queued before Broadcast returns, and each other loop gets its share in a
// batch with the other broadcasts handed to it before it ran (see
// handover), so a flood of broadcasts costs neither one loop command nor
// one allocation per message. Broadcasts keep their order with each other
// and with the Server's other calls. A loop that has fallen more than
// MaxHandoverBytes behind gets no share: Broadcast returns ErrBusy and
// that loop's clients miss the message, while the others get it.
//
// Client numbers that are not open WebSocket connections, or whose close
// handshake has begun, are skipped. A client whose send queue cannot take
// the message (Config.HardQueuedBytes, counting QueuedWriteCost per shared
// frame) is closed with 1008 instead, or dropped at once when its queue is
// already over the limit; it never holds the others back. clients is not
// used after Broadcast returns.
func (s *Server) Broadcast(clients []netserver.ClientNum, op Opcode, msg []byte) error {
	if op != OpText && op != OpBinary {
		return ErrOpcode
	}
	if len(clients) == 0 {
		return nil
	}
	// Which loops have clients?
	var mask [4]uint64 // up to 256 loops
	for _, c := range clients {
		if l := c.Loop(); l < len(s.loops) {
			mask[l/64] |= 1 << (l % 64)
		}
	}
	// A small frame is encoded into a pooled buffer and copied wherever
	// it goes; a larger one into a shared frame.
	var f *sharedFrame
	var b []byte
	if len(msg)+MaxHeaderSize <= QueuedWriteCost {
		small, _ := s.smalls.Get().(*[QueuedWriteCost]byte)
		if small == nil {
			small = new([QueuedWriteCost]byte)
		}
		defer s.smalls.Put(small)
		b = AppendFrame(small[:0], op, msg)
	} else {
		f = s.newFrame(op, msg)
		defer f.release()
		b = f.b
	}
	var err error
	for l := range s.loops {
		if mask[l/64]&(1<<(l%64)) == 0 {
			continue
		}
		if f != nil {
			f.refs.Add(1) // the loop's share
		}
		if s.ns.OnLoopIndex(l) {
			s.broadcastLoop(l, clients, b, f)
			continue
		}
		switch e := s.handOver(l, clients, b, f); {
		case e == nil:
		case errors.Is(e, ErrBusy):
			err = e // as it is: a flood may get it for every message
		default:
			err = fmt.Errorf("websocket: broadcast to loop %d: %w", l, e)
		}
	}
	return err
}

// handover collects the shares of the Broadcasts made off a loop for that
// loop, in batches: the first share of a batch posts it to the loop
// (RunOnLoop), and the shares that come before it runs join it. So a flood
// of broadcasts costs one command per batch rather than one per message,
// and a batch keeps its buffers (small frames and client numbers are
// copied into them): handing broadcasts over leaves no garbage behind.
// The Server's other calls handed to the loop (Send, Write, Close, ...)
// close the open batch, so that they keep their order with the broadcasts
// around them.
type handover struct {
	mu      sync.Mutex
	open    *batch // posted, not yet run: Broadcast may still add to it
	free    []*batch
	pending int // bytes (memory) of the shares handed over and not yet run
}

// MaxHandoverBytes bounds, per loop, the memory of the broadcast shares
// handed to it and not yet run (frames, client numbers, bookkeeping). A
// loop that falls that far behind the goroutines (or the other loops)
// broadcasting to it does not get more: Broadcast returns ErrBusy for its
// share, and its clients miss the message. Without the bound, a client
// flooding a room on one loop could make another loop's backlog, and the
// memory, grow without end. It is large: a loop that is merely starved of
// CPU for a moment in a burst must not lose messages.
const MaxHandoverBytes = 8 << 20

// shareCost is the memory a share holds besides its frame and clients.
const shareCost = 64

// batch is a run of broadcast shares for one loop.
type batch struct {
	s       *Server
	loop    int
	items   []share
	data    []byte                // the small frames, back to back
	clients []netserver.ClientNum // the clients of every share, back to back
	run     func()                // b.exec, bound once
}

// share is one Broadcast's frame and clients, for one loop: f, or when f
// is nil data[off:end], to clients[c0:c1].
type share struct {
	f        *sharedFrame
	off, end int32
	c0, c1   int32
	cost     int32 // counted in handover.pending
}

// handOver gives loop l its share of a broadcast: frame b to the clients
// of clients on l. f, when not nil, is b's shared frame, whose reference
// for l the share takes over.
func (s *Server) handOver(l int, clients []netserver.ClientNum, b []byte, f *sharedFrame) error {
	h := &s.hand[l]
	h.mu.Lock()
	bt := h.open
	fresh := bt == nil
	if fresh {
		if n := len(h.free); n > 0 {
			bt = h.free[n-1]
			h.free = h.free[:n-1]
		} else {
			bt = &batch{s: s, loop: l}
			bt.run = bt.exec
		}
		h.open = bt
	}
	cost := shareCost + len(b) + 8*len(clients) // clients: at most; a share takes its loop's only
	if h.pending+cost > MaxHandoverBytes {
		if fresh {
			h.open = nil
			h.free = append(h.free, bt)
		}
		h.mu.Unlock()
		if f != nil {
			f.release()
		}
		s.cnt.dropped.Add(1)
		return ErrBusy
	}
	h.pending += cost
	sh := share{f: f, c0: int32(len(bt.clients)), cost: int32(cost)}
	for _, c := range clients {
		if c.Loop() == l {
			bt.clients = append(bt.clients, c)
		}
	}
	sh.c1 = int32(len(bt.clients))
	if f == nil {
		sh.off = int32(len(bt.data))
		bt.data = append(bt.data, b...)
		sh.end = int32(len(bt.data))
	}
	bt.items = append(bt.items, sh)
	h.mu.Unlock()
	if !fresh {
		return nil
	}
	err := s.ns.RunOnLoop(l, bt.run)
	if err != nil {
		// The loop is gone: drop the batch, with whatever joined it.
		h.mu.Lock()
		if h.open == bt {
			h.open = nil
		}
		for _, it := range bt.items {
			if it.f != nil {
				it.f.release()
			}
			h.pending -= int(it.cost)
		}
		bt.reset()
		h.mu.Unlock()
	}
	return err
}

// maxBatchRetained bounds the buffer memory an idle batch keeps: what a
// batch can hold under MaxHandoverBytes, with the slack of slice growth,
// so that a loop that is behind a flood does not reallocate every batch.
const maxBatchRetained = 2 * MaxHandoverBytes

// reset empties b, keeping its buffers unless a burst made them large.
func (b *batch) reset() {
	clear(b.items)
	b.items, b.data, b.clients = b.items[:0], b.data[:0], b.clients[:0]
	if 32*cap(b.items)+cap(b.data)+8*cap(b.clients) > maxBatchRetained {
		b.items, b.data, b.clients = nil, nil, nil
	}
}

// closeBatch ends loop l's open batch: what is handed to l next runs after
// what was handed before.
func (s *Server) closeBatch(l int) {
	h := &s.hand[l]
	h.mu.Lock()
	h.open = nil
	h.mu.Unlock()
}

// exec runs a batch on its loop.
func (b *batch) exec() {
	s := b.s
	h := &s.hand[b.loop]
	h.mu.Lock()
	if h.open == b {
		h.open = nil
	}
	h.mu.Unlock()
	// Nothing joins b any more: it is ours until it goes back.
	done := 0
	for _, it := range b.items {
		frame := b.data[it.off:it.end]
		if it.f != nil {
			frame = it.f.b
		}
		s.broadcastLoop(b.loop, b.clients[it.c0:it.c1], frame, it.f)
		done += int(it.cost)
	}
	b.reset()
	h.mu.Lock()
	h.pending -= done
	if len(h.free) < 2 { // one open, one running: more are never needed
		h.free = append(h.free, b)
	}
	h.mu.Unlock()
}

// broadcastLoop queues frame b to the clients of loop l, on that loop. f,
// when not nil, is b's shared frame, and the loop's reference to it is
// dropped; without it, b is the caller's and a shared frame is made from
// it if a client needs one.
func (s *Server) broadcastLoop(l int, clients []netserver.ClientNum, b []byte, f *sharedFrame) {
	if f != nil {
		defer f.release()
	}
	var made *sharedFrame
	for _, c := range clients {
		if c.Loop() != l {
			continue
		}
		cn := s.conn(c)
		if cn == nil || cn.state != connOpen {
			continue
		}
		if len(b) < QueuedWriteCost && s.ns.Queued(c) > 0 {
			// A small frame costs less copied, coalesced with the
			// client's other copies, than shared with its bookkeeping;
			// and many go out in one iovec rather than one each. (After a
			// shared write, a copy would start a buffer of its own.)
			if s.admit(cn, len(b), 0) {
				s.send(cn, b)
			}
			continue
		}
		if !s.admit(cn, len(b), 1) {
			continue
		}
		sf := f
		if sf == nil {
			if made == nil {
				made = s.frameOf(b)
			}
			sf = made
		}
		sf.refs.Add(1)
		cn.push(pending{frame: sf})
		if err := s.ns.RawWrite(c, sf.b); err != nil {
			cn.pending = cn.pending[:len(cn.pending)-1]
			sf.release()
			continue
		}
		cn.handed += uint64(len(sf.b))
		cn.lastCopy = false
	}
	if made != nil {
		made.release()
	}
}
