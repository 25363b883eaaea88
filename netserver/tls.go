package netserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults of the TLS fields of Config left zero.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxHandshakes    = 256
)

// maxHandshakeInput bounds the ciphertext a client may send before its
// handshake ends (a ClientHello and a client's second flight need far less).
const maxHandshakeInput = 64 << 10

// sealBudget is the plaintext sealed for one send: four full records.
const sealBudget = 64 << 10

// Errors a TLS client is closed with (Handler.RawClose's cause, for
// clients whose handshake ended; the others never reached the Handler).
var (
	// ErrTLSHandshake wraps why a handshake failed.
	ErrTLSHandshake = errors.New("netserver: tls handshake failed")
	// ErrTLSHandshakeTimeout: the handshake did not end within HandshakeTimeout.
	ErrTLSHandshakeTimeout = errors.New("netserver: tls handshake timed out")
	// ErrTLSRecord wraps a record the server could not open (a bad MAC,
	// an oversized record, the stream ending mid-record, ...).
	ErrTLSRecord = errors.New("netserver: tls record error")
	// ErrTLSUnsupported: the client needs what the server does not do on
	// this connection (a KeyUpdate with kernel TLS, or while responses are
	// queued; a renegotiation).
	ErrTLSUnsupported = errors.New("netserver: tls: unsupported by the server")
	// ErrNotPlain is returned for what bypasses the record layer (RawRead,
	// groups) on a TLS client, kernel TLS or not: the kernel seals what is
	// sent (TX) but records are still opened in Go, and it refuses the
	// MSG_WAITALL of a group's sends (EOPNOTSUPP).
	ErrNotPlain = errors.New("netserver: the client speaks TLS")
)

// httpOnHTTPS is what a client that speaks plain HTTP to the TLS port
// gets, as net/http answers it.
const httpOnHTTPS = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

// tlsState is a TLS client's record layer.
type tlsState struct {
	w        tlsWire
	conn     *tls.Conn
	ready    bool  // the handshake ended well: the Handler has the client
	started  bool  // the handshake goroutine was started (or the client waits for one)
	deadline int64 // end of the handshake (unix nanos)
	ktxWant  bool  // try kernel TLS before the first application data
	ktx      bool  // the kernel seals what is sent
	notified bool  // close_notify was queued
	stalled  bool  // input (or its end) waits until the client is readable
	hsPaused bool  // reading stopped until the handshake ends (input past maxHandshakeInput)
	sealed   []byte
	sealOff  int
	sealText int // plaintext bytes sealed covers
}

// tlsCounters are a server's TLS counters, kept with atomics: handshake
// goroutines and loops both count.
type tlsCounters struct {
	handshakes, resumed, errors, timeouts, records atomic.Uint64
	kernelTX, kernelTXFailed, unsupported          atomic.Uint64
	handshaking                                    atomic.Int64
}

// newTLSClient gives an accepted connection its record layer.
func (l *loop) newTLSClient(c ClientNum, cl *client) {
	t := &tlsState{deadline: l.now + int64(l.s.cfg.HandshakeTimeout), ktxWant: l.s.cfg.Disable&FeatKTLS == 0}
	t.w.cond.L = &t.w.mu
	t.w.fd = int(cl.fd)
	t.w.post = func(b []byte) { l.post(command{op: cmdTLSWire, c: c, data: b}) }
	t.conn = tls.Server(&t.w, l.s.cfg.TLS)
	cl.tls = t
	l.handshaking++
	l.s.tlsCnt.handshaking.Add(1)
	if l.nextHSSweep == 0 {
		l.nextHSSweep = l.now + int64(l.hsSweepEvery())
	}
}

func (l *loop) hsSweepEvery() time.Duration {
	return min(l.s.cfg.HandshakeTimeout/4+10*time.Millisecond, time.Second)
}

