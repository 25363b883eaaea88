package h2

import (
	"fmt"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// writable returns the stream if the owner may still send on it.
func (c *Conn) writable(id uint32) (*stream, error) {
	if c.phase == phaseDone {
		return nil, ErrConnClosed
	}
	st := c.streams[id]
	if st == nil || st.localDone {
		return nil, fmt.Errorf("stream %d: %w", id, ErrStreamClosed)
	}
	return st, nil
}

// WriteHeaders writes a response header list (or 1xx, or trailers with
// endStream) on stream id, HPACK-encoded and split into HEADERS and
// CONTINUATION frames of at most the peer's MAX_FRAME_SIZE. Names must be
// lower case; pseudo-headers (":status") first.
func (c *Conn) WriteHeaders(id uint32, fields []hpack.HeaderField, endStream bool) error {
	st, err := c.writable(id)
	if err != nil {
		return fmt.Errorf("h2: WriteHeaders: %w", err)
	}
	c.writeHeaderBlock(id, fields, endStream)
	if endStream {
		c.endLocal(st)
	}
	c.flush()
	return nil
}

// writeHeaderBlock encodes fields and frames the block.
func (c *Conn) writeHeaderBlock(id uint32, fields []hpack.HeaderField, endStream bool) {
	l := c.loop
	l.encBuf.Reset()
	for _, f := range fields {
		l.enc.WriteField(f)
	}
	block := l.encBuf.Bytes()
	max := int(c.peerMaxFrame)
	first := true
	for first || len(block) > 0 {
		frag := block[:min(len(block), max)]
		block = block[len(frag):]
		if first {
			c.framer().WriteHeaders(http2.HeadersFrameParam{
				StreamID: id, BlockFragment: frag, EndStream: endStream, EndHeaders: len(block) == 0,
			})
			first = false
		} else {
			c.framer().WriteContinuation(id, len(block) == 0, frag)
		}
	}
	c.wroteSincePing = true
}

// WriteData writes body bytes on stream id within the stream's and the
// connection's send windows, in DATA frames of at most the peer's
// MAX_FRAME_SIZE, and returns how many it wrote. END_STREAM goes with the
// last byte if all of p was written (an empty p with endStream always
// goes). When n < len(p), WindowOpened(id) says when to write the rest.
func (c *Conn) WriteData(id uint32, p []byte, endStream bool) (n int, err error) {
	st, err := c.writable(id)
	if err != nil {
		return 0, fmt.Errorf("h2: WriteData: %w", err)
	}
	allowed := int(max(0, min(st.sendWindow, c.connSend)))
	n = min(len(p), allowed)
	done := endStream && n == len(p)
	for off := 0; off < n || (off == 0 && n == 0 && done); {
		k := min(n-off, int(c.peerMaxFrame))
		c.framer().WriteData(id, done && off+k == n, p[off:off+k])
		off += k
		if k == 0 {
			break
		}
	}
	st.sendWindow -= int64(n)
	c.connSend -= int64(n)
	if n > 0 {
		c.wroteSincePing = true
	}
	if n < len(p) {
		st.blocked = true
		if st.blockedSince.IsZero() {
			st.blockedSince = c.now()
		}
	} else {
		st.blockedSince = time.Time{}
	}
	if done {
		c.endLocal(st)
	}
	c.flush()
	return n, nil
}

// endLocal marks our side of the stream ended.
func (c *Conn) endLocal(st *stream) {
	st.localDone = true
	st.blocked = false
	c.closeIfDone(st)
}

// WriteReset resets stream id with code, for the owner's own reasons
// (RST_STREAM(CANCEL) for an abandoned response, say). No Reset event
// follows.
func (c *Conn) WriteReset(id uint32, code http2.ErrCode) error {
	if c.phase == phaseDone {
		return fmt.Errorf("h2: WriteReset: %w", ErrConnClosed)
	}
	st := c.streams[id]
	if st == nil {
		return fmt.Errorf("h2: WriteReset: stream %d: %w", id, ErrStreamClosed)
	}
	c.writeReset(id, code)
	c.remove(st)
	c.maybeFinish()
	c.flush()
	return nil
}

// GoAway ends the connection at once with GOAWAY(code) naming the last
// stream processed; Closed follows. For a graceful end use Shutdown.
func (c *Conn) GoAway(code http2.ErrCode) {
	if c.phase == phaseDone {
		return
	}
	c.fail(code, "GOAWAY by the owner")
	c.flush()
}

// shutdownPing is the payload of Shutdown's PING.
var shutdownPing = [8]byte{'s', 'h', 'u', 't', 'd', 'o', 'w', 'n'}

// Shutdown starts a graceful end in two steps (RFC 9113 §6.8): a
// GOAWAY(NO_ERROR) naming the highest stream id, so that the peer opens
// no more streams, and a PING. Its ACK, sent once the peer has read that
// GOAWAY, or Config.ShutdownTimeout without one, brings the final
// GOAWAY(NO_ERROR) naming the last stream processed: streams the peer
// opened in between are served, later ones ignored (the peer knows they
// were not processed, and may retry them elsewhere). The open streams
// finish, and Closed(nil) is called once the last one has closed. The
// socket then closes only after the peer acknowledged the first GOAWAY
// (or the timeout), so no request of its is lost on a closed socket.
func (c *Conn) Shutdown() {
	if c.phase == phaseDone || c.closing || !c.shutdownAt.IsZero() {
		return
	}
	c.Start()
	c.shutdownAt = c.now()
	if c.cfg.ShutdownTimeout < 0 {
		c.finishShutdown()
		return
	}
	c.framer().WriteGoAway(1<<31-1, http2.ErrCodeNo, nil)
	c.stats.GoAwaySent++
	c.framer().WritePing(false, shutdownPing)
	c.flush()
}

// ShuttingDown reports whether Shutdown was called.
func (c *Conn) ShuttingDown() bool { return !c.shutdownAt.IsZero() }

// finishShutdown takes Shutdown's second step: the final GOAWAY.
func (c *Conn) finishShutdown() {
	if c.phase == phaseDone || c.closing {
		return
	}
	c.closing = true
	c.framer().WriteGoAway(c.lastDone, http2.ErrCodeNo, nil)
	c.stats.GoAwaySent++
	c.maybeFinish()
	c.flush()
}
