package h2

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"golang.org/x/net/http2"
)

// onData checks a DATA frame against the stream's state and both receive
// windows, then delivers its payload. Padding is credited at once.
func (c *Conn) onData(f *http2.DataFrame) {
	n := int64(f.Length) // flow control counts the padding too
	id := f.StreamID
	if c.idle(id) {
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("DATA on idle stream %d", id))
		return
	}
	if n > c.connRecv {
		c.fail(http2.ErrCodeFlowControl, "DATA beyond the connection window")
		return
	}
	c.connRecv -= n
	data := f.Data()
	pad := n - int64(len(data))
	c.credit(nil, pad)
	st := c.streams[id]
	if st == nil || st.remoteDone {
		c.credit(nil, int64(len(data)))
		if (c.closing || c.peerGone) && id > c.lastDone || st == nil && c.recentlyReset(id) && len(data) > 0 {
			return // a stream ignored after GOAWAY, or DATA in flight when we reset it
		}
		c.empty()
		c.streamError(id, http2.ErrCodeStreamClosed)
		return
	}
	if n > st.recvWindow {
		c.credit(nil, int64(len(data)))
		c.stats.FlowControlErrors++
		c.streamError(id, http2.ErrCodeFlowControl)
		return
	}
	st.recvWindow -= n
	st.unacked += pad
	st.received += int64(len(data))
	end := f.StreamEnded()
	if st.declared >= 0 && (st.received > st.declared || end && st.received != st.declared) {
		c.credit(nil, int64(len(data)))
		c.streamError(id, http2.ErrCodeProtocol)
		return
	}
	if len(data) == 0 && !end {
		c.empty()
		if c.phase == phaseDone {
			return
		}
	}
	if end {
		st.remoteDone = true
	}
	c.creditStream(st)
	c.ev.Data(id, data, end)
	if end {
		c.closeIfDone(st)
	}
}

// Consumed tells the Conn that the owner took n body bytes of stream id
// given by Data. The connection window is credited whatever the stream's
// state; the stream's unless it ended, was reset or is paused. A
// WINDOW_UPDATE goes out once half a window is owed.
func (c *Conn) Consumed(id uint32, n int) {
	if c.phase == phaseDone || n <= 0 {
		return
	}
	c.credit(c.streams[id], int64(n))
	c.flush()
}

// credit gives n bytes back to the connection window and, if st is not
// nil, to the stream's, writing WINDOW_UPDATEs at half a window.
func (c *Conn) credit(st *stream, n int64) {
	// Never credit more than was taken from a window: an owner's wrong
	// count must not push the peer's window past what we advertised.
	n = min(n, int64(c.cfg.ConnWindow)-c.connRecv-c.connUnacked)
	if n <= 0 || c.phase == phaseDone {
		return
	}
	c.connUnacked += n
	if c.connUnacked >= int64(c.cfg.ConnWindow)/2 {
		c.framer().WriteWindowUpdate(0, uint32(c.connUnacked))
		c.connRecv += c.connUnacked
		c.connUnacked = 0
	}
	if st == nil {
		return
	}
	st.unacked += min(n, int64(c.cfg.InitialWindow)-st.recvWindow-st.unacked)
	c.creditStream(st)
}

// creditStream writes the stream's WINDOW_UPDATE when due.
func (c *Conn) creditStream(st *stream) {
	if st.remoteDone || st.paused || st.unacked < int64(c.cfg.InitialWindow)/2 {
		return
	}
	c.framer().WriteWindowUpdate(st.id, uint32(st.unacked))
	st.recvWindow += st.unacked
	st.unacked = 0
}

// Pause withholds the stream's WINDOW_UPDATEs, so the peer stops sending
// its body once the window is used: backpressure.
func (c *Conn) Pause(id uint32) {
	if st := c.streams[id]; st != nil {
		st.paused = true
	}
}

// Resume ends a Pause, sending the credit owed.
func (c *Conn) Resume(id uint32) {
	if st := c.streams[id]; st != nil && st.paused && c.phase != phaseDone {
		st.paused = false
		c.creditStream(st)
		c.flush()
	}
}

// wake reports WindowOpened for a blocked stream that may write again.
func (c *Conn) wake(st *stream) {
	if st.blocked && st.sendWindow > 0 && c.connSend > 0 {
		st.blocked = false
		st.blockedSince = time.Time{}
		c.ev.WindowOpened(st.id)
	}
}

// wakeBlocked wakes every blocked stream, in id order.
func (c *Conn) wakeBlocked() {
	if c.connSend <= 0 {
		return
	}
	for _, id := range c.sortedIDs() {
		if st := c.streams[id]; st != nil {
			c.wake(st)
		}
	}
}

// closeIfDone forgets a stream whose both directions ended.
func (c *Conn) closeIfDone(st *stream) {
	if st.remoteDone && st.localDone {
		c.remove(st)
		c.maybeFinish()
	}
}

// maybeFinish ends a Shutdown once no stream is left.
func (c *Conn) maybeFinish() {
	if c.closing && len(c.streams) == 0 && c.phase != phaseDone {
		c.phase = phaseDone
		c.flush()
	}
}

// sortedIDs returns the live stream ids in increasing order.
func (c *Conn) sortedIDs() []uint32 { return slices.Sorted(maps.Keys(c.streams)) }
