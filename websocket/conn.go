package websocket

import (
	"errors"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// connState is where a connection is in its life.
type connState uint8

const (
	connOpen      connState = iota // messages flow both ways
	connCloseSent                  // our close frame is out; waiting for the peer's
	connClosing                    // the handshake is over or failed; waiting for the TCP close
)

// conn is the WebSocket state of one connection, kept small: an idle
// connection holds no buffers.
type conn struct {
	c        netserver.ClientNum
	dec      Decoder
	pending  []pending // writes with a callback, in the order netserver completes them
	head     int       // first live entry of pending
	lastRead int64     // unix nanos of the last byte read
	pingAt   int64     // unix nanos of our idle ping, 0 when none is waiting
	deadline int64     // unix nanos: cut the connection off after this (closing states)
	msgStart int64     // unix nanos when the message being received began, 0 when none
	handed   uint64    // bytes handed to netserver in all
	lastSent uint64    // bytes the kernel had taken at the last tick
	stallAt  int64     // unix nanos since when the queue is over the soft limit without progress, 0 when not
	lastCopy bool      // the last write queued was a copy (netserver.Send): the next one coalesces with it
	state    connState
	msgOp    Opcode // type of the message being delivered
	deflate  bool   // permessage-deflate negotiated
}

// pending is one write that owes a release or a callback when netserver
// reports it done: a shared broadcast frame or a user's Write/Writev.
type pending struct {
	frame *sharedFrame
	w     *userWrite
}

// userWrite carries a Write or Writev to its callback: the frame header
// and the iovecs handed to netserver live here until the write is done.
type userWrite struct {
	hdr  [MaxHeaderSize]byte
	bufs [][]byte // what netserver writes: header, then payload
	data []byte   // the user's data (Write)
	user [][]byte // the user's buffers (Writev)
	vec  bool
	comp []byte // compressed payload (permessage-deflate)
}

func (cn *conn) push(p pending) { cn.pending = append(cn.pending, p) }

// waiting returns the number of pending writes.
func (cn *conn) waiting() int { return len(cn.pending) - cn.head }

// pop removes the oldest pending write.
func (cn *conn) pop() (pending, bool) {
	if cn.head == len(cn.pending) {
		return pending{}, false
	}
	p := cn.pending[cn.head]
	cn.pending[cn.head] = pending{}
	cn.head++
	if cn.head == len(cn.pending) {
		cn.head = 0
		cn.pending = cn.pending[:0]
		if cap(cn.pending) > 1024 {
			cn.pending = nil // a burst is over: do not keep its array
		}
	}
	return p, true
}

// rawHandler is the Server seen as the netserver.Handler of detached
// connections.
type rawHandler Server

// Accept is never called for a detached connection.
func (r *rawHandler) Accept(netserver.ClientNum) {}

// RawRead decodes the bytes a connection sent.
func (r *rawHandler) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	s := (*Server)(r)
	cn := s.conn(c)
	if cn == nil {
		return
	}
	if failed {
		if cn.state != connClosing {
			s.h.WebSocketRead(nil, c, true)
		}
		return
	}
	now := time.Now().UnixNano()
	cn.lastRead = now
	cn.pingAt = 0
	if cn.state == connClosing {
		return // discard until the peer closes (or the close timeout)
	}
	if cn.msgStart == 0 {
		cn.msgStart = now // a message (or frame) begins, or this completes one
	}
	for len(data) > 0 {
		ev, n, err := cn.dec.Next(data)
		data = data[n:]
		if err != nil {
			s.fail(cn, err)
			return
		}
		switch ev.Kind {
		case EventNone:
			data = nil
		case EventMessage:
			cn.msgStart = now // the next one begins now at the earliest
			cn.msgOp = ev.Op
			s.h.WebSocketRead(ev.Payload, c, false)
			cn.msgOp = 0
			if s.conn(c) != cn || cn.state == connClosing {
				return
			}
		case EventPing:
			if cn.state == connOpen {
				s.sendControl(cn, OpPong, ev.Payload)
			}
		case EventClose:
			s.peerClosed(cn, ev)
			return
		}
	}
	if !cn.dec.partial() {
		cn.msgStart = 0
	}
}

// peerClosed answers the peer's close frame: with ours (echoing its code)
// when we had not sent one, then the TCP close.
func (s *Server) peerClosed(cn *conn, ev Event) {
	if cn.state == connOpen {
		ls := &s.loops[cn.c.Loop()]
		code := ev.CloseCode
		ls.scratch = AppendCloseFrame(ls.scratch[:0], code, "")
		s.send(cn, ls.scratch)
	}
	cn.state = connClosing
	cn.deadline = time.Now().UnixNano() + int64(s.cfg.CloseTimeout)
	s.ns.RawClose(cn.c) // after the writes queued before
}

