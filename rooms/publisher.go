package rooms

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/websocket"
)

// publisher is the goroutine between the Hub and its Bus. Broadcast
// queues its messages (copied into an arena, so a message costs no
// allocation) under a bound; the goroutine takes the whole queue at a
// time, numbers each message in its room's stream and publishes it, and
// between batches it subscribes and unsubscribes rooms and sends the
// heartbeats. While the bus is down it holds the queue (see gate).
type publisher struct {
	h   *Hub
	bus Bus

	mu       sync.Mutex
	queue    []item
	arena    []byte // the queued messages' data, back to back
	held     int    // bytes held: queued, and taken by the goroutine but not yet published
	inflight int    // messages taken by the goroutine, not yet published
	ctl      []change
	closing  bool
	wake     chan struct{} // one token: the queue or ctl is not empty
	stop     chan struct{} // closed by shutdown
	done     chan struct{} // closed when run returns

	// The goroutine's own.
	out     map[string]*stream
	streams uint32 // the last stream number given
	buf     []byte
	gate    gate

	lossLog rateLog
}

// item is a queued message: arena[off:off+n] to room.
type item struct {
	room   string
	op     websocket.Opcode
	off, n int
}

// change subscribes (sub) or unsubscribes a room.
type change struct {
	r   *room
	sub bool
}

// stream is the numbering of a room's messages from this instance.
type stream struct {
	id   uint32
	seq  uint64
	used time.Time
}

func newPublisher(h *Hub) *publisher {
	return &publisher{
		h: h, bus: h.cfg.Bus,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		out: map[string]*stream{},
	}
}

// enqueue copies a message into the queue; false means the queue is full
// or shut down.
func (p *publisher) enqueue(room string, op websocket.Opcode, msg []byte) bool {
	cost := len(msg) + itemCost
	p.mu.Lock()
	if p.closing || len(p.queue)+p.inflight >= p.h.cfg.MaxQueued || p.held+cost > p.h.cfg.MaxQueuedBytes {
		p.mu.Unlock()
		return false
	}
	p.queue = append(p.queue, item{room: room, op: op, off: len(p.arena), n: len(msg)})
	p.arena = append(p.arena, msg...)
	p.held += cost
	p.mu.Unlock()
	p.signal()
	return true
}

// control queues a subscription change; changes are never dropped (there
// is one per room made or ended) until the Hub shuts down, after which
// there are no more subscriptions.
func (p *publisher) control(r *room, sub bool) {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	p.ctl = append(p.ctl, change{r: r, sub: sub})
	p.mu.Unlock()
	p.signal()
}

