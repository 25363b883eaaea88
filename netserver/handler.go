package netserver

import "time"

// Handler receives a loop's completions. Callbacks run on the loop's
// goroutine and must not block; long work belongs on another goroutine that
// calls back into the Server. Data handed to a read callback is valid only
// during the callback: copy what you keep. A panic in a callback closes that
// client and is logged and counted; the server carries on.
type Handler interface {
	// Accept is called when a new connection is accepted.
	Accept(c ClientNum)
	// RawRead is called with bytes read from a client: automatically for
	// accepted connections, and for each Server.RawRead. failed is true when
	// the read failed (the client is then closed); data is nil then.
	RawRead(data []byte, c ClientNum, failed bool)
	// RawReadv is called when a Server.RawReadv completed; bufs are the
	// caller's buffers trimmed to what was read.
	RawReadv(bufs [][]byte, c ClientNum, failed bool)
	// RawWrite is called once per Server.RawWrite, when all bytes were
	// written or the write failed.
	RawWrite(data []byte, c ClientNum, failed bool)
	// RawWritev is called once per Server.RawWritev, when all bytes were
	// written or the write failed.
	RawWritev(bufs [][]byte, c ClientNum, failed bool)
	// RawClose is called once when a client has been closed, by either side,
	// with the cause: ErrPeerClosed (EOF), a *os.SyscallError-style error
	// wrapping the errno of a failed recv or send (errors.Is(err,
	// syscall.ECONNRESET) for a peer's reset), ErrIdleTimeout, ErrShutdown,
	// ErrCallbackPanic, ErrOpFailed, ErrLocalClose, or what a layer above
	// recorded with Server.SetCloseCause (a protocol error, say). The client
	// number is dead from then on.
	RawClose(c ClientNum, cause error)
	// EventTrigger is called once per trigger of an event opened with
	// Server.EventOpen, with the info given to EventPrepare.
	EventTrigger(c ClientNum, info uint64)
	// EventErrorClose is called when reading a prepared event failed; the
	// event is closed afterwards.
	EventErrorClose(c ClientNum, info uint64)
}

// Ticker is implemented by a Handler that wants a periodic call on each
// loop, every Config.TickInterval (for its own timeouts, say).
type Ticker interface {
	// Tick is called on loop number loop, on that loop's goroutine, with
	// the loop's current time.
	Tick(loop int, now time.Time)
}

// NopHandler implements every Handler method as a no-op. Embed it and
// override what you need.
type NopHandler struct{}

// Accept does nothing.
func (NopHandler) Accept(ClientNum) {}

// RawRead does nothing.
func (NopHandler) RawRead([]byte, ClientNum, bool) {}

// RawReadv does nothing.
func (NopHandler) RawReadv([][]byte, ClientNum, bool) {}

// RawWrite does nothing.
func (NopHandler) RawWrite([]byte, ClientNum, bool) {}

// RawWritev does nothing.
func (NopHandler) RawWritev([][]byte, ClientNum, bool) {}

// RawClose does nothing.
func (NopHandler) RawClose(ClientNum, error) {}

// EventTrigger does nothing.
func (NopHandler) EventTrigger(ClientNum, uint64) {}

// EventErrorClose does nothing.
func (NopHandler) EventErrorClose(ClientNum, uint64) {}
