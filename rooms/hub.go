package rooms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/websocket"
)

// Config configures a Hub. The zero value is a Hub of this instance's
// rooms only.
type Config struct {
	// Bus joins the Hub to the other instances' Hubs: nil keeps the
	// rooms local.
	Bus Bus
	// Instance is this Hub's id on the bus, unique among the instances:
	// 0 picks a random one (the default; an id must not be reused by a
	// restarted process, or its new messages look like old ones).
	Instance uint64
	// MaxQueued and MaxQueuedBytes bound the messages waiting for the
	// bus (default 16384 and 16 MiB): beyond them Broadcast delivers
	// locally, drops the message for the bus and counts it.
	MaxQueued      int
	MaxQueuedBytes int
	// Heartbeat is how often each room tells the other instances its
	// last message number and member count (default 1 s). A loss at the
	// end of a burst is counted within a heartbeat, and Presence counts
	// an instance's members until 3 heartbeats were missed.
	Heartbeat time.Duration
	// Logger gets the bus state changes and the losses (rate-limited);
	// nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultMaxQueued      = 16384
	defaultMaxQueuedBytes = 16 << 20
	defaultHeartbeat      = time.Second
	// forgetBeats is how many heartbeats an instance or an idle room's
	// numbering is remembered: long enough to count what a bus outage
	// lost once it is over.
	forgetBeats = 60
	// presenceBeats is how many heartbeats an instance's members count.
	presenceBeats = 3
	// itemCost is the memory a queued message holds besides its data.
	itemCost = 48
)

// ErrDropped is returned by Broadcast when the message reached the local
// members but not the bus: the queue for the bus was full or the Hub is
// shut down. It is counted in Stats.Dropped.
var ErrDropped = errors.New("rooms: message not queued for the bus")

// Hub keeps the rooms of one websocket.Server and, with a Bus, joins
// them to the same rooms on other instances. Its methods are safe for
// concurrent use, from the loops' callbacks or any goroutine.
type Hub struct {
	ws  *websocket.Server
	cfg Config
	id  uint64
	log *slog.Logger

	mu    sync.RWMutex // Broadcast only reads rooms
	rooms map[string]*room

	pub *publisher // nil without a bus
	cnt counters
}

// New returns a Hub over ws. With cfg.Bus it starts the goroutine that
// publishes; Shutdown stops it.
func New(ws *websocket.Server, cfg Config) (*Hub, error) {
	if ws == nil {
		return nil, errors.New("rooms: New without a websocket.Server")
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = defaultMaxQueued
	}
	if cfg.MaxQueuedBytes <= 0 {
		cfg.MaxQueuedBytes = defaultMaxQueuedBytes
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = defaultHeartbeat
	}
	h := &Hub{ws: ws, cfg: cfg, id: cfg.Instance, log: cfg.Logger, rooms: map[string]*room{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	for h.id == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("rooms: instance id: %w", err)
		}
		h.id = binary.BigEndian.Uint64(b[:])
	}
	if cfg.Bus != nil {
		h.pub = newPublisher(h)
		go h.pub.run()
	}
	return h, nil
}

// Instance returns the Hub's id on the bus.
func (h *Hub) Instance() uint64 { return h.id }

// Join makes c, an open WebSocket connection of the Hub's server, a
// member of room; joining twice is joining once. The first member of a
// room subscribes this instance to it on the bus (in the background:
// messages the other instances send before that completes do not reach
// it). Leave c from every room it joined when it closes
// (WebSocketClose).
func (h *Hub) Join(name string, c netserver.ClientNum) {
	h.mu.Lock()
	r := h.rooms[name]
	if r == nil {
		r = newRoom(name)
		h.rooms[name] = r
		if h.pub != nil {
			h.pub.control(r, true)
		}
	}
	r.add(c)
	h.mu.Unlock()
}

