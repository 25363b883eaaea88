package stdhttp

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// The body buffer's marks: past bodyHigh the connection is paused, below
// bodyLow it is read again. The loop hands over at most one read's worth
// (16 KiB) past the high mark.
const (
	bodyHigh = 64 << 10
	bodyLow  = 16 << 10
)

// body is a request body streamed from the loop (feed) to the handler
// (Read) through a bounded buffer.
type body struct {
	cl        *call
	mu        sync.Mutex
	buf       []byte
	eof       bool  // the last byte is in buf
	err       error // the body failed (client gone, timeout)
	closed    bool  // the handler closed it
	full      bool  // reading is paused for the buffer's size
	expect100 bool  // 100 Continue not yet asked for
	broken    bool  // a Read failed (deadline): the body's end is unknown
	deadline  time.Time
	notify    chan struct{} // wakes a waiting Read
}

func newBody(cl *call, expect100 bool) *body {
	return &body{cl: cl, expect100: expect100, notify: make(chan struct{}, 1)}
}

// feed takes body bytes on the loop.
func (b *body) feed(data []byte, last bool) {
	b.mu.Lock()
	if !b.closed {
		b.buf = append(b.buf, data...)
	}
	b.eof = b.eof || last
	pause := !b.full && !last && len(b.buf) >= bodyHigh
	if pause {
		b.full = true
	}
	b.mu.Unlock()
	if pause {
		b.cl.pause(pauseBody)
	}
	b.wake()
}

// fail ends the body with err (on the loop).
func (b *body) fail(err error) {
	b.mu.Lock()
	if !b.eof && b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.wake()
}

func (b *body) wake() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// Read reads the body as it arrives; the first Read of a request that
// expects 100 Continue sends it.
func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, http.ErrBodyReadAfterClose
	}
	if b.expect100 {
		b.expect100 = false
		b.mu.Unlock()
		b.cl.a.srv.Continue(b.cl.c)
		b.mu.Lock()
	}
	for len(b.buf) == 0 && !b.eof && b.err == nil {
		deadline := b.deadline
		b.mu.Unlock()
		if err := b.wait(deadline); err != nil {
			b.mu.Lock()
			b.broken = true // the connection closes after the response
			b.mu.Unlock()
			return 0, err
		}
		b.mu.Lock()
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	if len(b.buf) == 0 {
		b.buf = nil // the next feed starts a fresh, right-sized buffer
	}
	var err error
	switch {
	case len(b.buf) > 0:
	case b.eof:
		err = io.EOF
	case b.err != nil:
		err = b.err
	}
	resume := b.full && len(b.buf) < bodyLow
	if resume {
		b.full = false
	}
	b.mu.Unlock()
	if resume {
		b.cl.resumeFromGoroutine(pauseBody)
	}
	if n > 0 && err != nil && err != io.EOF {
		err = nil // the error comes with the next Read
	}
	return n, err
}

// wait blocks until feed or fail, or the read deadline passes.
func (b *body) wait(deadline time.Time) error { return waitNotify(b.notify, deadline) }

// Close discards what is left: later bytes are dropped (the loop reads and
// discards the rest of the body after the response).
func (b *body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.buf = nil
	resume := b.full
	b.full = false
	b.mu.Unlock()
	if resume {
		b.cl.resumeFromGoroutine(pauseBody)
	}
	return nil
}

// setDeadline sets the read deadline (ResponseController.SetReadDeadline).
func (b *body) setDeadline(t time.Time) {
	b.mu.Lock()
	b.deadline = t
	b.mu.Unlock()
	b.wake()
}

// complete reports whether the handler read the whole body.
func (b *body) complete() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.eof && len(b.buf) == 0
}

// expectPending reports whether the client waits for a 100 Continue the
// handler never asked for (it did not read the body).
func (b *body) expectPending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.expect100
}

// noExpect records that 100 Continue went out (WriteHeader(100)).
func (b *body) noExpect() {
	b.mu.Lock()
	b.expect100 = false
	b.mu.Unlock()
}

// isBroken reports whether a Read failed before the body's end.
func (b *body) isBroken() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.broken || (b.err != nil && !b.eof)
}

// takeUnread returns the bytes received and not read, and closes the body
// (Hijack hands them to the connection's reader).
func (b *body) takeUnread() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := b.buf
	b.buf, b.closed = nil, true
	return buf
}
