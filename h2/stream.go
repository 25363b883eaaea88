package h2

import "time"

// stream is one peer-initiated stream (RFC 9113 §5.1) from HEADERS until
// both directions ended or it was reset; then it leaves the Conn's map.
// An id not in the map and at most lastPeer is closed.
type stream struct {
	id         uint32
	remoteDone bool // END_STREAM received: half-closed (remote)
	localDone  bool // END_STREAM sent: half-closed (local)

	sendWindow int64 // the peer's window for our DATA
	recvWindow int64 // what the peer may still send us
	unacked    int64 // bytes consumed and not yet credited by WINDOW_UPDATE
	paused     bool  // Pause: credit withheld

	blocked      bool      // WriteData stopped short; WindowOpened owed
	blockedSince time.Time // when it stopped short with no window, for Tick

	declared int64 // content-length, -1 if none
	received int64 // DATA payload bytes received
}

// state names the stream's RFC 9113 §5.1 state, for errors and tests.
func (s *stream) state() string {
	switch {
	case s.remoteDone && s.localDone:
		return "closed"
	case s.remoteDone:
		return "half-closed (remote)"
	case s.localDone:
		return "half-closed (local)"
	}
	return "open"
}
