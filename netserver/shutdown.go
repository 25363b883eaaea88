package netserver

import "golang.org/x/sys/unix"

// ShutdownWrite shuts c's write side down (shutdown(2) with SHUT_WR) once
// the writes queued before it are sent, so the peer reads everything and
// then end of file, while c can still be read. A failed shutdown closes c.
// It is a half-close for protocols that close in two steps (HTTP's
// lingering close, the WebSocket close handshake).
func (s *Server) ShutdownWrite(c ClientNum) error {
	return s.QueueOp(c, shutdownWrite{})
}

// shutdownWrite is the Op behind ShutdownWrite.
type shutdownWrite struct{}

func (shutdownWrite) Start(x *OpContext) {
	if !x.l.opShutdown {
		// Before 5.11 (or with FeatShutdown off): shutdown(2) on a socket
		// only queues a FIN and never blocks, so the loop can call it.
		x.Finish(unix.Shutdown(x.Fd(), unix.SHUT_WR) != nil)
		return
	}
	o := x.NewOp(0)
	if o == nil {
		x.Finish(true)
		return
	}
	o.PrepShutdown(x.Fd(), unix.SHUT_WR)
	x.Submit()
}

func (shutdownWrite) Complete(x *OpContext, _ uint64, res int32) { x.Finish(res < 0) }

func (shutdownWrite) Cancel(ClientNum) {}
