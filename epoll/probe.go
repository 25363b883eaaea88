package epoll

import "github.com/uringnet/uringnet/ring"

// Probe tells which operations a Poller runs.
type Probe struct{}

// Supported reports whether a Poller runs opcode op.
func (Probe) Supported(op uint8) bool {
	switch op {
	case ring.OpNop, ring.OpReadv, ring.OpWritev, ring.OpPollAdd, ring.OpSendmsg,
		ring.OpAccept, ring.OpAsyncCancel, ring.OpClose, ring.OpRead, ring.OpWrite,
		ring.OpSend, ring.OpRecv, ring.OpShutdown:
		return true
	}
	return false
}

// MultishotAccept reports true: an accept may stay armed.
func (Probe) MultishotAccept() bool { return true }

// MultishotRecv reports true: a recv with buffer selection may stay armed.
func (Probe) MultishotRecv() bool { return true }
