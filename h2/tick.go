package h2

import (
	"time"

	"golang.org/x/net/http2"
)

// timeZero is the zero time, for clearing a timestamp.
func timeZero() time.Time { return time.Time{} }

// Tick resets, with RST_STREAM(CANCEL) and a Reset event, every stream
// that has waited for send window longer than Config.StallTimeout (the
// zero-window stall defence). The owner calls it now and then (every
// second, say) with the current time.
func (c *Conn) Tick(now time.Time) {
	if c.phase == phaseDone || c.cfg.StallTimeout < 0 {
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
