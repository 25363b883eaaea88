package rooms

// Bus carries room messages between instances: a publish/subscribe
// channel per room. Package natsbus implements it over NATS.
//
// A Bus must keep the order of one publisher's messages on one room, as
// NATS and Redis pub/sub do on one connection, and should not deliver an
// instance its own messages (the Hub ignores them either way).
type Bus interface {
	// Publish sends payload to every instance subscribed to room. The
	// Hub calls it from one goroutine; it may block while the bus takes
	// the message, and must not keep payload after it returns. An error
	// means the message was not taken.
	Publish(room string, payload []byte) error
	// Subscribe delivers the payloads published on room, by any
	// instance, to deliver, from the bus's goroutine: one call at a
	// time per subscription, in each publisher's order. payload is not
	// used by the bus after deliver returns.
	Subscribe(room string, deliver func(payload []byte)) (Subscription, error)
	// Status reports the connection to the bus.
	Status() BusStatus
}

// Subscription is one room's subscription on a Bus.
type Subscription interface {
	// Unsubscribe stops the deliveries. A delivery under way may still
	// complete.
	Unsubscribe() error
}

// BusStatus is a Bus's connection state and fault counters.
type BusStatus struct {
	// State is "connected", "connecting", "reconnecting", "draining" or
	// "closed".
	State string
	// Server is the address of the bus server in use, "" when none.
	Server string
	// Disconnects counts the connections lost; Reconnects, those made
	// again after one.
	Disconnects, Reconnects uint64
	// SlowConsumer counts the times the bus dropped messages for this
	// instance because it did not take them fast enough (NATS's slow
	// consumer; each such episode is counted once). Which messages is
	// known from the sequence numbers: Stats.Lost.
	SlowConsumer uint64
	// LastError is the last connection error, "" if none.
	LastError string
}

// Connected reports whether the bus is up.
func (s BusStatus) Connected() bool { return s.State == "connected" }
