package epoll

import "github.com/uringnet/uringnet/ops"

// Probe tells which operations a Poller runs.
type Probe struct{}

// Supported reports whether a Poller runs operation c: all but Splice.
func (Probe) Supported(c ops.Code) bool {
	switch c {
	case ops.Nop, ops.Readv, ops.Writev, ops.PollAdd, ops.Sendmsg, ops.Accept, ops.Cancel,
		ops.Close, ops.Read, ops.Write, ops.Send, ops.Recv, ops.Shutdown:
		return true
	}
	return false
}

// MultishotAccept reports true: an accept may stay armed.
func (Probe) MultishotAccept() bool { return true }

// MultishotRecv reports true: a recv with buffer selection may stay armed.
func (Probe) MultishotRecv() bool { return true }
