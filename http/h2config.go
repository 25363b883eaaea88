package http

import (
	"crypto/tls"
	"slices"
	"sync/atomic"
	"time"

	"github.com/uringnet/uringnet/h2"
)

// HTTP2Config configures HTTP/2 (RFC 9113). HTTP/2 is on unless Disable
// is set: over TLS it is chosen by ALPN ("h2" is put first in the TLS
// config's NextProtos), in cleartext by the client's connection preface
// (prior knowledge) or by an "Upgrade: h2c" request. Zero fields take the
// defaults of package h2; for the rates a negative value means no limit.
type HTTP2Config struct {
	// Disable turns HTTP/2 off: no "h2" in ALPN, and a preface is
	// answered as HTTP/1.1 would (505).
	Disable bool
	// NoCleartext allows HTTP/2 only over TLS: no prior knowledge and no
	// Upgrade: h2c.
	NoCleartext bool
	// MaxConcurrentStreams is SETTINGS_MAX_CONCURRENT_STREAMS (default
	// 128); streams beyond it get RST_STREAM(REFUSED_STREAM).
	MaxConcurrentStreams uint32
	// StreamWindow is each stream's receive window (default 256 KiB): the
	// most request body held for a stream whose handler paused it. It is
	// capped at MaxBuffered.
	StreamWindow uint32
	// ConnWindow is the connection's receive window (default 1 MiB),
	// and so the most request body held for all its streams together: a
	// stream's credit comes back only once its handler has taken the
	// bytes, so paused streams that fill it hold up their siblings'
	// bodies (as with net/http's server) until they resume or end.
	ConnWindow uint32
	// HeaderTableSize is the HPACK dynamic table the peer may use for its
	// requests (default 4096): memory per connection.
	HeaderTableSize uint32
	// MaxHeaderBlock bounds the compressed bytes of a header block across
	// CONTINUATION frames (default 64 KiB); beyond it
	// GOAWAY(ENHANCE_YOUR_CALM).
	MaxHeaderBlock int
	// ResetRate caps the peer's resets per second (rapid reset,
	// CVE-2023-44487; default 100, burst twice that).
	ResetRate int
	// PingRate caps PINGs per second (default 20).
	PingRate int
	// SettingsRate caps SETTINGS frames per second (default 10).
	SettingsRate int
	// EmptyFrameRate caps frames per second that carry nothing (default
	// 200; CVE-2019-9518).
	EmptyFrameRate int
	// WindowTimeout is how long a stream may wait for the peer's window
	// before it is reset with RST_STREAM(CANCEL) (default 30 s).
	WindowTimeout time.Duration
}

// h2Config returns the h2.Config of s's HTTP/2 connections.
func (s *Server) h2Config() h2.Config {
	c := s.cfg.HTTP2
	win := c.StreamWindow
	if win == 0 {
		win = h2.DefaultInitialWindow
	}
	if s.set.maxBuffered > 0 && int64(win) > int64(s.set.maxBuffered) {
		win = uint32(s.set.maxBuffered)
	}
	return h2.Config{
		MaxConcurrentStreams: c.MaxConcurrentStreams,
		InitialWindow:        win,
		ConnWindow:           c.ConnWindow,
		MaxHeaderListSize:    uint32(s.lim.MaxHeaderBytes),
		MaxHeaderBlock:       c.MaxHeaderBlock,
		HeaderTableSize:      c.HeaderTableSize,
		ResetRate:            c.ResetRate,
		PingRate:             c.PingRate,
		SettingsRate:         c.SettingsRate,
		EmptyFrameRate:       c.EmptyFrameRate,
		StallTimeout:         c.WindowTimeout,
		HeaderTimeout:        s.set.headerTimeout,
	}
}

// withH2ALPN returns cfg with "h2" first in NextProtos (and "http/1.1"
// after it), a clone: the caller's config is not changed.
func withH2ALPN(cfg *tls.Config) *tls.Config {
	if cfg == nil || slices.Contains(cfg.NextProtos, "h2") {
		return cfg
	}
	c := cfg.Clone()
	protos := []string{"h2"}
	if !slices.Contains(c.NextProtos, "http/1.1") {
		protos = append(protos, "http/1.1")
	}
	c.NextProtos = append(protos, c.NextProtos...)
	return c
}

