package websocket

import (
	"fmt"
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
	f, _ := s.frames.Get().(*sharedFrame)
	if f == nil {
		f = &sharedFrame{s: s}
	}
	f.b = AppendFrame(f.b[:0], op, msg)
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
// smaller than QueuedWriteCost is copied instead to the clients whose last
// write was a copy too (or that have nothing queued), coalesced with it:
// cheaper than sharing it, and many small messages leave in one iovec. The
// clients are grouped by loop and each loop gets its share in one hand-over;
// on the caller's own loop the writes are queued before Broadcast returns.
//
// Client numbers that are not open WebSocket connections, or whose close
// handshake has begun, are skipped. A client whose send queue cannot take
// the message (Config.HardQueuedBytes, counting QueuedWriteCost per frame)
// is closed with 1008 instead, or dropped at once when its queue is
// already over the limit; it never holds the others back. clients is not
// used after Broadcast returns.
func (s *Server) Broadcast(clients []netserver.ClientNum, op Opcode, msg []byte) error {
	if op != OpText && op != OpBinary {
		return ErrOpcode
	}
	if len(clients) == 0 {
		return nil
	}
	// Which loops have clients, and is one of them ours?
	var mask [4]uint64 // up to 256 loops
	for _, c := range clients {
		if l := c.Loop(); l < len(s.loops) {
			mask[l/64] |= 1 << (l % 64)
		}
	}
	f := s.newFrame(op, msg)
	defer f.release()
	var list *clientList
	var err error
	for l := range s.loops {
		if mask[l/64]&(1<<(l%64)) == 0 {
			continue
		}
		f.refs.Add(1)
		if s.ns.OnLoopIndex(l) {
			s.broadcastLoop(l, clients, f)
			continue
		}
		if list == nil {
			list = s.newClientList(clients)
		}
		j := s.newJob(l, list, f)
		if e := s.ns.RunOnLoop(l, j.run); e != nil {
			j.done()
			err = fmt.Errorf("websocket: broadcast to loop %d: %w", l, e)
		}
	}
	if list != nil {
		list.release()
	}
	return err
}

// clientList is a copy of a Broadcast's clients that the loops it is
// handed to share; the last release puts it back in the pool.
type clientList struct {
	refs atomic.Int32
	c    []netserver.ClientNum
	s    *Server
}

func (s *Server) newClientList(clients []netserver.ClientNum) *clientList {
	cl, _ := s.lists.Get().(*clientList)
	if cl == nil {
		cl = &clientList{s: s}
	}
	cl.c = append(cl.c[:0], clients...)
	cl.refs.Store(1)
	return cl
}

func (cl *clientList) release() {
	if cl.refs.Add(-1) == 0 {
		if cap(cl.c) > 1<<16 {
			cl.c = nil
		}
		cl.s.lists.Put(cl)
	}
}

// broadcastJob is one loop's share of a Broadcast from another goroutine.
// Jobs, client lists and frames are pooled, so that handing a broadcast to
// another loop leaves no garbage behind (a chat flood would otherwise grow
// the heap with it).
type broadcastJob struct {
	s    *Server
	loop int
	list *clientList
	f    *sharedFrame
	run  func() // j.exec, bound once
}

func (s *Server) newJob(l int, list *clientList, f *sharedFrame) *broadcastJob {
	j, _ := s.jobs.Get().(*broadcastJob)
	if j == nil {
		j = &broadcastJob{s: s}
		j.run = j.exec
	}
	list.refs.Add(1)
	j.loop, j.list, j.f = l, list, f
	return j
}

// exec runs on the job's loop.
func (j *broadcastJob) exec() {
	j.f.refs.Add(1) // broadcastLoop drops one; done drops the job's
	j.s.broadcastLoop(j.loop, j.list.c, j.f)
	j.done()
}

// done drops the job's references and recycles it.
func (j *broadcastJob) done() {
	j.f.release()
	j.list.release()
	j.list, j.f = nil, nil
	j.s.jobs.Put(j)
}

// broadcastLoop queues frame f to the clients of loop l, on that loop, and
// drops the loop's reference to f.
func (s *Server) broadcastLoop(l int, clients []netserver.ClientNum, f *sharedFrame) {
	defer f.release()
	for _, c := range clients {
		if c.Loop() != l {
			continue
		}
		cn := s.conn(c)
		if cn == nil || cn.state != connOpen {
			continue
		}
		if len(f.b) < QueuedWriteCost && (cn.lastCopy || s.ns.Queued(c) == 0) {
			// A small frame costs less copied, coalesced with the
			// client's other copies, than shared with its bookkeeping;
			// and many go out in one iovec rather than one each.
			if s.admit(cn, len(f.b), 0) {
				s.send(cn, f.b)
			}
			continue
		}
		if !s.admit(cn, len(f.b), 1) {
			continue
		}
		f.refs.Add(1)
		cn.push(pending{frame: f})
		if err := s.ns.RawWrite(c, f.b); err != nil {
			cn.pending = cn.pending[:len(cn.pending)-1]
			f.release()
			continue
		}
		cn.handed += uint64(len(f.b))
		cn.lastCopy = false
	}
}
