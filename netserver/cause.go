package netserver

import "errors"

// Causes of a close, handed to Handler.RawClose. A failed recv or send is
// reported as an error wrapping its errno instead (test it with errors.Is,
// e.g. syscall.ECONNRESET).
var (
	// ErrPeerClosed: the peer closed its side (EOF) and the writes queued
	// before were sent.
	ErrPeerClosed = errors.New("netserver: closed by the peer")
	// ErrIdleTimeout: nothing was read or written for Config.IdleTimeout.
	ErrIdleTimeout = errors.New("netserver: idle timeout")
	// ErrShutdown: the server is shutting down (Shutdown or Close).
	ErrShutdown = errors.New("netserver: server shutdown")
	// ErrCallbackPanic: a callback about the client panicked.
	ErrCallbackPanic = errors.New("netserver: callback panicked")
	// ErrOpFailed: a custom Op finished with failed set.
	ErrOpFailed = errors.New("netserver: custom op failed")
	// ErrLocalClose: the server side closed the client (RawClose, Abort,
	// a group's close) without recording a more precise cause.
	ErrLocalClose = errors.New("netserver: closed by the server")
)

// SetCloseCause records why c is about to be closed, for the RawClose
// callback, when no cause is recorded yet: a layer above calls it before
// RawClose or Abort (with its protocol error, say). Like every call on a
// client, it runs in order with the calls made before it.
func (s *Server) SetCloseCause(c ClientNum, cause error) error {
	return s.do(c, command{op: cmdSetCause, c: c, err: cause})
}

// SetHandler routes every later callback about c to h instead of the
// server's Handler (nil routes them back): the way a protocol takes a
// connection over from another, as WebSocket does from HTTP after an
// upgrade. Reads delivered after the call, the write callbacks of writes
// still queued, RawDrained and RawClose all go to h.
func (s *Server) SetHandler(c ClientNum, h Handler) error {
	return s.do(c, command{op: cmdSetHandler, c: c, h: h})
}
