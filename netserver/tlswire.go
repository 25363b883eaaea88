package netserver

import (
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// tlsWire is the net.Conn beneath a client's tls.Conn: the ciphertext the
// loop read from the socket goes in, the ciphertext crypto/tls writes comes
// out. It never touches the socket itself.
//
// During the handshake, which runs on its own goroutine, Read waits for
// input and Write hands each flight to the loop. Afterwards the loop drives
// the tls.Conn itself: Read returns a temporary net.Error when the input is
// used up (crypto/tls keeps a partial record and does not make such an
// error sticky), and Write appends to out, which the loop takes.
type tlsWire struct {
	mu       sync.Mutex
	cond     sync.Cond
	in       []byte // ciphertext not yet taken by tls.Conn (owned, or borrowed for one loop call)
	borrowed bool   // in is the loop's read buffer, valid only during the current callback
	out      []byte // ciphertext written by tls.Conn, not yet taken by the loop
	blocking bool   // the handshake goroutine runs
	closed   bool   // the client is gone
	eof      bool   // the peer's end of stream: Read returns io.EOF once in is used up
	post     func([]byte)
	fd       int
}

// errNoInput is what Read returns after the handshake when the input is
// used up: a temporary net.Error, which crypto/tls passes up without
// marking the connection broken.
var errNoInput net.Error = noInput{}

type noInput struct{}

func (noInput) Error() string   { return "netserver: tls: no more input yet" }
func (noInput) Timeout() bool   { return false }
func (noInput) Temporary() bool { return true }

// Read implements net.Conn for crypto/tls.
func (w *tlsWire) Read(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.in) == 0 {
		switch {
		case w.closed:
			return 0, net.ErrClosed
		case w.eof:
			return 0, io.EOF
		case !w.blocking:
			return 0, errNoInput
		}
		w.cond.Wait()
	}
	n := copy(p, w.in)
	w.in = w.in[n:]
	if len(w.in) == 0 && !w.borrowed {
		w.in = nil // an idle connection keeps no input buffer
	}
	return n, nil
}

// Write implements net.Conn for crypto/tls.
func (w *tlsWire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, net.ErrClosed
	}
	if w.blocking {
		w.post(append([]byte(nil), p...))
		return len(p), nil
	}
	w.out = append(w.out, p...)
	return len(p), nil
}

// push adds ciphertext read from the socket. A borrowed buffer must be
// given back with keep before the callback that lent it returns.
func (w *tlsWire) push(data []byte, borrow bool) {
	w.mu.Lock()
	if borrow && len(w.in) == 0 {
		w.in, w.borrowed = data, true
	} else {
		w.in = append(w.in, data...)
	}
	w.cond.Signal()
	w.mu.Unlock()
}

// keep copies what is left of a borrowed input.
func (w *tlsWire) keep() {
	w.mu.Lock()
	if w.borrowed {
		w.borrowed = false
		if len(w.in) > 0 {
			w.in = append([]byte(nil), w.in...)
		} else {
			w.in = nil
		}
	}
	w.mu.Unlock()
}

// pending returns the number of input bytes tls.Conn has not taken.
func (w *tlsWire) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.in)
}

// firstBytes returns up to n bytes of the input, copied.
func (w *tlsWire) firstBytes(n int) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.in[:min(n, len(w.in))]...)
}

// takeOut returns what tls.Conn wrote since the last call.
func (w *tlsWire) takeOut() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.out
	w.out = nil
	return b
}

// setEOF records the peer's end of stream.
func (w *tlsWire) setEOF() {
	w.mu.Lock()
	w.eof = true
	w.cond.Broadcast()
	w.mu.Unlock()
}

// setBlocking switches between the handshake goroutine's mode and the loop's.
func (w *tlsWire) setBlocking(b bool) {
	w.mu.Lock()
	w.blocking = b
	w.mu.Unlock()
}

// Close implements net.Conn: it wakes a waiting Read. crypto/tls calls it
// when a handshake's context ends; the loop calls it when the client is
// freed. The socket is the loop's to close.
func (w *tlsWire) Close() error {
	w.mu.Lock()
	w.closed = true
	w.in, w.out, w.borrowed = nil, nil, false
	w.cond.Broadcast()
	w.mu.Unlock()
	return nil
}

// LocalAddr implements net.Conn (for GetCertificate and the like).
func (w *tlsWire) LocalAddr() net.Addr {
	return sockAddr(unix.Getsockname(w.fd))
}

// RemoteAddr implements net.Conn.
func (w *tlsWire) RemoteAddr() net.Addr {
	return sockAddr(unix.Getpeername(w.fd))
}

// SetDeadline implements net.Conn; the loop keeps the time (HandshakeTimeout, IdleTimeout).
func (w *tlsWire) SetDeadline(time.Time) error { return nil }

// SetReadDeadline implements net.Conn.
func (w *tlsWire) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline implements net.Conn.
func (w *tlsWire) SetWriteDeadline(time.Time) error { return nil }

// sockAddr is sockaddrToAddr for the result of getsockname or getpeername,
// never nil: callers of net.Conn's address methods expect an address.
func sockAddr(sa unix.Sockaddr, err error) net.Addr {
	if err == nil {
		if a := sockaddrToAddr(sa); a != nil {
			return a
		}
	}
	return &net.TCPAddr{}
}
