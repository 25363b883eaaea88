package websocket

import (
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Defaults of the Config fields left zero.
const (
	DefaultMaxQueuedBytes = 1 << 20
	// DefaultHardQueuedFactor: HardQueuedBytes defaults to this many times
	// MaxQueuedBytes.
	DefaultHardQueuedFactor = 2
	DefaultStallTimeout     = 10 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
	DefaultMessageTimeout   = 60 * time.Second
	DefaultCloseTimeout     = 5 * time.Second
)

// QueuedWriteCost is what each write with a callback (a Broadcast frame, a
// Write or a Writev) counts against a connection's send queue limits on
// top of its bytes: the bookkeeping that netserver and this package keep
// for it until it is sent (a netserver write item, a pending entry, their
// share of slice growth), rounded up. Send, control frames and small
// broadcast frames are copied into netserver's pooled 16 KiB buffers,
// coalesced, and count their bytes only.
const QueuedWriteCost = 256

// Errors returned by Server methods.
var (
	// ErrClosed is returned for a client number that is not an open
	// WebSocket connection (never upgraded, or gone).
	ErrClosed = errors.New("websocket: connection closed")
	// ErrClosing is returned for writes to a connection whose close
	// handshake has begun.
	ErrClosing = errors.New("websocket: connection closing")
	// ErrQueueFull is returned when a write would take a connection's send
	// queue over Config.HardQueuedBytes; the connection is being closed
	// with 1008.
	ErrQueueFull = errors.New("websocket: send queue full; closing with 1008")
	// ErrBusy is returned by Broadcast when a loop has fallen
	// more than MaxHandoverBytes behind the broadcasts handed to it: its
	// clients do not get the message. A chat server may close the sender
	// (with 1013, Try Again Later, say): it sends faster than the server
	// can deliver.
	ErrBusy = errors.New("websocket: loop too far behind; broadcast not delivered to its clients")
	// ErrOpcode is returned for a write whose opcode is not OpText or
	// OpBinary.
	ErrOpcode = errors.New("websocket: messages are OpText or OpBinary")
)

// Handler receives the events of a Server's WebSocket connections. Every
// method runs on the connection's event loop and must not block. Embed
// NopHandler and override what you need.
type Handler interface {
	// WebSocketRead is called with one whole message (reassembled from its
	// fragments, decompressed, text checked to be UTF-8). Server.MessageType
	// tells whether it is text or binary. data is valid during the call
	// only: copy what you keep. failed is true (data nil) once, when the
	// connection failed: a protocol error by the peer, or a failed read;
	// WebSocketClose follows.
	WebSocketRead(data []byte, c netserver.ClientNum, failed bool)
	// WebSocketWrite is called once per Server.Write, with its data, when
	// the message was written or the write failed.
	WebSocketWrite(data []byte, c netserver.ClientNum, failed bool)
	// WebSocketWritev is called once per Server.Writev, with its buffers,
	// when the message was written or the write failed.
	WebSocketWritev(bufs [][]byte, c netserver.ClientNum, failed bool)
	// WebSocketClose is called once when the connection is gone; the
	// client number is dead from then on.
	WebSocketClose(c netserver.ClientNum)
}

// NopHandler implements every Handler method as a no-op.
type NopHandler struct{}

// WebSocketRead does nothing.
func (NopHandler) WebSocketRead([]byte, netserver.ClientNum, bool) {}

// WebSocketWrite does nothing.
func (NopHandler) WebSocketWrite([]byte, netserver.ClientNum, bool) {}

// WebSocketWritev does nothing.
func (NopHandler) WebSocketWritev([][]byte, netserver.ClientNum, bool) {}

// WebSocketClose does nothing.
func (NopHandler) WebSocketClose(netserver.ClientNum) {}

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// Subprotocols the server speaks, most preferred first.
	Subprotocols []string
	// CheckOrigin decides whether to accept a handshake's Origin; nil
	// means SameOrigin.
	CheckOrigin func(origin, host string) bool
	// Compression enables permessage-deflate (RFC 7692) for clients that
	// offer it. Off by default. Each message is compressed on its own (no
	// context takeover in either direction; see the package doc).
	Compression bool
	// CompressionLevel is the compress/flate level; 0 means
	// flate.BestSpeed.
	CompressionLevel int
	// MaxMessageSize limits a received message after reassembly and
	// decompression; a larger one fails the connection with 1009. Zero
	// means DefaultMaxMessageSize (16 MiB).
	MaxMessageSize int64
	// MaxQueuedBytes is the soft limit of a connection's send queue: what
	// was written to it and not yet taken by the kernel, counted at its
	// real cost (the bytes, plus QueuedWriteCost for each Broadcast frame,
	// Write or Writev waiting). A connection may go over it in a burst;
	// while it is over, the kernel must take some of its bytes at least
	// every StallTimeout, or the connection is a slow consumer and is
	// closed with 1008 ("slow consumer"). Zero means DefaultMaxQueuedBytes
	// (1 MiB).
	//
	// So a reader that keeps reading is never cut off for a burst (its
	// backlog drains, however large the burst, up to HardQueuedBytes),
	// while a client that stops reading is closed StallTimeout after its
	// backlog passed MaxQueuedBytes, or at once when it reaches
	// HardQueuedBytes, whichever comes first. Neither ever delays the
	// other connections: writes never wait for a slow one.
	MaxQueuedBytes int
	// HardQueuedBytes is the hard limit of a connection's send queue,
	// counted as for MaxQueuedBytes: a message that would take the queue
	// over it (unless the queue is empty: one message of any size always
	// fits) is not queued, and the connection is closed with 1008 ("send
	// queue full") instead, or at once when its backlog alone is already
	// over the limit. It bounds the memory a connection can hold. Zero
	// means DefaultHardQueuedFactor (2) times MaxQueuedBytes; it is never
	// below MaxQueuedBytes.
	HardQueuedBytes int
	// StallTimeout is how long a connection whose send queue is over
	// MaxQueuedBytes may go without the kernel taking any of its bytes
	// before it is closed with 1008 as a slow consumer (checked on every
	// tick of the http.Server). Zero means DefaultStallTimeout (10 s);
	// negative means never (only HardQueuedBytes applies).
	StallTimeout time.Duration
	// IdleTimeout: a connection that sends nothing for this long gets a
	// ping; if it still sends nothing for as long again, it is closed with
	// 1001. Zero means DefaultIdleTimeout (60 s); negative means never.
	IdleTimeout time.Duration
	// MessageTimeout bounds the time a client may take to send a message
	// once its first byte has arrived: a message (or frame) still
	// incomplete after it closes the connection with 1008 ("message
	// timeout"), however steadily its fragments trickle in (each of which
	// resets the idle timer). Zero means DefaultMessageTimeout (60 s);
	// negative means no limit.
	MessageTimeout time.Duration
	// Logger receives the server's debug logs (slow consumers, message
	// timeouts). Nil means slog.Default().
	Logger *slog.Logger
	// CloseTimeout bounds the close handshake: a peer that has not
	// answered our close frame (or closed the TCP connection after a
	// protocol error) within it is cut off. Zero means
	// DefaultCloseTimeout (5 s).
	CloseTimeout time.Duration
}