// tlsInput takes ciphertext read from c.
func (l *loop) tlsInput(c ClientNum, cl *client, data []byte) {
	t := cl.tls
	if !t.ready {
		if t.w.pending()+len(data) > maxHandshakeInput {
			if !t.started {
				l.tlsHandshakeFailed(c, cl, fmt.Errorf("%w: a first record of more than %d bytes", ErrTLSHandshake, maxHandshakeInput))
				return
			}
			// Application data right behind the client's Finished (a TLS 1.3
			// client sends its request with it): stop reading until the
			// handshake has ended. What still arrives is bounded by the
			// socket's receive buffer.
			if !cl.paused {
				t.hsPaused = true
				l.setPaused(c, cl, true)
			}
		}
		t.w.push(data, false)
		if !t.started {
			l.tlsMaybeStart(c, cl)
		} else {
			l.handedOff = true // the handshake goroutine has input: let it run before the loop blocks
		}
		return
	}
	t.w.push(data, true)
	if l.readable(cl) {
		l.tlsRead(c, cl)
	} else {
		t.stalled = true
		l.stopReading(c, cl)
	}
	if cl = l.client(c); cl != nil && cl.tls != nil {
		cl.tls.w.keep()
	}
}

// tlsMaybeStart starts c's handshake once its first record is whole, and
// turns away at once what is not a TLS handshake.
func (l *loop) tlsMaybeStart(c ClientNum, cl *client) {
	t := cl.tls
	hdr := t.w.firstBytes(5)
	if len(hdr) > 0 && hdr[0] != 0x16 { // not a handshake record
		if hdr[0] >= 'A' && hdr[0] <= 'Z' {
			l.queueWrite(c, cl, writeItem{data: []byte(httpOnHTTPS), size: len(httpOnHTTPS), wire: true})
		}
		l.tlsHandshakeFailed(c, cl, fmt.Errorf("%w: the first record is not a handshake (first byte %#x)", ErrTLSHandshake, hdr[0]))
		return
	}
	if len(hdr) < 5 || t.w.pending() < 5+(int(hdr[3])<<8|int(hdr[4])) {
		return // wait for the rest of the ClientHello, without a goroutine
	}
	t.started = true
	if l.hsRunning >= l.hsMax {
		l.hsWaiting = append(l.hsWaiting, c)
		return
	}
	l.tlsStart(c, t)
}

// tlsStart runs c's handshake on its own goroutine: crypto/tls's
// handshake blocks, and its signatures and key exchange must not stall
// the loop. No context bounds it: the loop's sweep closes a client past
// HandshakeTimeout, and closing the wire ends a Read that waits (a
// context would cost crypto/tls a goroutine more per handshake).
func (l *loop) tlsStart(c ClientNum, t *tlsState) {
	l.hsRunning++
	l.handedOff = true
	t.w.setBlocking(true)
	go func() {
		err := t.conn.Handshake()
		t.w.setBlocking(false)
		l.post(command{op: cmdTLSDone, c: c, err: err})
	}()
}

// tlsStartWaiting starts the handshakes that wait for a slot.
func (l *loop) tlsStartWaiting() {
	for len(l.hsWaiting) > 0 && l.hsRunning < l.hsMax {
		c := l.hsWaiting[0]
		l.hsWaiting = l.hsWaiting[1:]
		if cl := l.client(c); cl != nil && cl.state == stOpen && cl.tls != nil && !cl.tls.ready {
			l.tlsStart(c, cl.tls)
		}
	}
	if len(l.hsWaiting) == 0 {
		l.hsWaiting = nil
	}
}