// fail fails the connection after a protocol error: a close frame with the
// error's code, the write side shut down after it, and the input discarded
// until the peer closes or the close timeout passes.
func (s *Server) fail(cn *conn, err error) {
	code, reason := CloseProtocolError, "protocol error"
	var pe *ProtocolError
	if errors.As(err, &pe) {
		code, reason = pe.Code, pe.Reason
	}
	s.cnt.protoErrs.Add(1)
	c := cn.c
	wasOpen := cn.state != connClosing
	if cn.state == connOpen {
		ls := &s.loops[c.Loop()]
		ls.scratch = AppendCloseFrame(ls.scratch[:0], code, reason)
		s.send(cn, ls.scratch)
	}
	cn.state = connClosing
	cn.deadline = time.Now().UnixNano() + int64(s.cfg.CloseTimeout)
	if err := s.ns.ShutdownWrite(c); err != nil {
		s.ns.RawClose(c)
	}
	if wasOpen {
		s.h.WebSocketRead(nil, c, true)
	}
}

// RawReadv is not used by the WebSocket layer.
func (r *rawHandler) RawReadv([][]byte, netserver.ClientNum, bool) {}

// RawWrite completes a broadcast send or a Write.
func (r *rawHandler) RawWrite(_ []byte, c netserver.ClientNum, failed bool) {
	(*Server)(r).writeDone(c, failed)
}

// RawWritev completes a Write or Writev.
func (r *rawHandler) RawWritev(_ [][]byte, c netserver.ClientNum, failed bool) {
	(*Server)(r).writeDone(c, failed)
}

// writeDone settles the oldest pending write of c: netserver reports
// writes done in the order they were queued.
func (s *Server) writeDone(c netserver.ClientNum, failed bool) {
	cn := s.conn(c)
	if cn == nil {
		return
	}
	if p, ok := cn.pop(); ok {
		s.settle(c, p, failed)
	}
}

// settle releases a pending write's frame or calls its callback.
func (s *Server) settle(c netserver.ClientNum, p pending, failed bool) {
	if p.frame != nil {
		p.frame.release()
		return
	}
	w := p.w
	data, user, vec := w.data, w.user, w.vec
	ls := &s.loops[c.Loop()]
	ls.putWrite(w)
	if vec {
		s.h.WebSocketWritev(user, c, failed)
	} else {
		s.h.WebSocketWrite(data, c, failed)
	}
}

// RawClose ends the connection: what is still pending fails, and
// WebSocketClose is called.
func (r *rawHandler) RawClose(c netserver.ClientNum, cause error) {
	s := (*Server)(r)
	cn := s.conn(c)
	if cn == nil {
		return
	}
	for {
		p, ok := cn.pop()
		if !ok {
			break
		}
		s.settle(c, p, true)
	}
	if cap(cn.dec.buf) > retainLimit || cap(cn.dec.inflated) > retainLimit {
		cn.dec = Decoder{}
	}
	s.states.Delete(c)
	s.conns.Add(-1)
	s.h.WebSocketClose(c)
}

// EventTrigger is not used by the WebSocket layer.
func (r *rawHandler) EventTrigger(netserver.ClientNum, uint64) {}

// EventErrorClose is not used by the WebSocket layer.
func (r *rawHandler) EventErrorClose(netserver.ClientNum, uint64) {}

// ticker is the Server seen as a netserver.Ticker: idle pings and the
// close timeouts.
type ticker Server

// Tick pings idle connections, closes those that did not answer, those
// whose send queue stalled over the soft limit and those that take too
// long to send a message, and cuts off those whose close handshake timed
// out.
func (t *ticker) Tick(loop int, now time.Time) {
	s := (*Server)(t)
	n := now.UnixNano()
	idle := int64(s.cfg.IdleTimeout)
	s.states.ForEach(loop, func(_ netserver.ClientNum, cn *conn) {
		if cn.state == connOpen && (s.stalled(cn, n) || s.messageTimedOut(cn, n)) {
			return
		}
		switch {
		case cn.state != connOpen:
			if n > cn.deadline {
				s.ns.Abort(cn.c)
			}
		case idle <= 0:
		case cn.pingAt != 0:
			if n-cn.pingAt >= idle {
				s.closeConn(cn, CloseGoingAway, "idle timeout")
			}
		case n-cn.lastRead >= idle:
			cn.pingAt = n
			s.sendControl(cn, OpPing, nil)
		}
	})
}

