package rooms

import "sync/atomic"

// counters are the Hub's counters.
type counters struct {
	sent, published, dropped           atomic.Uint64
	received, lost, duplicates, echoes atomic.Uint64
	malformed, undelivered, heartbeats atomic.Uint64
	subscribeErrors                    atomic.Uint64
}

// Stats is a snapshot of a Hub's rooms and counters.
type Stats struct {
	// Rooms is the number of rooms with local members; Members, of
	// memberships on this instance.
	Rooms, Members int
	// Sent counts the Broadcast calls.
	Sent uint64
	// Published counts the messages the bus took; Dropped those it did
	// not (the queue was full, the Hub shut down, or Bus.Publish
	// failed). A dropped message reached the local members only.
	Published, Dropped uint64
	// Queued and QueuedBytes are the messages waiting for the bus (or
	// being published) and the memory they hold (data and
	// bookkeeping); Holding says the queue is held because the bus is
	// down or the other instances are not back yet.
	Queued, QueuedBytes int
	Holding             bool
	// Received counts the messages from other instances handed to the
	// local members; Lost those that the numbering says never arrived
	// (a bus outage, or this instance a slow consumer); Duplicates those
	// that arrived again and were not delivered twice. Echoes counts
	// this instance's own messages that the bus delivered back
	// (ignored).
	Received, Lost, Duplicates, Echoes uint64
	// Malformed counts bus payloads that were not room messages;
	// Undelivered, messages from the bus that a loop was too far behind
	// to take (websocket.ErrBusy).
	Malformed, Undelivered uint64
	// Heartbeats counts the heartbeats published; SubscribeErrors the
	// rooms the bus refused to subscribe.
	Heartbeats, SubscribeErrors uint64
	// Bus is the bus's state; its zero value without a bus.
	Bus BusStatus
}

// Stats returns the Hub's counters now.
func (h *Hub) Stats() Stats {
	st := Stats{
		Sent: h.cnt.sent.Load(), Published: h.cnt.published.Load(), Dropped: h.cnt.dropped.Load(),
		Received: h.cnt.received.Load(), Lost: h.cnt.lost.Load(),
		Duplicates: h.cnt.duplicates.Load(), Echoes: h.cnt.echoes.Load(),
		Malformed: h.cnt.malformed.Load(), Undelivered: h.cnt.undelivered.Load(),
		Heartbeats: h.cnt.heartbeats.Load(), SubscribeErrors: h.cnt.subscribeErrors.Load(),
	}
	h.mu.Lock()
	st.Rooms = len(h.rooms)
	for _, r := range h.rooms {
		st.Members += int(r.count.Load())
	}
	h.mu.Unlock()
	if p := h.pub; p != nil {
		p.mu.Lock()
		st.Queued, st.QueuedBytes = len(p.queue)+p.inflight, p.held
		p.mu.Unlock()
		st.Holding = p.gate.shut.Load()
		st.Bus = p.bus.Status()
	}
	return st
}
