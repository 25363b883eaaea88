package natsbus

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/uringnet/uringnet/rooms"
)

// Config configures a Bus. URL is required.
type Config struct {
	// URL is the NATS server, or a comma-separated list of them
	// (nats://host:4222).
	URL string
	// Name is the connection's name, shown by the server's monitoring.
	Name string
	// Prefix is the subjects' first tokens: room R is on Prefix.R
	// (default "uringnet.rooms"). A room name that is not a valid
	// subject token (letters, digits, '-' and '_') is carried as '~' and
	// its base64url encoding.
	Prefix string
	// MinBackoff and MaxBackoff bound the waits between reconnection
	// attempts, which double from the first to the second (default
	// 100 ms and 2 s), with up to 20% jitter.
	MinBackoff, MaxBackoff time.Duration
	// PendingMsgs and PendingBytes bound each subscription's messages
	// waiting for delivery (default 65536 and 64 MiB): a slow
	// consumer's excess is dropped by nats.go.
	PendingMsgs, PendingBytes int
	// Logger gets the connection's state changes; nil means
	// slog.Default().
	Logger *slog.Logger
	// Options are more nats.go options, applied after this package's.
	Options []nats.Option
}

// Bus is a rooms.Bus over one NATS connection.
type Bus struct {
	nc     *nats.Conn
	cfg    Config
	log    *slog.Logger
	prefix string

	disconnects, slow atomic.Uint64
	mu                sync.Mutex
	lastErr           string
}

var _ rooms.Bus = (*Bus)(nil)

// Dial connects to NATS. A server that is not reachable yet is not an
// error: the Bus keeps trying in the background, as it does after losing
// a connection, and Status says "connecting".
func Dial(cfg Config) (*Bus, error) {
	if cfg.URL == "" {
		return nil, errors.New("natsbus: no URL")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "uringnet.rooms"
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(2*time.Second, cfg.MinBackoff)
	}
	if cfg.PendingMsgs <= 0 {
		cfg.PendingMsgs = 65536
	}
	if cfg.PendingBytes <= 0 {
		cfg.PendingBytes = 64 << 20
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, prefix: cfg.Prefix + "."}
	if b.log == nil {
		b.log = slog.Default()
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		// Nothing is buffered in nats.go while the connection is down:
		// the Hub holds its queue then, and publishes it once the other
		// instances are back (a buffer flushed on reconnection reaches
		// only those that resubscribed first).
		nats.ReconnectBufSize(-1),
		nats.CustomReconnectDelay(b.backoff),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.disconnects.Add(1)
			b.setErr(err)
			b.log.Warn("natsbus: disconnected; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("natsbus: reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			b.log.Info("natsbus: connected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.slow.Add(1)
				subj := ""
				if sub != nil {
					subj = sub.Subject
				}
				b.log.Warn("natsbus: slow consumer: NATS dropped messages for this instance", "subject", subj)
				return
			}
			b.setErr(err)
			b.log.Warn("natsbus: error", "err", err)
		}),
	}
	nc, err := nats.Connect(cfg.URL, append(opts, cfg.Options...)...)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect %s: %w", cfg.URL, err)
	}
	b.nc = nc
	return b, nil
}

// backoff is the wait before reconnection attempt n (from 1).
func (b *Bus) backoff(n int) time.Duration {
	d := b.cfg.MinBackoff
	for i := 1; i < n && d < b.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, b.cfg.MaxBackoff)
	return d + rand.N(d/5+1)
}

func (b *Bus) setErr(err error) {
	if err == nil {
		return
	}
	b.mu.Lock()
	b.lastErr = err.Error()
	b.mu.Unlock()
}

// Subject returns the subject room is carried on.
func (b *Bus) Subject(room string) string {
	if validToken(room) {
		return b.prefix + room
	}
	return b.prefix + "~" + base64.RawURLEncoding.EncodeToString([]byte(room))
}

// validToken reports whether s can be a subject token as it is.
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Publish implements rooms.Bus.
func (b *Bus) Publish(room string, payload []byte) error {
	if err := b.nc.Publish(b.Subject(room), payload); err != nil {
		return fmt.Errorf("natsbus: publish to %q: %w", room, err)
	}
	return nil
}

// Subscribe implements rooms.Bus.
func (b *Bus) Subscribe(room string, deliver func([]byte)) (rooms.Subscription, error) {
	sub, err := b.nc.Subscribe(b.Subject(room), func(m *nats.Msg) { deliver(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("natsbus: subscribe to %q: %w", room, err)
	}
	if err := sub.SetPendingLimits(b.cfg.PendingMsgs, b.cfg.PendingBytes); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("natsbus: subscribe to %q: %w", room, err)
	}
	return sub, nil
}

// Status implements rooms.Bus.
func (b *Bus) Status() rooms.BusStatus {
	st := rooms.BusStatus{
		State:        state(b.nc.Status()),
		Disconnects:  b.disconnects.Load(),
		Reconnects:   b.nc.Stats().Reconnects,
		SlowConsumer: b.slow.Load(),
	}
	if st.State == "connected" {
		st.Server = b.nc.ConnectedUrlRedacted()
	}
	b.mu.Lock()
	st.LastError = b.lastErr
	b.mu.Unlock()
	return st
}

func state(s nats.Status) string {
	switch s {
	case nats.CONNECTED:
		return "connected"
	case nats.CONNECTING:
		return "connecting"
	case nats.RECONNECTING:
		return "reconnecting"
	case nats.DRAINING_SUBS, nats.DRAINING_PUBS:
		return "draining"
	}
	return "closed"
}

// Conn returns the NATS connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Close flushes what is buffered (for up to 2 s) and closes the
// connection.
func (b *Bus) Close() error {
	if b.nc.IsConnected() {
		b.nc.FlushTimeout(2 * time.Second)
	}
	b.nc.Close()
	return nil
}