// stalled applies the slow consumer rule (Config.StallTimeout) to an open
// connection at tick time n, and reports whether it closed it.
func (s *Server) stalled(cn *conn, n int64) bool {
	stall := int64(s.cfg.StallTimeout)
	if stall <= 0 {
		return false
	}
	q := s.ns.Queued(cn.c)
	if q < 0 {
		return false
	}
	sent := cn.handed - uint64(q)
	progress := sent != cn.lastSent
	cn.lastSent = sent
	switch {
	case q+QueuedWriteCost*cn.waiting() <= s.cfg.MaxQueuedBytes:
		cn.stallAt = 0
	case progress || cn.stallAt == 0:
		cn.stallAt = n
	case n-cn.stallAt >= stall:
		s.cnt.slow.Add(1)
		s.log.Debug("websocket: slow consumer", "client", cn.c, "queued", q, "writes", cn.waiting(),
			"stalled", time.Duration(n-cn.stallAt))
		s.closeConn(cn, ClosePolicyViolation, "slow consumer")
		return true
	}
	return false
}

// messageTimedOut applies Config.MessageTimeout to an open connection at
// tick time n, and reports whether it closed it.
func (s *Server) messageTimedOut(cn *conn, n int64) bool {
	limit := int64(s.cfg.MessageTimeout)
	if limit <= 0 || cn.msgStart == 0 || n-cn.msgStart < limit {
		return false
	}
	s.cnt.timeouts.Add(1)
	s.log.Debug("websocket: message timeout", "client", cn.c, "after", time.Duration(n-cn.msgStart))
	s.closeConn(cn, ClosePolicyViolation, "message timeout")
	return true
}

// sendControl sends a control frame (ping or pong) on the loop, subject to
// the send queue limit.
func (s *Server) sendControl(cn *conn, op Opcode, payload []byte) {
	ls := &s.loops[cn.c.Loop()]
	if !s.admit(cn, 2+len(payload), 0) {
		return
	}
	ls.scratch = AppendFrame(ls.scratch[:0], op, payload)
	s.send(cn, ls.scratch)
}

// send copies b into cn's output (netserver.Send), counting its bytes.
func (s *Server) send(cn *conn, b []byte) error {
	cn.handed += uint64(len(b))
	cn.lastCopy = true
	return s.ns.Send(cn.c, b)
}

// admit reports whether n more bytes in writes more writes with a callback
// fit in cn's send queue (Config.HardQueuedBytes). When they do not, the
// connection is closed with 1008.
func (s *Server) admit(cn *conn, n, writes int) bool {
	q := s.ns.Queued(cn.c)
	if q < 0 {
		return false
	}
	if q == 0 {
		return true // one message of any size always fits
	}
	cost := q + QueuedWriteCost*cn.waiting()
	if cost+n+QueuedWriteCost*writes <= s.cfg.HardQueuedBytes {
		return true
	}
	s.overflow(cn, cost)
	return false
}

// overflow closes a connection whose send queue is full: with a 1008 close
// frame queued behind its backlog (a close frame may exceed the limit), or
// at once when the backlog is already over the limit (a single large
// message), since the close frame would wait behind it for nothing.
func (s *Server) overflow(cn *conn, cost int) {
	s.cnt.overflows.Add(1)
	if cost > s.cfg.HardQueuedBytes {
		s.ns.Abort(cn.c)
		return
	}
	s.closeConn(cn, ClosePolicyViolation, "send queue full")
}

// closeConn starts the close handshake from our side: a close frame, then
// the peer has CloseTimeout to answer before it is cut off.
func (s *Server) closeConn(cn *conn, code CloseCode, reason string) {
	if cn.state != connOpen {
		return
	}
	ls := &s.loops[cn.c.Loop()]
	ls.scratch = AppendCloseFrame(ls.scratch[:0], code, reason)
	cn.state = connCloseSent
	cn.deadline = time.Now().UnixNano() + int64(s.cfg.CloseTimeout)
	if err := s.send(cn, ls.scratch); err != nil {
		s.ns.Abort(cn.c)
	}
}

// Close starts the close handshake with c: a close frame with code and
// reason (cut to fit 123 bytes) is sent after what was written before;
// the TCP connection is closed when the peer answers, or after
// Config.CloseTimeout. A zero code sends a close frame without a code.
// Writes after Close fail with ErrClosing. WebSocketClose follows once
// the connection is gone.
func (s *Server) Close(c netserver.ClientNum, code CloseCode, reason string) error {
	if !s.ns.OnLoop(c) {
		return s.post(c, func() { s.Close(c, code, reason) })
	}
	cn := s.conn(c)
	if cn == nil {
		return ErrClosed
	}
	s.closeConn(cn, code, reason)
	return nil
}

// post runs f on c's loop.
func (s *Server) post(c netserver.ClientNum, f func()) error {
	if c.Loop() >= len(s.loops) {
		return ErrClosed
	}
	s.closeBatch(c.Loop()) // keep the order with broadcasts handed over before
	return s.ns.RunOnLoop(c.Loop(), f)
}