// tlsHandshakeDone is the end of c's handshake goroutine.
func (l *loop) tlsHandshakeDone(c ClientNum, cl *client, err error) {
	t := cl.tls
	if err != nil {
		if l.now >= t.deadline {
			l.tlsHandshakeTimedOut(c, cl)
			return
		}
		l.tlsHandshakeFailed(c, cl, fmt.Errorf("%w: %w", ErrTLSHandshake, err))
		return
	}
	t.ready = true
	l.handshaking--
	l.s.tlsCnt.handshakes.Add(1)
	if t.conn.ConnectionState().DidResume {
		l.s.tlsCnt.resumed.Add(1)
	}
	cl.lastActive = l.now
	if t.hsPaused {
		t.hsPaused = false
		l.setPaused(c, cl, false)
	}
	l.cbAccept(c)
	// After Accept: a reader of TLSHandshaking, then of the Handler's own
	// count, never misses the connection in between (http's Drain).
	l.s.tlsCnt.handshaking.Add(-1)
	if cl = l.client(c); cl != nil && cl.state == stOpen {
		// The client's first request may have come with its Finished.
		if l.readable(cl) {
			l.tlsRead(c, cl)
		} else {
			cl.tls.stalled = true
			l.stopReading(c, cl)
		}
	}
}

// tlsHandshakeFailed logs and closes a client whose handshake
// failed, after the alert crypto/tls wrote.
func (l *loop) tlsHandshakeFailed(c ClientNum, cl *client, err error) {
	l.log.Debug("netserver: tls handshake failed", "client", c, "err", err)
	l.closeGracefully(c, cl, err)
}

func (l *loop) tlsHandshakeTimedOut(c ClientNum, cl *client) {
	l.s.tlsCnt.timeouts.Add(1)
	l.log.Debug("netserver: tls handshake timed out", "client", c)
	l.closeClient(c, cl, ErrTLSHandshakeTimeout)
}

// tlsSweep closes the clients whose handshake outlived HandshakeTimeout,
// whether they wait for their ClientHello, for a handshake slot, or in
// the handshake (whose goroutine the context ends too).
func (l *loop) tlsSweep() {
	if l.nextHSSweep == 0 || l.now < l.nextHSSweep {
		return
	}
	if l.handshaking == 0 {
		l.nextHSSweep = 0
		return
	}
	l.nextHSSweep = l.now + int64(l.hsSweepEvery())
	l.forEachOpen(func(c ClientNum, cl *client) {
		if t := cl.tls; t != nil && !t.ready && l.now >= t.deadline {
			l.tlsHandshakeTimedOut(c, cl)
		}
	})
}

// tlsRead opens the records of c's input and delivers their plaintext
// while c is readable.
func (l *loop) tlsRead(c ClientNum, cl *client) {
	for {
		t := cl.tls
		n, err := t.conn.Read(l.plain)
		if out := t.w.takeOut(); len(out) > 0 && !l.tlsWrote(c, cl, out, err) {
			return
		}
		if n > 0 {
			cl.lastActive = l.now
			l.cbRead(l.plain[:n], c, false)
			if cl = l.client(c); cl == nil || cl.state != stOpen {
				return
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, errNoInput):
			return
		case err == io.EOF:
			l.closeGracefully(c, cl, ErrPeerClosed)
			return
		default:
			l.s.tlsCnt.records.Add(1)
			l.log.Debug("netserver: tls record error", "client", c, "err", err)
			l.closeGracefully(c, cl, fmt.Errorf("%w: %w", ErrTLSRecord, err))
			return
		}
		if !l.readable(cl) {
			cl.tls.stalled = true
			l.stopReading(c, cl)
			return
		}
	}
}

// tlsResume opens the input of a TLS client that waited to be readable.
// It reports false when c was closed.
func (l *loop) tlsResume(c ClientNum, cl *client) bool {
	if t := cl.tls; t.ready && t.stalled && l.readable(cl) {
		t.stalled = false
		l.tlsRead(c, cl)
		cl = l.client(c)
		return cl != nil && cl.state == stOpen
	}
	return true
}