// Stats are a Server's counters.
type Stats struct {
	Conns          int64  // WebSocket connections open now
	Upgrades       uint64 // handshakes accepted
	Refused        uint64 // handshakes refused (400, 403, 426)
	SharedFrames   int64  // broadcast frames still referenced by a send
	QueueOverflows uint64 // connections closed with 1008 for reaching HardQueuedBytes
	SlowConsumers  uint64 // connections closed with 1008 for stalling over MaxQueuedBytes
	Timeouts       uint64 // connections closed with 1008 for exceeding MessageTimeout
	Dropped        uint64 // broadcast shares not handed to a loop too far behind (ErrBusy)
	ProtocolErrors uint64 // connections failed for a protocol error
}

// Server runs WebSocket connections on the event loops of an http.Server:
// Upgrade takes a connection over from an HTTP request, and from then on
// its frames are decoded and encoded on its loop. Every method is safe
// from any goroutine; on the connection's loop (from a callback) they act
// at once, elsewhere they are handed to the loop.
type Server struct {
	hs      *http.Server
	ns      *netserver.Server
	h       Handler
	cfg     Config
	opts    UpgradeOptions
	loops   []loopState
	log     *slog.Logger
	frames  sync.Pool  // *sharedFrame
	smalls  sync.Pool  // *[QueuedWriteCost]byte: small frames being broadcast
	hand    []handover // by loop: broadcasts handed over from elsewhere
	nframes atomic.Int64
	conns   atomic.Int64
	states  *netserver.Table[conn] // each connection's WebSocket state
	closing atomic.Bool            // Shutdown has begun
	cnt     struct {
		upgrades, refused, overflows, slow, timeouts, dropped, protoErrs atomic.Uint64
	}
}

