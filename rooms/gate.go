package rooms

import (
	"sync/atomic"
	"time"
)

// gate holds the publisher's queue while the bus is down, and after it
// comes back until the other instances are back too.
//
// Publishing the moment this instance reconnects would lose what it sends
// to every instance that has not resubscribed yet: the one that
// reconnects first would send its backlog to nobody. So after a
// disconnection the gate stays shut until every instance heard on a room
// here shortly before the outage has been heard again since (a bus client
// resubscribes before it publishes, so hearing an instance's heartbeat
// says it listens again), or until presenceBeats heartbeats have passed
// (an instance that does not come back is not waited for). Meanwhile the
// queue's bounds apply: what does not fit is dropped and counted.
//
// The publisher goroutine owns the gate; shut is read by Stats.
type gate struct {
	p           *publisher
	down        bool      // the bus was not connected at the last look
	downAt      time.Time // when it was first seen down
	upAt        time.Time // when it was seen back; zero once the gate opened
	disconnects uint64    // BusStatus.Disconnects at the last look
	shut        atomic.Bool
}

// init starts the gate as if the bus had just gone down, so that the
// first connection opens it (there is nobody to wait for then).
func (g *gate) init(p *publisher, now time.Time) {
	g.p = p
	g.down, g.downAt = true, now
	g.shut.Store(true)
}

// open reports whether the publisher may publish now.
func (g *gate) open(now time.Time) bool {
	h := g.p.h
	st := g.p.bus.Status()
	switch {
	case !st.Connected():
		if !g.down {
			g.down, g.downAt = true, now
			h.log.Warn("rooms: bus down: holding the messages for the other instances",
				"state", st.State, "max_queued", h.cfg.MaxQueued, "max_queued_bytes", h.cfg.MaxQueuedBytes)
		}
		g.upAt = time.Time{}
		g.disconnects = st.Disconnects
		g.shut.Store(true)
		return false
	case g.down || st.Disconnects != g.disconnects:
		// Back, or gone and back between two looks.
		if !g.down {
			g.downAt = now
		}
		g.down, g.upAt, g.disconnects = false, now, st.Disconnects
		g.shut.Store(true)
	}
	if g.upAt.IsZero() {
		return true
	}
	settle := presenceBeats * h.cfg.Heartbeat
	if now.Sub(g.upAt) < settle && !h.peersBack(g.downAt.Add(-settle), g.upAt) {
		return false
	}
	g.upAt = time.Time{}
	g.shut.Store(false)
	return true
}

// peersBack reports whether every instance heard on a local room after
// before has been heard again after since.
func (h *Hub) peersBack(before, since time.Time) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, r := range h.rooms {
		if !r.heardSince(before, since) {
			return false
		}
	}
	return true
}
