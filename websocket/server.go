package websocket

import (
	"compress/flate"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Defaults of the Config fields left zero.
const (
	DefaultMaxQueuedBytes = 1 << 20
	DefaultIdleTimeout    = 60 * time.Second
	DefaultCloseTimeout   = 5 * time.Second
)

// Errors returned by Server methods.
var (
	// ErrClosed is returned for a client number that is not an open
	// WebSocket connection (never upgraded, or gone).
	ErrClosed = errors.New("websocket: connection closed")
	// ErrClosing is returned for writes to a connection whose close
	// handshake has begun.
	ErrClosing = errors.New("websocket: connection closing")
	// ErrQueueFull is returned when a write would take a connection's send
	// queue over Config.MaxQueuedBytes; the connection is being closed
	// with 1008.
	ErrQueueFull = errors.New("websocket: send queue full; closing with 1008")
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
	// MaxQueuedBytes bounds the bytes written to a connection and not yet
	// taken by the kernel. A message that would take the queue over it
	// (unless the queue is empty: one message of any size always fits) is
	// not queued; the connection is closed with 1008 instead. Zero means
	// DefaultMaxQueuedBytes (1 MiB).
	MaxQueuedBytes int
	// IdleTimeout: a connection that sends nothing for this long gets a
	// ping; if it still sends nothing for as long again, it is closed with
	// 1001. Zero means DefaultIdleTimeout (60 s); negative means never.
	IdleTimeout time.Duration
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
	QueueOverflows uint64 // connections closed with 1008 for a full send queue
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
	frames  sync.Pool // *sharedFrame
	nframes atomic.Int64
	conns   atomic.Int64
	cnt     struct {
		upgrades, refused, overflows, protoErrs atomic.Uint64
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
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	s := &Server{
		hs:  hs,
		ns:  hs.Net(),
		h:   h,
		cfg: cfg,
		opts: UpgradeOptions{
			Subprotocols:   cfg.Subprotocols,
			CheckOrigin:    cfg.CheckOrigin,
			Compression:    cfg.Compression,
			MaxMessageSize: cfg.MaxMessageSize,
		},
	}
	s.loops = make([]loopState, s.ns.Loops())
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
		Key:        string(req.Header("Sec-WebSocket-Key")),
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
	cn := ls.newConn(c)
	cn.dec.MaxMessageSize = s.cfg.MaxMessageSize
	if res.Deflate != nil {
		cn.deflate = true
		cn.dec.Decompressor = ls.decompressor()
	}
	cn.lastRead = time.Now().UnixNano()
	s.conns.Add(1)
	s.cnt.upgrades.Add(1)
	return nil
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
	conns   []*conn // by client slot
	spare   []*conn
	writes  []*userWrite // free list
	scratch []byte
	hdr     [MaxHeaderSize]byte
	comp    *Compressor
	decomp  *Decompressor
}

func (ls *loopState) newConn(c netserver.ClientNum) *conn {
	i := c.Slot()
	for i >= len(ls.conns) {
		ls.conns = append(ls.conns, nil)
	}
	var cn *conn
	if n := len(ls.spare); n > 0 {
		cn = ls.spare[n-1]
		ls.spare = ls.spare[:n-1]
		cn.dec.Reset()
		cn.dec.Decompressor = nil // Reset keeps it; this connection negotiates its own
		*cn = conn{dec: cn.dec, pending: cn.pending[:0]}
	} else {
		cn = new(conn)
	}
	cn.c = c
	ls.conns[i] = cn
	return cn
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
func (s *Server) conn(c netserver.ClientNum) *conn {
	if c.Loop() >= len(s.loops) {
		return nil
	}
	ls := &s.loops[c.Loop()]
	if i := c.Slot(); i < len(ls.conns) {
		if cn := ls.conns[i]; cn != nil && cn.c == c {
			return cn
		}
	}
	return nil
}