// Leave takes c out of room. The last member leaving ends the room here
// and its subscription.
func (h *Hub) Leave(name string, c netserver.ClientNum) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[name]
	if r == nil {
		return
	}
	if left, ok := r.remove(c); !ok || left > 0 {
		return
	}
	delete(h.rooms, name)
	r.gone.Store(true)
	if h.pub != nil {
		h.pub.control(r, false)
	}
}

// room returns the room called name, nil if it has no local members.
func (h *Hub) room(name string) *room {
	h.mu.RLock()
	r := h.rooms[name]
	h.mu.RUnlock()
	return r
}

// Broadcast sends msg, a message of type op (OpText or OpBinary), to
// every member of room: the local ones at once, with one
// websocket.Server.Broadcast, and, with a bus, those of the other
// instances through it. The sender need not be a member. Messages from
// one goroutine (or one loop's callbacks) reach every member in the
// order they were sent.
//
// The local error, if any, is websocket.Server.Broadcast's (ErrBusy when
// a loop is behind); otherwise ErrDropped says the message did not reach
// the bus's queue. msg is not used after Broadcast returns.
func (h *Hub) Broadcast(name string, op websocket.Opcode, msg []byte) error {
	if op != websocket.OpText && op != websocket.OpBinary {
		return websocket.ErrOpcode
	}
	var err error
	if r := h.room(name); r != nil {
		if members := r.list(); len(members) > 0 {
			err = h.ws.Broadcast(members, op, msg)
		}
	}
	h.cnt.sent.Add(1)
	if h.pub != nil && !h.pub.enqueue(name, op, msg) {
		h.cnt.dropped.Add(1)
		h.pub.lossLog.warn(h.log, "rooms: bus queue full or shut down: message dropped for the other instances",
			"room", name, "dropped", h.cnt.dropped.Load())
		if err == nil {
			err = ErrDropped
		}
	}
	return err
}

// Local returns the members room has on this instance.
func (h *Hub) Local(name string) int {
	if r := h.room(name); r != nil {
		return int(r.count.Load())
	}
	return 0
}

// Presence returns the members room has on every instance: the local
// ones, and those the others reported in their last heartbeats (an
// instance that missed three heartbeats is not counted).
func (h *Hub) Presence(name string) int {
	r := h.room(name)
	if r == nil {
		return 0 // without local members this instance hears no heartbeats
	}
	n := int(r.count.Load())
	if h.pub != nil {
		n += r.presence(time.Now().Add(-presenceBeats * h.cfg.Heartbeat))
	}
	return n
}

// deliver hands a payload the bus delivered on r to r's local members.
func (h *Hub) deliver(r *room, payload []byte) {
	p, err := decode(payload)
	if err != nil {
		h.cnt.malformed.Add(1)
		h.log.Debug("rooms: malformed bus payload", "room", r.name, "err", err, "bytes", len(payload))
		return
	}
	if p.origin == h.id {
		h.cnt.echoes.Add(1)
		return
	}
	v := r.judge(&p, time.Now())
	if v.lost > 0 {
		h.cnt.lost.Add(v.lost)
		h.pub.lossLog.warn(h.log, "rooms: messages from another instance lost on the bus",
			"room", r.name, "instance", fmt.Sprintf("%016x", p.origin), "lost", v.lost)
	}
	if v.dup {
		h.cnt.duplicates.Add(1)
	}
	if !v.deliver {
		return
	}
	h.cnt.received.Add(1)
	if r.gone.Load() {
		return
	}
	if members := r.list(); len(members) > 0 {
		if h.ws.Broadcast(members, p.op, p.data) != nil {
			h.cnt.undelivered.Add(1)
		}
	}
}

// Shutdown stops the Hub's publishing: Broadcast delivers locally only
// from then on, the messages already queued are published until ctx is
// done, and the subscriptions end. It does not close the Bus, which is
// the caller's.
func (h *Hub) Shutdown(ctx context.Context) error {
	if h.pub == nil {
		return nil
	}
	return h.pub.shutdown(ctx)
}