// H2Counters count the server's HTTP/2 connections and streams. The
// engine's counters (GoAwaySent to RefusedStreams) are added at each of
// the loops' ticks (a quarter of the shortest HTTP timeout, at most 1 s)
// and when a connection ends.
type H2Counters struct {
	Conns          uint64 // HTTP/2 connections begun
	ConnsOpen      int64  // HTTP/2 connections open now
	ALPN           uint64 // begun over TLS by ALPN
	PriorKnowledge uint64 // begun in cleartext by the connection preface
	Upgrades       uint64 // begun in cleartext by Upgrade: h2c
	Streams        uint64 // request streams served
	StreamsOpen    int64  // streams open now
	NoSlot         uint64 // streams refused for want of a client slot (RST_STREAM(REFUSED_STREAM))

	GoAwaySent         uint64
	ResetsSent         uint64
	ResetsReceived     uint64
	ProtocolErrors     uint64
	FlowControlErrors  uint64
	RapidResets        uint64
	ContinuationFloods uint64
	HeaderListTooLarge uint64
	HPACKErrors        uint64
	SettingsFloods     uint64
	PingFloods         uint64
	EmptyFrameFloods   uint64
	StallResets        uint64
	RefusedStreams     uint64
}

// h2counters are H2Counters as the loops update them.
type h2counters struct {
	conns, alpn, prior, upgrades, streams, noSlot atomic.Uint64
	connsOpen, streamsOpen                        atomic.Int64
	// the engine's, added at each tick and at each connection's end
	goAway, rstSent, rstRecv, proto, flow, rapid, cont, tooLarge, hpack, settings, ping, empty, stall, refusedEng atomic.Uint64
}

// add adds what a connection's engine counted from was to now.
func (c *h2counters) add(now, was h2.Stats) {
	if now == was {
		return
	}
	for _, f := range []struct {
		c        *atomic.Uint64
		now, was uint64
	}{
		{&c.goAway, now.GoAwaySent, was.GoAwaySent},
		{&c.rstSent, now.ResetsSent, was.ResetsSent},
		{&c.rstRecv, now.ResetsReceived, was.ResetsReceived},
		{&c.proto, now.ProtocolErrors, was.ProtocolErrors},
		{&c.flow, now.FlowControlErrors, was.FlowControlErrors},
		{&c.rapid, now.RapidResets, was.RapidResets},
		{&c.cont, now.ContinuationFloods, was.ContinuationFloods},
		{&c.tooLarge, now.HeaderListTooLarge, was.HeaderListTooLarge},
		{&c.hpack, now.HPACKErrors, was.HPACKErrors},
		{&c.settings, now.SettingsFloods, was.SettingsFloods},
		{&c.ping, now.PingFloods, was.PingFloods},
		{&c.empty, now.EmptyFrameFloods, was.EmptyFrameFloods},
		{&c.stall, now.StallResets, was.StallResets},
		{&c.refusedEng, now.RefusedStreams, was.RefusedStreams},
	} {
		if f.now != f.was {
			f.c.Add(f.now - f.was)
		}
	}
}

func (c *h2counters) read() H2Counters {
	return H2Counters{
		Conns: c.conns.Load(), ConnsOpen: c.connsOpen.Load(), ALPN: c.alpn.Load(),
		PriorKnowledge: c.prior.Load(), Upgrades: c.upgrades.Load(), Streams: c.streams.Load(),
		StreamsOpen: c.streamsOpen.Load(), NoSlot: c.noSlot.Load(),
		GoAwaySent: c.goAway.Load(), ResetsSent: c.rstSent.Load(), ResetsReceived: c.rstRecv.Load(),
		ProtocolErrors: c.proto.Load(), FlowControlErrors: c.flow.Load(), RapidResets: c.rapid.Load(),
		ContinuationFloods: c.cont.Load(), HeaderListTooLarge: c.tooLarge.Load(), HPACKErrors: c.hpack.Load(),
		SettingsFloods: c.settings.Load(), PingFloods: c.ping.Load(), EmptyFrameFloods: c.empty.Load(),
		StallResets: c.stall.Load(), RefusedStreams: c.refusedEng.Load(),
	}
}