// NewServer creates a WebSocket server on the loops of hs that calls h.
// Create it before hs serves; hs's handler calls Upgrade for the requests
// it wants to upgrade.
func NewServer(hs *http.Server, cfg Config, h Handler) *Server {
	if h == nil {
		h = NopHandler{}
	}
	if cfg.CompressionLevel == 0 {
		cfg.CompressionLevel = flate.BestSpeed
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxQueuedBytes <= 0 {
		cfg.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if cfg.HardQueuedBytes <= 0 {
		cfg.HardQueuedBytes = DefaultHardQueuedFactor * cfg.MaxQueuedBytes
	}
	cfg.HardQueuedBytes = max(cfg.HardQueuedBytes, cfg.MaxQueuedBytes)
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MessageTimeout == 0 {
		cfg.MessageTimeout = DefaultMessageTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	s := &Server{
		hs:     hs,
		ns:     hs.Net(),
		h:      h,
		states: netserver.NewTable[conn](hs.Net()),
		cfg:    cfg,
		log:    cfg.Logger,
		opts: UpgradeOptions{
			Subprotocols:   cfg.Subprotocols,
			CheckOrigin:    cfg.CheckOrigin,
			Compression:    cfg.Compression,
			MaxMessageSize: cfg.MaxMessageSize,
		},
	}
	s.loops = make([]loopState, s.ns.Loops())
	s.states.Reset = resetConn
	s.hand = make([]handover, s.ns.Loops())
	s.ns.AddTicker((*ticker)(s))
	return s
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Conns:          s.conns.Load(),
		Upgrades:       s.cnt.upgrades.Load(),
		Refused:        s.cnt.refused.Load(),
		SharedFrames:   s.nframes.Load(),
		QueueOverflows: s.cnt.overflows.Load(),
		SlowConsumers:  s.cnt.slow.Load(),
		Timeouts:       s.cnt.timeouts.Load(),
		Dropped:        s.cnt.dropped.Load(),
		ProtocolErrors: s.cnt.protoErrs.Load(),
	}
}

// Upgrade answers req, the request of HTTP connection c, with the
// WebSocket opening handshake (RFC 6455 4.2) and takes c over: from then
// on c is a WebSocket connection of s. Call it from HTTPRead, on c's loop.
//
// A request that is not a valid handshake is answered with 400 (malformed),
// 403 (origin refused) or 426 (version other than 13, with
// Sec-WebSocket-Version: 13), a body stating the reason, and the
// connection is closed; Upgrade then returns the *HandshakeError.
func (s *Server) Upgrade(req *http.Request, c netserver.ClientNum) error {
	if !s.ns.OnLoop(c) {
		return http.ErrNoRequest
	}
	ur := UpgradeRequest{
		Method:     req.MethodString(),
		Major:      req.Major,
		Minor:      req.Minor,
		Host:       string(req.Host),
		Upgrade:    joinHeader(req, "Upgrade"),
		Connection: joinHeader(req, "Connection"),
		Key:        joinHeader(req, "Sec-WebSocket-Key"),
		Version:    string(req.Header("Sec-WebSocket-Version")),
		Origin:     string(req.Header("Origin")),
		Protocol:   joinHeader(req, "Sec-WebSocket-Protocol"),
		Extensions: joinHeader(req, "Sec-WebSocket-Extensions"),
	}
	res, err := CheckUpgrade(&ur, &s.opts)
	if err == nil && req.Body != http.BodyNone && req.ContentLength != 0 {
		err = handshakeError(400, "a handshake has no body")
	}
	if err != nil {
		s.cnt.refused.Add(1)
		var he *HandshakeError
		if errors.As(err, &he) {
			s.ns.Send(c, he.AppendResponse(nil))
		}
		s.hs.CloseClient(c)
		return err
	}
	ls := &s.loops[c.Loop()]
	ls.scratch = AppendUpgradeResponse(ls.scratch[:0], ur.Key, res)
	if err := s.ns.Send(c, ls.scratch); err != nil {
		return err
	}
	if err := s.hs.Detach(c, (*rawHandler)(s)); err != nil {
		return err
	}
	cn := s.states.New(c)
	cn.c = c
	cn.dec.MaxMessageSize = s.cfg.MaxMessageSize
	if res.Deflate != nil {
		cn.deflate = true
		cn.dec.Decompressor = ls.decompressor()
	}
	cn.lastRead = time.Now().UnixNano()
	if q := s.ns.Queued(c); q > 0 {
		cn.handed = uint64(q) // the 101 response
	}
	cn.lastCopy = true // the 101 response is a copy
	s.conns.Add(1)
	s.cnt.upgrades.Add(1)
	if s.closing.Load() {
		s.closeConn(cn, CloseGoingAway, "server shutting down")
	}
	return nil
}

// Shutdown closes every WebSocket connection with 1001 ("server shutting
// down"), the close frame queued after what was written before, and waits
// until the close handshakes are over and every connection is gone, or
// until ctx ends (it then returns ctx's error, wrapped; the connections
// left are cut off by their CloseTimeout, or by shutting the http.Server
// down). Connections upgraded after Shutdown began are closed the same
// way. Call it before shutting the http.Server down (whose Shutdown would
// close the connections without a close frame), and not from a loop.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	for l := range s.loops {
		if err := s.ns.RunOnLoop(l, func() { s.goAway(l) }); err != nil {
			if s.conns.Load() == 0 {
				return nil
			}
			return fmt.Errorf("websocket: shutdown: loop %d: %w", l, err)
		}
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for s.conns.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("websocket: shutdown: %d connections left: %w", s.conns.Load(), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// goAway starts the close handshake with 1001 on every open connection of
// loop l, on that loop.
func (s *Server) goAway(l int) {
	s.states.ForEach(l, func(_ netserver.ClientNum, cn *conn) {
		s.closeConn(cn, CloseGoingAway, "server shutting down")
	})
}

// joinHeader returns every value of the fields named name, joined with
// commas.
func joinHeader(req *http.Request, name string) string {
	var b []byte
	req.HeaderValues(name, func(v []byte) bool {
		if b != nil {
			b = append(b, ',')
		}
		b = append(b, v...)
		return true
	})
	return string(b)
}

// MessageType returns the type (OpText or OpBinary) of the message being
// delivered to c by the current WebSocketRead call. Call it from
// WebSocketRead; elsewhere the result is meaningless.
func (s *Server) MessageType(c netserver.ClientNum) Opcode {
	if cn := s.conn(c); cn != nil {
		return cn.msgOp
	}
	return 0
}

// loopState is what one event loop keeps for its WebSocket connections.
// Only that loop touches it.
type loopState struct {
	writes  []*userWrite // free list
	scratch []byte
	hdr     [MaxHeaderSize]byte
	comp    *Compressor
	decomp  *Decompressor
}

// resetConn prepares a freed conn for a new connection, keeping its
// decoder's and queue's buffers.
func resetConn(cn *conn) {
	cn.dec.Reset()
	cn.dec.Decompressor = nil // Reset keeps it; this connection negotiates its own
	*cn = conn{dec: cn.dec, pending: cn.pending[:0]}
}

func (ls *loopState) decompressor() *Decompressor {
	if ls.decomp == nil {
		ls.decomp = NewDecompressor()
	}
	return ls.decomp
}

func (s *Server) compressor(ls *loopState) *Compressor {
	if ls.comp == nil {
		c, err := NewCompressor(s.cfg.CompressionLevel)
		if err != nil {
			c, _ = NewCompressor(flate.BestSpeed)
		}
		ls.comp = c
	}
	return ls.comp
}

// conn returns the state of WebSocket connection c, or nil. Call it on
// c's loop.
func (s *Server) conn(c netserver.ClientNum) *conn { return s.states.Get(c) }