func (p *publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run is the publisher goroutine.
func (p *publisher) run() {
	defer close(p.done)
	beat := time.NewTicker(p.h.cfg.Heartbeat)
	defer beat.Stop()
	// While the gate is shut nothing wakes the goroutine when the bus
	// comes back: it looks again at every poll.
	poll := time.NewTicker(min(p.h.cfg.Heartbeat/4, 50*time.Millisecond))
	defer poll.Stop()
	p.gate.init(p, time.Now())
	var queue []item
	var arena []byte
	var ctl []change
	for {
		select {
		case <-p.wake:
		case <-poll.C:
		case now := <-beat.C:
			p.heartbeat(now)
		case <-p.stop:
			p.drain(queue, arena, ctl)
			return
		}
		if p.gate.open(time.Now()) {
			queue, arena, ctl = p.batch(queue, arena, ctl, false)
		} else {
			ctl = p.changes(ctl)
		}
	}
}

// changes makes the subscription changes queued; ctl is the spare
// buffer, and the one returned is for the next call.
func (p *publisher) changes(ctl []change) []change {
	p.mu.Lock()
	ctl, p.ctl = p.ctl, ctl[:0]
	p.mu.Unlock()
	p.apply(ctl)
	clear(ctl)
	return ctl
}

// batch publishes what is queued, until the queue stays empty or (unless
// last) the gate shuts; the slices passed in are the spare buffers, and
// the ones returned are for the next call.
func (p *publisher) batch(queue []item, arena []byte, ctl []change, last bool) ([]item, []byte, []change) {
	for first := true; ; first = false {
		if !first && !last && !p.gate.open(time.Now()) {
			return queue, arena, ctl
		}
		p.mu.Lock()
		queue, p.queue = p.queue, queue[:0]
		arena, p.arena = p.arena, arena[:0]
		ctl, p.ctl = p.ctl, ctl[:0]
		p.inflight = len(queue)
		p.mu.Unlock()
		if len(queue) == 0 && len(ctl) == 0 {
			return queue, arena, ctl
		}
		p.apply(ctl)
		clear(ctl)
		held := 0
		now := time.Now()
		for _, it := range queue {
			p.publish(it, arena[it.off:it.off+it.n], now)
			held += it.n + itemCost
		}
		clear(queue) // the room names
		p.mu.Lock()
		p.held -= held
		p.inflight = 0
		p.mu.Unlock()
		if cap(arena) > 2*p.h.cfg.MaxQueuedBytes {
			arena = nil
		}
	}
}

// publish numbers a message and hands it to the bus.
func (p *publisher) publish(it item, data []byte, now time.Time) {
	h := p.h
	st := p.out[it.room]
	if st == nil {
		p.streams++
		st = &stream{id: p.streams}
		p.out[it.room] = st
	}
	st.used = now
	st.seq++
	p.buf = appendMessage(p.buf[:0], h.id, st.id, st.seq, it.op, data)
	if err := p.bus.Publish(it.room, p.buf); err != nil {
		st.seq-- // never sent: not a gap for the others
		h.cnt.dropped.Add(1)
		p.lossLog.warn(h.log, "rooms: bus refused a message: dropped for the other instances",
			"room", it.room, "err", err, "dropped", h.cnt.dropped.Load())
		return
	}
	h.cnt.published.Add(1)
}

// apply makes the subscription changes.
func (p *publisher) apply(ctl []change) {
	for _, c := range ctl {
		r := c.r
		if !c.sub {
			if r.sub != nil {
				if err := r.sub.Unsubscribe(); err != nil {
					p.h.log.Warn("rooms: unsubscribe", "room", r.name, "err", err)
				}
				r.sub = nil
			}
			continue
		}
		if r.gone.Load() {
			continue // emptied before it was subscribed
		}
		sub, err := p.bus.Subscribe(r.name, func(b []byte) { p.h.deliver(r, b) })
		if err != nil {
			p.h.cnt.subscribeErrors.Add(1)
			p.h.log.Warn("rooms: subscribe: the room gets no messages from other instances", "room", r.name, "err", err)
			continue
		}
		r.sub = sub
	}
}

// heartbeat tells the other instances each room's last number and local
// members, and forgets the numbering of rooms idle too long and the
// instances not heard from.
func (p *publisher) heartbeat(now time.Time) {
	h := p.h
	forget := now.Add(-forgetBeats * h.cfg.Heartbeat)
	up := p.bus.Status().Connected() // no heartbeats into a bus that is down
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		var id uint32
		var seq uint64
		if st := p.out[r.name]; st != nil {
			id, seq = st.id, st.seq
		}
		if up {
			p.beat(r.name, id, seq, uint32(r.count.Load()))
		}
		r.expire(forget)
	}
	for name, st := range p.out {
		if h.room(name) != nil {
			continue // beaten above
		}
		if st.used.Before(forget) {
			delete(p.out, name)
			continue
		}
		if up {
			p.beat(name, st.id, st.seq, 0)
		}
	}
}

func (p *publisher) beat(room string, id uint32, seq uint64, members uint32) {
	p.buf = appendHeartbeat(p.buf[:0], p.h.id, id, seq, members)
	if p.bus.Publish(room, p.buf) == nil {
		p.h.cnt.heartbeats.Add(1)
	}
}

// shutdown refuses new messages, lets the goroutine publish the queue
// and end the subscriptions, and waits for it until ctx is done.
func (p *publisher) shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return nil
	}
	p.closing = true
	p.mu.Unlock()
	close(p.stop)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rooms: shutdown: %w", ctx.Err())
	}
}

// drain is run's last batch: the whole queue, published or, if the bus
// does not take it, dropped; then every subscription ends.
func (p *publisher) drain(queue []item, arena []byte, ctl []change) {
	p.batch(queue, arena, ctl, true)
	h := p.h
	h.mu.Lock()
	for _, r := range h.rooms {
		if r.sub != nil {
			r.sub.Unsubscribe()
			r.sub = nil
		}
	}
	h.mu.Unlock()
}

// rateLog logs at most one warning a second; the ones it holds back are
// counted in the next.
type rateLog struct {
	last       atomic.Int64 // unix nanoseconds of the last line
	suppressed atomic.Uint64
}

func (l *rateLog) warn(log *slog.Logger, msg string, args ...any) {
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(time.Second) || !l.last.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	log.Warn(msg, args...)
}
