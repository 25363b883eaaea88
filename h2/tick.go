package h2

import (
	"time"

	"golang.org/x/net/http2"
)

// Tick enforces the timeouts that need a clock; the owner calls it now
// and then (every second, say) with the current time. A stream that has
// waited for send window longer than Config.StallTimeout (a zero-window
// stall) is reset with RST_STREAM(CANCEL) and a Reset event; SETTINGS not
// acknowledged within Config.SettingsTimeout end the connection with
// GOAWAY(SETTINGS_TIMEOUT); a preface or a header block later than
// Config.HeaderTimeout, GOAWAY(PROTOCOL_ERROR).
func (c *Conn) Tick(now time.Time) {
	if c.phase == phaseDone {
		return
	}
	if d := c.cfg.HeaderTimeout; d >= 0 {
		switch {
		case c.phase != phaseOpen && now.Sub(c.created) > d:
			c.fail(http2.ErrCodeProtocol, "no preface and SETTINGS in time")
		case !c.blockSince.IsZero() && now.Sub(c.blockSince) > d:
			c.fail(http2.ErrCodeProtocol, "header block unfinished in time")
		}
		if c.phase == phaseDone {
			c.flush()
			return
		}
	}
	if c.started && !c.settingsAcked && c.cfg.SettingsTimeout >= 0 && now.Sub(c.settingsSent) > c.cfg.SettingsTimeout {
		c.fail(http2.ErrCodeSettingsTimeout, "SETTINGS not acknowledged")
		c.flush()
		return
	}
	if !c.shutdownAt.IsZero() && !c.closing && now.Sub(c.shutdownAt) > c.cfg.ShutdownTimeout {
		c.finishShutdown() // no ACK to Shutdown's PING
		if c.phase == phaseDone {
			return
		}
	}
	if c.cfg.StallTimeout < 0 {
		return
	}
	for _, id := range c.sortedIDs() {
		st := c.streams[id]
		if st == nil || !st.blocked || st.blockedSince.IsZero() {
			continue
		}
		if now.Sub(st.blockedSince) > c.cfg.StallTimeout {
			c.stats.StallResets++
			c.streamError(id, http2.ErrCodeCancel)
		}
	}
	c.flush()
}
