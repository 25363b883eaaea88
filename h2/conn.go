package h2

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// ClientPreface is what an HTTP/2 client sends first (RFC 9113 §3.4).
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// maxIdleOut is the largest output buffer a Conn keeps between flushes;
// a larger one goes to its Loop's spare.
const maxIdleOut = 4 << 10

// frameHeaderLen is the size of a frame header (RFC 9113 §4.1).
const frameHeaderLen = 9

// phase is where a connection is in its life.
type phase uint8

const (
	phasePreface  phase = iota // waiting for the client preface
	phaseSettings              // preface seen, the first frame must be SETTINGS
	phaseOpen                  // frames flow
	phaseDone                  // failed or finished: input ignored
)

// Conn is the server side of one HTTP/2 connection, without a socket:
// bytes go in with Input, come out through Events.Output. A Conn is not
// safe for concurrent use: it belongs to one goroutine (an event loop) and
// starts none.
type Conn struct {
	cfg Config
	ev  Events

	phase         phase
	preface       int       // bytes of ClientPreface matched
	started       bool      // our SETTINGS written
	inInput       bool      // Input is running: Output waits for its end
	shutdownAt    time.Time // Shutdown's first GOAWAY and PING went out; zero: none
	closing       bool      // Shutdown's final GOAWAY sent: waiting for streams
	reported      bool      // Closed called
	err           error
	peerGone      bool // the peer sent GOAWAY
	lastPeer      uint32
	lastDone      uint32 // last stream id processed (for GOAWAY)
	streams       map[uint32]*stream
	settingsAcked bool
	settingsSent  time.Time // when Start wrote our SETTINGS
	created       time.Time // when NewConn made it

	loop *Loop
	// in holds a partial frame between Input calls, at most
	// 9 + MaxFrameSize bytes.
	in  []byte
	out *bytes.Buffer // output until the next flush; nil: none yet

	// The header block being collected.
	block       []byte
	blockID     uint32
	blockEnd    bool // END_STREAM on its HEADERS
	blockFrames int
	inBlock     bool      // a HEADERS without END_HEADERS came: CONTINUATION must follow
	blockPrio   bool      // self-dependent priority
	blockSince  time.Time // when its HEADERS came; zero when no block is open

	dec      *hpack.Decoder
	fields   []hpack.HeaderField
	listSize uint32
	tooLarge bool

	// Send side: the peer's settings and our connection send window.
	peerInitialWindow int64
	peerMaxFrame      uint32
	connSend          int64
	// Receive side: what the peer may still send on the connection, and
	// consumed bytes not yet credited.
	connRecv    int64
	connUnacked int64

	// resetIDs are the last streams we reset, resetNext the next slot.
	resetIDs  [4]uint32
	resetNext uint8

	resets, pings, settings, empties bucket
	wroteSincePing                   bool

	stats Stats
}

// NewConn returns a Conn with a Loop of its own, for a connection whose
// first bytes are still to come to Input, reporting to ev. Zero fields of
// cfg take their defaults. Conns on one event loop should share a Loop
// (Loop.NewConn).
func NewConn(cfg Config, ev Events) *Conn { return makeConn(NewLoop(), cfg, ev) }

func makeConn(l *Loop, cfg Config, ev Events) *Conn {
	cfg = cfg.withDefaults()
	c := &Conn{
		loop:              l,
		cfg:               cfg,
		ev:                ev,
		peerInitialWindow: 65535,
		peerMaxFrame:      16384,
		connSend:          65535,
		connRecv:          65535,
		resets:            newBucket(cfg.ResetRate, cfg.ResetBurst),
		pings:             newBucket(cfg.PingRate, cfg.PingBurst),
		settings:          newBucket(cfg.SettingsRate, cfg.SettingsBurst),
		empties:           newBucket(cfg.EmptyFrameRate, cfg.EmptyFrameBurst),
	}
	c.created = cfg.Now()
	c.dec = hpack.NewDecoder(cfg.HeaderTableSize, c.onField)
	c.dec.SetMaxStringLength(int(cfg.MaxHeaderListSize))
	c.dec.SetAllowedMaxDynamicTableSize(cfg.HeaderTableSize)
	return c
}

// Stats returns the Conn's counters.
func (c *Conn) Stats() Stats { return c.stats }

// Err returns the connection error, or nil while the connection works or
// after a graceful end.
func (c *Conn) Err() error {
	if e, ok := c.err.(*ConnError); ok {
		return e
	}
	return nil
}

// Start writes the server preface: our SETTINGS and a WINDOW_UPDATE
// raising the connection window to Config.ConnWindow. Input calls it when
// the client preface is complete if the owner has not.
func (c *Conn) Start() {
	if c.started || c.phase == phaseDone {
		return
	}
	c.started = true
	c.settingsSent = c.now()
	c.framer().WriteSettings(
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingHeaderTableSize, Val: c.cfg.HeaderTableSize},
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: c.cfg.MaxConcurrentStreams},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: c.cfg.InitialWindow},
		http2.Setting{ID: http2.SettingMaxFrameSize, Val: c.cfg.MaxFrameSize},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: c.cfg.MaxHeaderListSize},
		http2.Setting{ID: settingNoRFC7540Priorities, Val: 1},
	)
	if inc := int64(c.cfg.ConnWindow) - c.connRecv; inc > 0 {
		c.framer().WriteWindowUpdate(0, uint32(inc))
		c.connRecv += inc
	}
	c.flush()
}

