package h2

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Upgrade starts a connection upgraded from HTTP/1.1 with "Upgrade: h2c"
// (RFC 7540 §3.2): settings is the decoded HTTP2-Settings payload, applied
// as the client's SETTINGS (no ACK is owed); fields are the upgraded
// request's, which becomes stream 1, half-closed (remote), delivered with
// Events.Headers. Our preface goes out first; the client's preface is
// still expected on Input. Call it on a new Conn, before Input.
func (c *Conn) Upgrade(settings []byte, fields []hpack.HeaderField) error {
	if c.started || c.preface > 0 || c.phase != phasePreface {
		return fmt.Errorf("h2: Upgrade on a connection already started")
	}
	if len(settings)%6 != 0 {
		return fmt.Errorf("h2: Upgrade: HTTP2-Settings of %d bytes", len(settings))
	}
	for p := settings; len(p) > 0; p = p[6:] {
		s := http2.Setting{ID: http2.SettingID(binary.BigEndian.Uint16(p)), Val: binary.BigEndian.Uint32(p[2:])}
		if err := s.Valid(); err != nil {
			return fmt.Errorf("h2: Upgrade: %w", err)
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			c.peerInitialWindow = int64(s.Val)
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		}
	}
	if err := validRequest(fields); err != nil {
		return fmt.Errorf("h2: Upgrade: %w", err)
	}
	c.Start()
	c.lastPeer, c.lastDone = 1, 1
	st := &stream{id: 1, remoteDone: true, sendWindow: c.peerInitialWindow,
		recvWindow: int64(c.cfg.InitialWindow), declared: -1}
	c.streams = map[uint32]*stream{1: st}
	c.stats.Streams++
	c.ev.Headers(1, fields, true)
	c.flush()
	return nil
}