// tlsWrote queues what crypto/tls wrote while opening records: an alert,
// or the answer to a KeyUpdate. It reports false when c was closed. The
// record's sequence number is the next one, so it must leave before any
// plaintext not sealed yet: with plaintext queued, or with the kernel
// sealing, c is closed instead (a KeyUpdate is rare; an alert ends the
// connection anyway).
func (l *loop) tlsWrote(c ClientNum, cl *client, out []byte, err error) bool {
	if err != nil {
		if !cl.tls.ktx {
			l.queueWrite(c, cl, writeItem{data: out, size: len(out), wire: true})
		}
		return true // the error closes c
	}
	if cl.tls.ktx || l.unsealedQueued(cl) {
		l.s.tlsCnt.unsupported.Add(1)
		l.log.Debug("netserver: tls: a post-handshake message the server cannot answer here; closing", "client", c)
		l.closeClient(c, cl, ErrTLSUnsupported)
		return false
	}
	l.queueWrite(c, cl, writeItem{data: out, size: len(out), wire: true})
	return true
}

// unsealedQueued reports whether c has plaintext queued that is not sealed yet.
func (l *loop) unsealedQueued(cl *client) bool {
	for i := range cl.outq {
		if it := &cl.outq[i]; !it.wire && it.cb != cbOp && it.size > it.done {
			return true
		}
		if cl.outq[i].cb == cbOp {
			return true
		}
	}
	return false
}

// tlsSend starts a send for a TLS client: the rest of a sealed batch, a
// handshake flight or alert (wire bytes), or a new sealed batch of the
// plaintext queued. It reports false when the plaintext send path applies
// (the kernel seals).
func (l *loop) tlsSend(c ClientNum, cl *client) bool {
	t := cl.tls
	var b []byte
	switch {
	case t.sealed != nil:
		b = t.sealed[t.sealOff:]
	case cl.outq[0].wire:
		it := &cl.outq[0]
		b = it.data[it.done:]
		cl.sendItems = 1
	case t.ktx:
		return false
	default:
		if l.ktlsFirstData(cl) {
			return false
		}
		b = l.seal(cl)
	}
	id, task, ok := l.tbl.Acquire()
	if !ok {
		l.starved = append(l.starved, c)
		return true
	}
	task.Kind = uint8(opSend)
	task.Client = uint64(c)
	task.Buf = b
	o := l.getOp()
	o.UserData = uint64(id)
	o.PrepSend(int(cl.fd), b, unix.MSG_NOSIGNAL)
	cl.sending = true
	cl.inflight++
	l.prepared()
	return true
}

// seal seals up to sealBudget bytes of the plaintext at the head of c's
// queue into t.sealed.
func (l *loop) seal(cl *client) []byte {
	t := cl.tls
	first := &cl.outq[0]
	var plain []byte
	items := 1
	if first.bufs == nil && (len(cl.outq) == 1 || first.size-first.done >= sealBudget) {
		plain = first.data[first.done:min(first.size, first.done+sealBudget)]
	} else {
		plain = l.plainOut[:0]
		items = 0
		for i := range cl.outq {
			it := &cl.outq[i]
			if it.cb == cbOp || it.wire || len(plain) == sealBudget {
				break
			}
			skip := it.done
			if it.bufs == nil {
				plain = appendUpTo(plain, it.data[skip:], sealBudget)
			} else {
				for _, b := range it.bufs {
					if skip >= len(b) {
						skip -= len(b)
						continue
					}
					plain = appendUpTo(plain, b[skip:], sealBudget)
					skip = 0
				}
			}
			items++
		}
	}
	cl.sendItems = int32(items)
	t.sealed = l.sealTo(t, l.getSealBuf(), plain)
	t.sealOff, t.sealText = 0, len(plain)
	return t.sealed
}

func appendUpTo(dst, src []byte, limit int) []byte {
	return append(dst, src[:min(len(src), limit-len(dst))]...)
}

// sealTo appends plain, sealed in records, to dst.
func (l *loop) sealTo(t *tlsState, dst, plain []byte) []byte {
	t.w.mu.Lock()
	t.w.out = dst
	t.w.mu.Unlock()
	t.conn.Write(plain) // the wire never fails a write but after close
	return t.w.takeOut()
}

