package h2

import (
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Events receives what a Conn has to tell its owner. Its methods are called
// synchronously, on the owner's goroutine, from Input, Start, Tick and the
// Write methods; they may call any method of any Conn but Input (of this
// Conn or another on its Loop: the Loop's Framer holds the frame being
// handled). Slices passed to them are only valid during the call.
type Events interface {
	// Headers delivers a request's header list on a new stream, or its
	// trailers on an open one; endStream says the request is complete. The
	// list is validated (RFC 9113 §8.3.1); names are lower case.
	Headers(id uint32, fields []hpack.HeaderField, endStream bool)
	// Data delivers request body bytes. The owner must call Consumed with
	// len(p) once it has taken them, even if the stream was reset since.
	Data(id uint32, p []byte, endStream bool)
	// Reset reports that a stream the owner was given ended abnormally:
	// the peer's RST_STREAM, or one the Conn sent (flow control error,
	// stall timeout, malformed trailers). The stream id is dead.
	Reset(id uint32, code http2.ErrCode)
	// WindowOpened reports that a stream whose WriteData wrote less than
	// asked may write again.
	WindowOpened(id uint32)
	// Output hands over bytes for the peer, in order. b is only valid
	// during the call: the owner copies or sends it before returning.
	Output(b []byte)
	// Closed reports, once, that the connection is finished: err is nil
	// after a graceful Shutdown once the last stream closed, else a
	// *ConnError after the GOAWAY was handed to Output. Every stream is
	// then gone, without a Reset event each. The owner closes the socket
	// once the output is sent.
	Closed(err error)
}
