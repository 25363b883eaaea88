package stdhttp

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// hijackHigh is what a hijacked connection holds unread before reading
// from the client pauses.
const hijackHigh = 256 << 10

// hijack detaches the call's connection from the HTTP server and returns
// it as a net.Conn (on the handler's goroutine).
func (cl *call) hijack() (*hijackConn, error) {
	a := cl.a
	hc := &hijackConn{ns: a.ns, c: cl.c, local: a.ns.Addr(), notify: make(chan struct{}, 1), wdone: make(chan bool, 1)}
	ready := make(chan error, 1)
	err := a.queue(cl.c, func() {
		cs := a.conns.Get(cl.c)
		if cs == nil || cs.cur != cl {
			ready <- errClientGone
			return
		}
		hc.remote = cs.remoteAddr
		if cl.body != nil {
			// The body's unread bytes come first; taken here, on the
			// loop, after every piece it has read.
			hc.buf = cl.body.takeUnread()
		}
		a.conns.Delete(cl.c) // HTTPClose will not come: the connection is hc's
		if err := a.srv.Detach(cl.c, hc); err != nil {
			ready <- err
			return
		}
		a.cnt.hijacked.Add(1)
		ready <- nil
	})
	if err != nil {
		return nil, errClientGone
	}
	if err := <-ready; err != nil {
		return nil, err
	}
	a.slots.leave(cl)
	return hc, nil
}

// hijackConn is a hijacked connection: a net.Conn whose bytes still go
// through the loop (it is the connection's netserver.Handler).
type hijackConn struct {
	netserver.NopHandler
	ns            *netserver.Server
	c             netserver.ClientNum
	local, remote net.Addr

	mu       sync.Mutex
	buf      []byte
	rerr     error // io.EOF once the peer closed
	paused   bool
	rdl, wdl time.Time
	notify   chan struct{}

	wmu    sync.Mutex // one write at a time
	wdone  chan bool
	closed atomic.Bool
}

// RawRead takes bytes from the client (on the loop).
func (h *hijackConn) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	h.mu.Lock()
	if failed {
		if h.rerr == nil {
			h.rerr = io.EOF
		}
	} else {
		h.buf = append(h.buf, data...)
	}
	pause := !h.paused && len(h.buf) >= hijackHigh
	h.paused = h.paused || pause
	h.mu.Unlock()
	if pause {
		h.ns.PauseRead(c)
	}
	h.wake()
	h.ns.Handoff(c)
}

// RawWrite is called when a Write was sent.
func (h *hijackConn) RawWrite(data []byte, c netserver.ClientNum, failed bool) {
	select {
	case h.wdone <- failed:
	default:
	}
	h.ns.Handoff(c)
}

// RawClose ends reads with io.EOF, and a write waiting for a completion
// that will now go elsewhere (a write posted as the client closed).
func (h *hijackConn) RawClose(c netserver.ClientNum, cause error) {
	h.closed.Store(true)
	select {
	case h.wdone <- true:
	default:
	}
	h.mu.Lock()
	if h.rerr == nil {
		h.rerr = io.EOF
	}
	h.mu.Unlock()
	h.wake()
}

func (h *hijackConn) wake() {
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

// Read reads what the client sent.
func (h *hijackConn) Read(p []byte) (int, error) {
	h.mu.Lock()
	for len(h.buf) == 0 && h.rerr == nil {
		dl := h.rdl
		h.mu.Unlock()
		if err := waitNotify(h.notify, dl); err != nil {
			return 0, &net.OpError{Op: "read", Net: "tcp", Source: h.local, Addr: h.remote, Err: err}
		}
		h.mu.Lock()
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	if len(h.buf) == 0 {
		h.buf = nil
	}
	err := h.rerr
	if n > 0 {
		err = nil
	}
	resume := h.paused && len(h.buf) < hijackHigh/4
	if resume {
		h.paused = false
	}
	h.mu.Unlock()
	if resume {
		h.ns.ResumeRead(h.c)
	}
	return n, err
}

// Write sends p and waits until it was sent (or the write deadline).
func (h *hijackConn) Write(p []byte) (int, error) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if h.closed.Load() {
		return 0, h.opErr("write", net.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := h.ns.RawWrite(h.c, p); err != nil {
		return 0, h.opErr("write", net.ErrClosed)
	}
	h.mu.Lock()
	dl := h.wdl
	h.mu.Unlock()
	var timeout <-chan time.Time
	if !dl.IsZero() {
		t := time.NewTimer(max(time.Until(dl), time.Nanosecond))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case failed := <-h.wdone:
		if failed {
			return 0, h.opErr("write", net.ErrClosed)
		}
		return len(p), nil
	case <-timeout:
		h.ns.Abort(h.c)
		<-h.wdone // p stays ours until the write is over
		return 0, h.opErr("write", os.ErrDeadlineExceeded)
	}
}

func (h *hijackConn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: h.local, Addr: h.remote, Err: err}
}

// Close closes the connection once what was written has gone out.
func (h *hijackConn) Close() error {
	if h.closed.Swap(true) {
		return nil
	}
	h.mu.Lock()
	if h.rerr == nil {
		h.rerr = net.ErrClosed
	}
	h.mu.Unlock()
	h.wake()
	if err := h.ns.RawClose(h.c); err != nil && !errors.Is(err, netserver.ErrClosed) {
		return err
	}
	return nil
}

// LocalAddr returns the listener's address.
func (h *hijackConn) LocalAddr() net.Addr { return h.local }

// RemoteAddr returns the client's address.
func (h *hijackConn) RemoteAddr() net.Addr { return h.remote }

// SetDeadline sets both deadlines.
func (h *hijackConn) SetDeadline(t time.Time) error {
	h.SetReadDeadline(t)
	return h.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (h *hijackConn) SetReadDeadline(t time.Time) error {
	h.mu.Lock()
	h.rdl = t
	h.mu.Unlock()
	h.wake()
	return nil
}

// SetWriteDeadline sets the write deadline (for writes started after it).
func (h *hijackConn) SetWriteDeadline(t time.Time) error {
	h.mu.Lock()
	h.wdl = t
	h.mu.Unlock()
	return nil
}

// waitNotify waits for a token on ch, or until deadline (zero: none).
func waitNotify(ch chan struct{}, deadline time.Time) error {
	if deadline.IsZero() {
		<-ch
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}