// settingNoRFC7540Priorities is SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218
// §2.1).
const settingNoRFC7540Priorities http2.SettingID = 0x9

// Input feeds bytes from the peer, split anywhere. It returns the
// connection error once the connection failed (the GOAWAY is then already
// out); later input is ignored.
func (c *Conn) Input(p []byte) error {
	if c.phase == phaseDone {
		return c.Err()
	}
	if c.loop.reading {
		return errReentrantInput
	}
	c.inInput, c.loop.reading = true, true
	defer func() { c.loop.reading = false }() // even if an event panics
	c.input(p)
	c.inInput = false
	c.flush()
	return c.Err()
}

func (c *Conn) input(p []byte) {
	if c.phase == phasePreface {
		n := min(len(p), len(ClientPreface)-c.preface)
		if string(p[:n]) != ClientPreface[c.preface:c.preface+n] {
			c.fail(http2.ErrCodeProtocol, "bad client preface")
			return
		}
		c.preface += n
		p = p[n:]
		if c.preface < len(ClientPreface) {
			return
		}
		c.phase = phaseSettings
		c.Start()
	}
	// Complete the saved partial frame first, taking from p only what it
	// lacks.
	for len(c.in) > 0 && len(p) > 0 && c.phase != phaseDone {
		need := frameHeaderLen
		if len(c.in) >= frameHeaderLen {
			need += int(frameLen(c.in))
		}
		k := min(need-len(c.in), len(p))
		c.in = append(c.in, p[:k]...)
		p = p[k:]
		if len(c.in) == frameHeaderLen {
			if !c.prescan(c.in) {
				return
			}
			c.in = slices.Grow(c.in, int(frameLen(c.in)))
		}
		if len(c.in) >= frameHeaderLen && len(c.in) == frameHeaderLen+int(frameLen(c.in)) {
			c.frame(c.in)
			c.in = c.in[:0]
		}
	}
	// Then whole frames straight from p; a partial one is saved.
	for len(p) > 0 && c.phase != phaseDone {
		if len(p) < frameHeaderLen {
			c.in = append(c.in, p...)
			return
		}
		if !c.prescan(p) {
			return
		}
		n := frameHeaderLen + int(frameLen(p))
		if len(p) < n {
			c.in = append(slices.Grow(c.in, n), p...)
			return
		}
		c.frame(p[:n])
		p = p[n:]
	}
	// A large buffer is given back once empty: an idle connection holds
	// none.
	if c.phase == phaseDone || len(c.in) == 0 && cap(c.in) > 1024 {
		c.in = nil
	}
}

// frameLen is the payload length in a frame header.
func frameLen(h []byte) uint32 { return uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2]) }

// prescan checks a frame header before its payload is buffered or parsed.
func (c *Conn) prescan(h []byte) bool {
	if frameLen(h) > c.cfg.MaxFrameSize {
		c.fail(http2.ErrCodeFrameSize, fmt.Sprintf("frame of %d bytes over MAX_FRAME_SIZE %d", frameLen(h), c.cfg.MaxFrameSize))
		return false
	}
	if c.phase == phaseSettings {
		if http2.FrameType(h[3]) != http2.FrameSettings || http2.Flags(h[4]).Has(http2.FlagSettingsAck) {
			c.fail(http2.ErrCodeProtocol, "first frame is not SETTINGS")
			return false
		}
		c.phase = phaseOpen
	}
	return true
}

// flush hands the pending output to the owner, then reports the end of
// the connection if it came. Inside Input it waits for Input's end.
func (c *Conn) flush() {
	if c.inInput {
		return
	}
	if c.out != nil && c.out.Len() > 0 {
		c.ev.Output(c.out.Bytes())
		c.out.Reset()
	}
	if c.out != nil && c.out.Cap() > maxIdleOut {
		c.loop.putSpare(c.out) // an idle connection keeps no large buffer
		c.out = nil
	}
	if c.phase == phaseDone && !c.reported {
		c.reported = true
		c.ev.Closed(c.Err())
	}
}

// fail ends the connection with a connection error: GOAWAY(code) with the
// last processed stream.
func (c *Conn) fail(code http2.ErrCode, reason string) {
	if c.phase == phaseDone {
		return
	}
	c.phase = phaseDone
	c.err = &ConnError{Code: code, Reason: reason}
	switch code {
	case http2.ErrCodeNo, http2.ErrCodeEnhanceYourCalm:
	case http2.ErrCodeFlowControl:
		c.stats.FlowControlErrors++
		c.stats.ProtocolErrors++
	default:
		c.stats.ProtocolErrors++
	}
	c.framer().WriteGoAway(c.lastDone, code, nil)
	c.stats.GoAwaySent++
	c.streams = nil
	c.block = nil
}

// calm ends the connection with ENHANCE_YOUR_CALM for a flood and counts it.
func (c *Conn) calm(counter *uint64, reason string) {
	*counter++
	c.fail(http2.ErrCodeEnhanceYourCalm, reason)
}

// now is the Conn's clock.
func (c *Conn) now() time.Time { return c.cfg.Now() }

// Streams returns the number of streams open or half-closed: the owner's
// idle timeout runs while it is zero.
func (c *Conn) Streams() int { return len(c.streams) }
