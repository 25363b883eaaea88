package redisbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uringnet/uringnet/rooms"
)

// Config configures a Bus. Addr is required.
type Config struct {
	// Addr is the Redis server, host:port.
	Addr string
	// Prefix goes before each room's name to make its channel (default
	// "uringnet.rooms:").
	Prefix string
	// PendingMsgs bounds each subscription's messages waiting for
	// delivery (default 65536).
	PendingMsgs int
	// PublishTimeout bounds one Publish (default 1 s).
	PublishTimeout time.Duration
	// HealthInterval is how often the connection is checked (default
	// 250 ms).
	HealthInterval time.Duration
	// Logger gets the state changes; nil means slog.Default().
	Logger *slog.Logger
}

// Bus is a rooms.Bus over Redis pub/sub.
type Bus struct {
	rdb *redis.Client
	cfg Config
	log *slog.Logger

	up                            atomic.Bool
	everUp                        atomic.Bool
	closed                        atomic.Bool
	disconnects, reconnects, slow atomic.Uint64
	mu                            sync.Mutex
	lastErr                       string
	subs                          map[*subscription]struct{} // under mu
	stop                          chan struct{}
	done                          chan struct{}
}

var _ rooms.Bus = (*Bus)(nil)

// Dial makes a Bus for the Redis server at cfg.Addr. A server that is not
// reachable yet is not an error: Status says "connecting" until it is.
func Dial(cfg Config) (*Bus, error) {
	if cfg.Addr == "" {
		return nil, errors.New("redisbus: no Addr")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "uringnet.rooms:"
	}
	if cfg.PendingMsgs <= 0 {
		cfg.PendingMsgs = 65536
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = time.Second
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 250 * time.Millisecond
	}
	b := &Bus{
		rdb: redis.NewClient(&redis.Options{Addr: cfg.Addr, MaxRetries: -1, DialTimeout: time.Second}),
		cfg: cfg, log: cfg.Logger, subs: map[*subscription]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.check()
	go b.monitor()
	return b, nil
}

// monitor checks the connection every HealthInterval.
func (b *Bus) monitor() {
	defer close(b.done)
	t := time.NewTicker(b.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.check()
		}
	}
}

// check pings the server and records a change of state.
func (b *Bus) check() {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.HealthInterval*2)
	err := b.rdb.Ping(ctx).Err()
	cancel()
	b.setUp(err)
}

// setUp records the outcome of a round trip.
func (b *Bus) setUp(err error) {
	if err != nil {
		b.setErr(err)
		if b.up.CompareAndSwap(true, false) {
			b.disconnects.Add(1)
			b.log.Warn("redisbus: disconnected", "err", err)
		}
		return
	}
	if b.up.CompareAndSwap(false, true) {
		if b.everUp.Swap(true) {
			b.reconnects.Add(1)
			b.log.Info("redisbus: reconnected", "server", b.cfg.Addr)
		} else {
			b.log.Info("redisbus: connected", "server", b.cfg.Addr)
		}
	}
}

func (b *Bus) setErr(err error) {
	b.mu.Lock()
	b.lastErr = err.Error()
	b.mu.Unlock()
}

// Channel returns the Redis channel room is carried on.
func (b *Bus) Channel(room string) string { return b.cfg.Prefix + room }

// Publish implements rooms.Bus.
func (b *Bus) Publish(room string, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.PublishTimeout)
	defer cancel()
	err := b.rdb.Publish(ctx, b.Channel(room), payload).Err()
	if err != nil {
		b.setUp(err)
		return fmt.Errorf("redisbus: publish to %q: %w", room, err)
	}
	return nil
}

// subscription reads one room's channel.
type subscription struct {
	b      *Bus
	ps     *redis.PubSub
	cancel context.CancelFunc
	// lost is set when its connection failed and cleared when Redis
	// confirms the subscription again: until then the Bus is not
	// "connected", so that a heartbeat of this instance, sent only
	// while connected, tells the others it listens again.
	lost atomic.Bool
}

// Unsubscribe implements rooms.Subscription.
func (s *subscription) Unsubscribe() error {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	s.cancel()
	return s.ps.Close()
}

// subsLost reports whether a subscription is waiting to be made again.
func (b *Bus) subsLost() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.lost.Load() {
			return true
		}
	}
	return false
}

// Subscribe implements rooms.Bus.
func (b *Bus) Subscribe(room string, deliver func([]byte)) (rooms.Subscription, error) {
	if b.closed.Load() {
		return nil, fmt.Errorf("redisbus: subscribe to %q: %w", room, redis.ErrClosed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscription{b: b, ps: b.rdb.Subscribe(ctx, b.Channel(room)), cancel: cancel}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	queue := make(chan []byte, b.cfg.PendingMsgs)
	go b.read(ctx, s, queue)
	go func() {
		for p := range queue {
			deliver(p)
		}
	}()
	return s, nil
}

// read moves a subscription's messages into its queue until ctx ends; a
// full queue drops them (a slow consumer).
func (b *Bus) read(ctx context.Context, s *subscription, queue chan<- []byte) {
	defer close(queue)
	slow := false
	for {
		v, err := s.ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			// go-redis reconnects and resubscribes on the next call.
			s.lost.Store(true)
			select {
			case <-ctx.Done():
				return
			case <-time.After(b.cfg.HealthInterval):
			}
			continue
		}
		switch m := v.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				s.lost.Store(false)
			}
		case *redis.Message:
			select {
			case queue <- []byte(m.Payload):
				slow = false
			default:
				if !slow {
					slow = true
					b.slow.Add(1)
					b.log.Warn("redisbus: slow consumer: messages dropped", "channel", m.Channel)
				}
			}
		}
	}
}

// Status implements rooms.Bus.
func (b *Bus) Status() rooms.BusStatus {
	st := rooms.BusStatus{
		Disconnects: b.disconnects.Load(), Reconnects: b.reconnects.Load(), SlowConsumer: b.slow.Load(),
	}
	switch {
	case b.closed.Load():
		st.State = "closed"
	case b.up.Load() && !b.subsLost():
		st.State, st.Server = "connected", b.cfg.Addr
	case b.everUp.Load():
		st.State = "reconnecting"
	default:
		st.State = "connecting"
	}
	b.mu.Lock()
	st.LastError = b.lastErr
	b.mu.Unlock()
	return st
}

// Close stops the health check and closes the client (and with it every
// subscription).
func (b *Bus) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	close(b.stop)
	<-b.done
	if err := b.rdb.Close(); err != nil {
		return fmt.Errorf("redisbus: close: %w", err)
	}
	return nil
}
