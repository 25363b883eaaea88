package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/rooms/natsbus"
)

// The chat across instances (-nats): the demo's rooms.Hub publishes what
// its members say on NATS and hands them what the other instances' said.
// Without -nats the same Hub runs without a bus, and /chat is this
// instance's only.

// dialBus connects to the NATS server(s) of -nats, or returns nil without
// the flag. A server that does not answer yet is not an error: the bus
// keeps trying in the background (its state says "connecting").
func (o options) dialBus(log *slog.Logger) (*natsbus.Bus, error) {
	if o.natsURL == "" {
		return nil, nil
	}
	name := o.natsName
	if name == "" {
		name = "uringnet-demo " + o.addr + " pid " + strconv.Itoa(os.Getpid())
	}
	bus, err := natsbus.Dial(natsbus.Config{URL: o.natsURL, Name: name, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("-nats: %w", err)
	}
	return bus, nil
}

// closeRooms ends the chat's part in the bus at shutdown, after the
// WebSocket clients have gone (so what they said last is published): the
// Hub publishes what is queued (for up to a second) and unsubscribes,
// then the bus flushes and closes. bus may be nil.
func closeRooms(hub *rooms.Hub, bus *natsbus.Bus, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := hub.Shutdown(ctx); err != nil {
		log.Warn("chat room shutdown", "err", err)
	}
	if bus != nil {
		if err := bus.Close(); err != nil {
			log.Warn("closing the bus", "err", err)
		}
	}
}

// roomsSample is the rooms' part of a snapshot.
type roomsSample struct {
	Stats    rooms.Stats
	Instance uint64
	// ChatMembers is /chat's members here; ChatPresence, on every
	// instance (from the others' heartbeats; as ChatMembers without a
	// bus).
	ChatMembers, ChatPresence int
	// Bus tells whether the Hub has one (-nats): the bus counters are
	// shown only then.
	Bus bool
}

// roomsSample reads the Hub's counters now.
func (w *wsDemo) roomsSample() roomsSample {
	return roomsSample{
		Stats: w.hub.Stats(), Instance: w.hub.Instance(),
		ChatMembers: w.hub.Local(chatRoom), ChatPresence: w.hub.Presence(chatRoom),
		Bus: w.bus,
	}
}

// roomsJSON is the rooms' part of statsJSON. The counters of the bus's
// traffic are there only with a bus (-nats).
type roomsJSON struct {
	Rooms        int    `json:"rooms"`         // rooms with members here
	Members      int    `json:"members"`       // memberships here
	ChatMembers  int    `json:"chat_members"`  // /chat's members here
	ChatPresence int    `json:"chat_presence"` // /chat's members on every instance
	Broadcasts   uint64 `json:"broadcasts"`    // messages said in a room here
	*BusTraffic
}

// BusTraffic are the Hub's counters of what went over the bus, part of
// roomsJSON with a bus. (Exported so that encoding/json can decode the
// embedded pointer, in the tests.)
type BusTraffic struct {
	Instance        string `json:"instance"`         // the Hub's id on the bus (hex)
	Published       uint64 `json:"published"`        // messages the bus took
	Dropped         uint64 `json:"dropped"`          // messages the bus did not take (the other instances missed them)
	Queued          int    `json:"queued"`           // messages waiting for the bus
	QueuedBytes     int    `json:"queued_bytes"`     // and the memory they hold
	Holding         bool   `json:"holding"`          // the queue is held: the bus is down, or the other instances not back yet
	Received        uint64 `json:"received"`         // messages from other instances handed to the members here
	Lost            uint64 `json:"lost"`             // messages of other instances that never arrived (by their numbers)
	Duplicates      uint64 `json:"duplicates"`       // messages that arrived again (not delivered twice)
	Echoes          uint64 `json:"echoes"`           // this instance's own messages the bus sent back (ignored)
	Malformed       uint64 `json:"malformed"`        // bus payloads that were not room messages
	Undelivered     uint64 `json:"undelivered"`      // messages from the bus a loop was too far behind to take
	Heartbeats      uint64 `json:"heartbeats"`       // heartbeats published
	SubscribeErrors uint64 `json:"subscribe_errors"` // rooms the bus refused to subscribe
}

// busJSON is the bus's state in statsJSON (null without -nats).
type busJSON struct {
	State        string `json:"state"`  // connected, connecting, reconnecting, draining or closed
	Server       string `json:"server"` // the server in use, "" when none
	Disconnects  uint64 `json:"disconnects"`
	Reconnects   uint64 `json:"reconnects"`
	SlowConsumer uint64 `json:"slow_consumer"` // times NATS dropped messages for this instance
	LastError    string `json:"last_error"`
}

// roomsJSONOf maps a rooms sample to its JSON (the rooms, and the bus or
// nil).
func roomsJSONOf(r *roomsSample) (*roomsJSON, *busJSON) {
	st := &r.Stats
	js := &roomsJSON{Rooms: st.Rooms, Members: st.Members, ChatMembers: r.ChatMembers,
		ChatPresence: r.ChatPresence, Broadcasts: st.Sent}
	if !r.Bus {
		return js, nil
	}
	js.BusTraffic = &BusTraffic{Instance: fmt.Sprintf("%016x", r.Instance),
		Published: st.Published, Dropped: st.Dropped, Queued: st.Queued, QueuedBytes: st.QueuedBytes,
		Holding: st.Holding, Received: st.Received, Lost: st.Lost, Duplicates: st.Duplicates, Echoes: st.Echoes,
		Malformed: st.Malformed, Undelivered: st.Undelivered, Heartbeats: st.Heartbeats,
		SubscribeErrors: st.SubscribeErrors}
	b := &st.Bus
	return js, &busJSON{State: b.State, Server: b.Server, Disconnects: b.Disconnects,
		Reconnects: b.Reconnects, SlowConsumer: b.SlowConsumer, LastError: b.LastError}
}
