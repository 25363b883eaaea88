package h2

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/net/http2"
)

// frame parses one whole frame with the Framer and acts on it.
func (c *Conn) frame(b []byte) {
	t := http2.FrameType(b[3])
	id := binary.BigEndian.Uint32(b[5:9]) & (1<<31 - 1)
	switch {
	case c.inBlock && (t != http2.FrameContinuation || id != c.blockID):
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("%v on stream %d inside the header block of stream %d", t, id, c.blockID))
		return
	case !c.inBlock && t == http2.FrameContinuation:
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("CONTINUATION on stream %d without HEADERS", id))
		return
	}
	c.loop.src.b = b
	f, err := c.loop.fr.ReadFrame()
	if err != nil {
		c.readError(t, err)
		c.loop.newFramer()
		return
	}
	switch f := f.(type) {
	case *http2.SettingsFrame:
		c.onSettings(f)
	case *http2.PingFrame:
		c.onPing(f)
	case *http2.GoAwayFrame:
		c.peerGone = true
	case *http2.WindowUpdateFrame:
		c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		c.onReset(f)
	case *http2.PriorityFrame:
		c.onPriority(f)
	case *http2.HeadersFrame:
		c.onHeaders(f)
	case *http2.ContinuationFrame:
		c.onContinuation(f)
	case *http2.DataFrame:
		c.onData(f)
	case *http2.PushPromiseFrame:
		c.fail(http2.ErrCodeProtocol, "PUSH_PROMISE from a client")
	default: // unknown types and PRIORITY_UPDATE are ignored
		c.empty()
	}
}

// readError turns a Framer error into a stream or connection error.
func (c *Conn) readError(t http2.FrameType, err error) {
	var ce http2.ConnectionError
	var se http2.StreamError
	switch {
	case errors.As(err, &ce):
		reason := "malformed " + t.String()
		if d := c.loop.fr.ErrorDetail(); d != nil {
			reason = d.Error()
		}
		c.fail(http2.ErrCode(ce), reason)
	case errors.As(err, &se) && c.idle(se.StreamID):
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("malformed %v on idle stream %d", t, se.StreamID))
	case errors.As(err, &se) && t != http2.FrameHeaders && t != http2.FrameContinuation:
		c.streamError(se.StreamID, se.Code)
	case errors.As(err, &se):
		// A header block we cannot decode would leave HPACK out of step.
		c.fail(se.Code, "malformed "+t.String())
	default:
		c.fail(http2.ErrCodeFrameSize, fmt.Sprintf("malformed %v: %v", t, err))
	}
}

// empty counts a frame that carries nothing useful against
// Config.EmptyFrameRate.
func (c *Conn) empty() {
	if !c.empties.take(c.now()) {
		c.calm(&c.stats.EmptyFrameFloods, "too many empty frames")
	}
}

// idle reports whether id names a stream the peer never opened: even ids
// are ours (we never push), odd ones above lastPeer not yet used.
func (c *Conn) idle(id uint32) bool { return id%2 == 0 || id > c.lastPeer }

func (c *Conn) onSettings(f *http2.SettingsFrame) {
	if f.IsAck() {
		c.settingsAcked = true
		return
	}
	if !c.settings.take(c.now()) {
		c.calm(&c.stats.SettingsFloods, "too many SETTINGS")
		return
	}
	if err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - c.peerInitialWindow
			for _, st := range c.streams {
				if st.sendWindow+delta > maxWindow {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
			c.peerInitialWindow = int64(s.Val)
			for _, st := range c.streams {
				st.sendWindow += delta
			}
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		}
		return nil
	}); err != nil {
		code := http2.ErrCodeProtocol
		var ce http2.ConnectionError
		if errors.As(err, &ce) {
			code = http2.ErrCode(ce)
		}
		c.fail(code, "invalid SETTINGS: "+err.Error())
		return
	}
	c.framer().WriteSettingsAck()
	c.wakeBlocked()
}

func (c *Conn) onPing(f *http2.PingFrame) {
	if f.IsAck() {
		if f.Data == shutdownPing && !c.shutdownAt.IsZero() {
			c.finishShutdown()
		}
		return
	}
	if !c.wroteSincePing && !c.pings.take(c.now()) {
		c.calm(&c.stats.PingFloods, "too many PINGs")
		return
	}
	c.wroteSincePing = false
	c.framer().WritePing(true, f.Data)
}

func (c *Conn) onWindowUpdate(f *http2.WindowUpdateFrame) {
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		if c.connSend+inc > maxWindow {
			c.fail(http2.ErrCodeFlowControl, "connection send window over 2^31-1")
			return
		}
		c.connSend += inc
		c.wakeBlocked()
		return
	}
	if c.idle(f.StreamID) {
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("WINDOW_UPDATE on idle stream %d", f.StreamID))
		return
	}
	st := c.streams[f.StreamID]
	if st == nil {
		// Not an empty frame: clients keep crediting a stream while they
		// read the end of its body, after it closed here.
		return
	}
	if st.sendWindow+inc > maxWindow {
		c.stats.FlowControlErrors++
		c.streamError(f.StreamID, http2.ErrCodeFlowControl)
		return
	}
	st.sendWindow += inc
	c.wake(st)
}

func (c *Conn) onReset(f *http2.RSTStreamFrame) {
	if c.idle(f.StreamID) {
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("RST_STREAM on idle stream %d", f.StreamID))
		return
	}
	st := c.streams[f.StreamID]
	if st == nil {
		c.empty()
		return
	}
	c.stats.ResetsReceived++
	c.remove(st)
	c.ev.Reset(f.StreamID, f.ErrCode)
	if !st.localDone && !c.resets.take(c.now()) {
		c.calm(&c.stats.RapidResets, "too many stream resets")
	}
	c.maybeFinish()
}

func (c *Conn) onPriority(f *http2.PriorityFrame) {
	if f.StreamDep == f.StreamID {
		c.streamError(f.StreamID, http2.ErrCodeProtocol)
		return
	}
	c.empty()
}

// streamError resets a stream (RFC 9113 §5.4.2). A stream the owner knows
// is reported to it.
func (c *Conn) streamError(id uint32, code http2.ErrCode) {
	if c.phase == phaseDone {
		return
	}
	if code == http2.ErrCodeProtocol {
		c.stats.ProtocolErrors++
	}
	c.writeReset(id, code)
	if st := c.streams[id]; st != nil {
		c.remove(st)
		c.ev.Reset(id, code)
		c.maybeFinish()
	}
}

// writeReset writes RST_STREAM and remembers the id for a while: DATA
// the peer sent before it saw the reset is then dropped quietly.
func (c *Conn) writeReset(id uint32, code http2.ErrCode) {
	c.framer().WriteRSTStream(id, code)
	c.stats.ResetsSent++
	c.resetIDs[c.resetNext%uint8(len(c.resetIDs))] = id
	c.resetNext++
}

// recentlyReset reports whether we reset stream id lately.
func (c *Conn) recentlyReset(id uint32) bool {
	for _, r := range c.resetIDs {
		if r == id {
			return true
		}
	}
	return false
}

// remove forgets a stream: it no longer counts against
// MaxConcurrentStreams, and its id is closed from now on.
func (c *Conn) remove(st *stream) {
	delete(c.streams, st.id)
	if len(c.streams) == 0 {
		c.streams = nil // maps never shrink
	}
}
