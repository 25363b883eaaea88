package h2

import "time"

// Defaults applied by NewConn to the zero fields of a Config.
const (
	DefaultMaxConcurrentStreams = 128
	DefaultInitialWindow        = 256 << 10
	DefaultConnWindow           = 1 << 20
	DefaultMaxFrameSize         = 16384
	DefaultMaxHeaderListSize    = 16 << 10
	DefaultMaxHeaderBlock       = 64 << 10
	DefaultMaxBlockFrames       = 64
	DefaultHeaderTableSize      = 4096
	DefaultResetRate            = 100
	DefaultPingRate             = 20
	DefaultSettingsRate         = 10
	DefaultEmptyFrameRate       = 200
	DefaultStallTimeout         = 30 * time.Second
	DefaultSettingsTimeout      = 10 * time.Second
	DefaultHeaderTimeout        = 10 * time.Second
	DefaultShutdownTimeout      = time.Second
)

// maxWindow is the largest flow-control window RFC 9113 §6.9.1 allows.
const maxWindow = 1<<31 - 1

// Config holds the limits of a Conn. A zero field takes its default (the
// Default constants); for the rates, a negative value means no limit.
type Config struct {
	// MaxConcurrentStreams is the number of streams the peer may have open
	// or half-closed at once (SETTINGS_MAX_CONCURRENT_STREAMS); a HEADERS
	// beyond it gets RST_STREAM(REFUSED_STREAM).
	MaxConcurrentStreams uint32
	// InitialWindow is each stream's receive window
	// (SETTINGS_INITIAL_WINDOW_SIZE), at most 2^31-1.
	InitialWindow uint32
	// ConnWindow is the connection's receive window, raised from 65,535 by
	// a WINDOW_UPDATE sent by Start; at most 2^31-1.
	ConnWindow uint32
	// MaxFrameSize is the largest frame payload we accept
	// (SETTINGS_MAX_FRAME_SIZE), between 16,384 and 2^24-1. It also bounds
	// the partial frame the Conn buffers.
	MaxFrameSize uint32
	// MaxHeaderListSize bounds a decoded header list (RFC 9113 §6.5.2
	// size: name, value and 32 bytes per field) and any single decoded
	// string. A larger list is answered with 431 and the stream closed.
	MaxHeaderListSize uint32
	// MaxHeaderBlock bounds the compressed bytes of one header block,
	// HEADERS and CONTINUATION together; beyond it the connection gets
	// GOAWAY(ENHANCE_YOUR_CALM).
	MaxHeaderBlock int
	// MaxBlockFrames bounds the frames of one header block, HEADERS and
	// CONTINUATION together; beyond it, GOAWAY(ENHANCE_YOUR_CALM).
	MaxBlockFrames int
	// HeaderTableSize is the HPACK dynamic table size the decoder allows
	// (SETTINGS_HEADER_TABLE_SIZE).
	HeaderTableSize uint32

	// ResetRate is the number of peer RST_STREAMs per second (on streams
	// whose response had not ended) and refused streams a connection may
	// cause, with a burst of ResetBurst (default twice the rate); beyond
	// it, GOAWAY(ENHANCE_YOUR_CALM). CVE-2023-44487.
	ResetRate, ResetBurst int
	// PingRate caps the PINGs per second (burst PingBurst), counted only
	// when we sent no HEADERS or DATA since the previous PING.
	PingRate, PingBurst int
	// SettingsRate caps the SETTINGS frames per second (burst
	// SettingsBurst).
	SettingsRate, SettingsBurst int
	// EmptyFrameRate caps the frames per second that carry nothing a
	// request needs (burst EmptyFrameBurst): DATA without payload or
	// END_STREAM, empty CONTINUATION, PRIORITY, unknown frame types, and
	// DATA or RST_STREAM on closed streams (not WINDOW_UPDATE: clients
	// credit streams that just ended as they read). CVE-2019-9518.
	EmptyFrameRate, EmptyFrameBurst int

	// StallTimeout is how long a stream may wait for send window (after
	// WriteData could not write everything) before Tick resets it with
	// RST_STREAM(CANCEL). Negative: never.
	StallTimeout time.Duration

	// SettingsTimeout is how long the peer may take to acknowledge our
	// SETTINGS before Tick ends the connection with
	// GOAWAY(SETTINGS_TIMEOUT). Negative: never.
	SettingsTimeout time.Duration

	// HeaderTimeout bounds, as checked by Tick, the time from NewConn to
	// the client's preface and SETTINGS, and the time a header block may
	// stay unfinished across CONTINUATION frames (slowloris); beyond it,
	// GOAWAY(PROTOCOL_ERROR). Negative: never.
	HeaderTimeout time.Duration

	// ShutdownTimeout is how long Shutdown waits, as checked by Tick, for
	// the ACK of its PING before the final GOAWAY; the connection closes
	// no earlier (unless the peer closes it). Negative: no wait, a single
	// GOAWAY naming the last stream processed.
	ShutdownTimeout time.Duration

	// Now returns the current time for the rate caps; nil means time.Now.
	Now func() time.Time
}

// withDefaults returns cfg with its zero fields set and its values clamped
// to what the protocol allows.
func (cfg Config) withDefaults() Config {
	u32 := func(v *uint32, def, lo, hi uint32) {
		if *v == 0 {
			*v = def
		}
		*v = min(max(*v, lo), hi)
	}
	u32(&cfg.MaxConcurrentStreams, DefaultMaxConcurrentStreams, 1, maxWindow)
	u32(&cfg.InitialWindow, DefaultInitialWindow, 1, maxWindow)
	u32(&cfg.ConnWindow, DefaultConnWindow, 65535, maxWindow)
	u32(&cfg.MaxFrameSize, DefaultMaxFrameSize, 16384, 1<<24-1)
	u32(&cfg.MaxHeaderListSize, DefaultMaxHeaderListSize, 1, 1<<30)
	u32(&cfg.HeaderTableSize, DefaultHeaderTableSize, 1, 1<<30)
	if cfg.MaxHeaderBlock <= 0 {
		cfg.MaxHeaderBlock = DefaultMaxHeaderBlock
	}
	if cfg.MaxBlockFrames <= 0 {
		cfg.MaxBlockFrames = DefaultMaxBlockFrames
	}
	rate := func(r, b *int, def int) {
		if *r == 0 {
			*r = def
		}
		if *b <= 0 {
			*b = 2 * *r
		}
	}
	rate(&cfg.ResetRate, &cfg.ResetBurst, DefaultResetRate)
	rate(&cfg.PingRate, &cfg.PingBurst, DefaultPingRate)
	rate(&cfg.SettingsRate, &cfg.SettingsBurst, DefaultSettingsRate)
	rate(&cfg.EmptyFrameRate, &cfg.EmptyFrameBurst, DefaultEmptyFrameRate)
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.SettingsTimeout == 0 {
		cfg.SettingsTimeout = DefaultSettingsTimeout
	}
	if cfg.HeaderTimeout == 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}