// tlsSent accounts a send of a TLS client: res ciphertext bytes left. It
// returns the plaintext bytes now sent.
func (l *loop) tlsSent(cl *client, res int) int {
	t := cl.tls
	if t == nil || t.sealed == nil {
		return res
	}
	if t.sealOff += res; t.sealOff < len(t.sealed) {
		return 0
	}
	n := t.sealText
	l.putSealBuf(t.sealed)
	t.sealed, t.sealOff, t.sealText = nil, 0, 0
	return n
}

func (l *loop) getSealBuf() []byte {
	if n := len(l.sealBufs); n > 0 {
		b := l.sealBufs[n-1]
		l.sealBufs = l.sealBufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, sealBudget+sealBudget/16)
}

func (l *loop) putSealBuf(b []byte) {
	if cap(b) == sealBudget+sealBudget/16 && len(l.sealBufs) < 64 {
		l.sealBufs = append(l.sealBufs, b[:0])
	}
}

// tlsCloseNotify queues a close_notify alert before a graceful close, as
// crypto/tls's Close sends one, so that a client reading to the end of
// the stream can tell it from a truncation. It reports false when there is
// nothing to send: no handshake ended, it was sent already, the peer's
// records failed, or the kernel seals (the alert would need a control
// message of its own; the close goes without it).
func (l *loop) tlsCloseNotify(c ClientNum, cl *client) bool {
	out := l.tlsNotifyRecord(cl)
	if out == nil {
		return false
	}
	l.queueWrite(c, cl, writeItem{data: out, size: len(out), wire: true})
	return true
}

// tlsNotifyRecord seals close_notify, once, when everything before it has
// been sealed; nil when there is nothing to send.
func (l *loop) tlsNotifyRecord(cl *client) []byte {
	t := cl.tls
	if !t.ready || t.notified || t.ktx || errors.Is(cl.cause, ErrTLSRecord) {
		return nil
	}
	t.notified = true
	t.conn.CloseWrite()
	if out := t.w.takeOut(); len(out) > 0 {
		return out
	}
	return nil
}

// tlsRelease ends c's record layer when its slot is freed.
func (l *loop) tlsRelease(cl *client) {
	t := cl.tls
	if !t.ready { // every way a handshake ends but well: failed, timed out, reset, shut down
		l.handshaking--
		l.s.tlsCnt.handshaking.Add(-1)
		l.s.tlsCnt.errors.Add(1)
	}
	t.w.Close()
	if t.sealed != nil {
		l.putSealBuf(t.sealed)
		t.sealed = nil
	}
}

// TLSState returns the TLS state of client c: ok is false when c does not
// speak TLS. Call it on c's loop. A stream answers for its parent.
func (s *Server) TLSState(c ClientNum) (st tls.ConnectionState, ok bool, err error) {
	l, err := s.loopOf(c)
	if err != nil {
		return st, false, err
	}
	if !l.onLoop() {
		return st, false, ErrNotOnLoop
	}
	_, cl := l.peer(c, l.client(c))
	if cl == nil || cl.state != stOpen {
		return st, false, fmt.Errorf("netserver: TLSState(%v): %w", c, ErrClosed)
	}
	if cl.tls == nil || !cl.tls.ready {
		return st, false, nil
	}
	return cl.tls.conn.ConnectionState(), true, nil
}

// KernelTLS reports whether the kernel seals what c sends (kTLS TX). Call
// it on c's loop. A stream answers for its parent.
func (s *Server) KernelTLS(c ClientNum) bool {
	l, err := s.loopOf(c)
	if err != nil || !l.onLoop() {
		return false
	}
	_, cl := l.peer(c, l.client(c))
	return cl != nil && cl.tls != nil && cl.tls.ktx
}

// TLSHandshaking returns the number of TLS connections whose handshake
// has not ended: accepted, but not the Handler's clients yet (Accept
// comes when the handshake ends well). A connection leaves this count
// only after its Accept, so a drain that reads it, then the Handler's own
// count of clients, sees every connection in one of the two. Safe from
// any goroutine.
func (s *Server) TLSHandshaking() int64 { return s.tlsCnt.handshaking.Load() }