// Send sends data as one message of type op (OpText or OpBinary) to c. It
// copies data (into the loop's output buffers) and has no callback: it is
// the call for small messages and echoes, and allocates nothing on the
// loop. Compressed when permessage-deflate was negotiated.
func (s *Server) Send(c netserver.ClientNum, op Opcode, data []byte) error {
	if op != OpText && op != OpBinary {
		return ErrOpcode
	}
	if !s.ns.OnLoop(c) {
		data = append([]byte(nil), data...)
		return s.post(c, func() { s.Send(c, op, data) })
	}
	cn := s.conn(c)
	if cn == nil {
		return ErrClosed
	}
	if cn.state != connOpen {
		return ErrClosing
	}
	ls := &s.loops[c.Loop()]
	payload, rsv1 := data, false
	if cn.deflate {
		ls.scratch = s.compressor(ls).Append(ls.scratch[:0], data)
		payload, rsv1 = ls.scratch, true
	}
	hdr := AppendFrameHeader(ls.hdr[:0], true, op, rsv1, len(payload), nil)
	if !s.admit(cn, len(hdr)+len(payload), 0) {
		return ErrQueueFull
	}
	if err := s.send(cn, hdr); err != nil {
		return err
	}
	return s.send(cn, payload)
}

// Write sends data as one message of type op to c without copying it:
// data must not change until WebSocketWrite(data, c, failed) reports the
// write done (it is called once, also when the write fails). With
// permessage-deflate the compressed copy is what waits.
func (s *Server) Write(c netserver.ClientNum, op Opcode, data []byte) error {
	return s.write(c, op, data, nil, false)
}

// Writev sends the concatenation of bufs as one message of type op to c
// without copying it; WebSocketWritev(bufs, c, failed) reports it done.
func (s *Server) Writev(c netserver.ClientNum, op Opcode, bufs [][]byte) error {
	return s.write(c, op, nil, bufs, true)
}

func (s *Server) write(c netserver.ClientNum, op Opcode, data []byte, bufs [][]byte, vec bool) error {
	if op != OpText && op != OpBinary {
		return ErrOpcode
	}
	if !s.ns.OnLoop(c) {
		return s.post(c, func() {
			if err := s.write(c, op, data, bufs, vec); err != nil {
				if vec {
					s.h.WebSocketWritev(bufs, c, true)
				} else {
					s.h.WebSocketWrite(data, c, true)
				}
			}
		})
	}
	cn := s.conn(c)
	if cn == nil {
		return ErrClosed
	}
	if cn.state != connOpen {
		return ErrClosing
	}
	ls := &s.loops[c.Loop()]
	w := ls.getWrite()
	w.data, w.user, w.vec = data, bufs, vec
	w.bufs = append(w.bufs[:0], nil)
	if cn.deflate {
		comp := s.compressor(ls)
		if vec {
			ls.scratch = ls.scratch[:0]
			for _, b := range bufs {
				ls.scratch = append(ls.scratch, b...)
			}
			w.comp = comp.Append(w.comp[:0], ls.scratch)
		} else {
			w.comp = comp.Append(w.comp[:0], data)
		}
		w.bufs = append(w.bufs, w.comp)
	} else if vec {
		w.bufs = append(w.bufs, bufs...)
	} else {
		w.bufs = append(w.bufs, data)
	}
	size := 0
	for _, b := range w.bufs[1:] {
		size += len(b)
	}
	w.bufs[0] = AppendFrameHeader(w.hdr[:0], true, op, cn.deflate, size, nil)
	if !s.admit(cn, len(w.bufs[0])+size, 1) {
		ls.putWrite(w)
		return ErrQueueFull
	}
	cn.push(pending{w: w})
	if err := s.ns.RawWritev(c, w.bufs); err != nil {
		cn.pending = cn.pending[:len(cn.pending)-1]
		ls.putWrite(w)
		return err
	}
	cn.handed += uint64(len(w.bufs[0]) + size)
	cn.lastCopy = false
	return nil
}

func (ls *loopState) getWrite() *userWrite {
	if n := len(ls.writes); n > 0 {
		w := ls.writes[n-1]
		ls.writes = ls.writes[:n-1]
		return w
	}
	return new(userWrite)
}

func (ls *loopState) putWrite(w *userWrite) {
	clear(w.bufs)
	w.bufs = w.bufs[:0]
	w.data, w.user = nil, nil
	if cap(w.comp) > retainLimit {
		w.comp = nil
	}
	if len(ls.writes) < 1024 {
		ls.writes = append(ls.writes, w)
	}
}
