package h2

import (
	"time"

	"golang.org/x/net/http2"
)

// timeZero is the zero time, for clearing a timestamp.
func timeZero() time.Time { return time.Time{} }

// Tick enforces the timeouts that need a clock; the owner calls it now
// and then (every second, say) with the current time. A stream that has
// waited for send window longer than Config.StallTimeout (a zero-window
// stall) is reset with RST_STREAM(CANCEL) and a Reset event; SETTINGS not
// acknowledged within Config.SettingsTimeout end the connection with
// GOAWAY(SETTINGS_TIMEOUT).
func (c *Conn) Tick(now time.Time) {
	if c.phase == phaseDone {
		return
	}
	if c.started && !c.settingsAcked && c.cfg.SettingsTimeout >= 0 && now.Sub(c.settingsSent) > c.cfg.SettingsTimeout {
		c.fail(http2.ErrCodeSettingsTimeout, "SETTINGS not acknowledged")
		c.flush()
		return
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
