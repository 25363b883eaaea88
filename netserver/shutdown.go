package netserver

import "golang.org/x/sys/unix"

// ShutdownWrite shuts c's write side down (shutdown(2) with SHUT_WR) once
// the writes queued before it are sent, so the peer reads everything and
// then end of file, while c can still be read. A failed shutdown closes c.
// It is a half-close for protocols that close in two steps (HTTP's
// lingering close, the WebSocket close handshake). A TLS client gets a
// close_notify alert first. On a stream (NewStream) it is RawClose: its
// output ends gracefully after the writes queued before it.
func (s *Server) ShutdownWrite(c ClientNum) error {
	return s.QueueOp(c, &shutdownWrite{})
}

// shutdownWrite is the Op behind ShutdownWrite.
type shutdownWrite struct {
	notify []byte // the close_notify record in flight
}

// Tags of shutdownWrite's operations.
const (
	tagShutdown = iota
	tagNotify
)

func (w *shutdownWrite) Start(x *OpContext) {
	if x.fd < 0 && streamShutdown(x) {
		return
	}
	if cl := x.l.client(x.c); cl != nil && cl.tls != nil {
		if w.notify = x.l.tlsNotifyRecord(cl); w.notify != nil {
			o := x.NewOp(tagNotify)
			if o == nil {
				x.Finish(true)
				return
			}
			o.PrepSend(x.Fd(), w.notify, unix.MSG_NOSIGNAL)
			x.Submit()
			return
		}
	}
	w.shutdown(x)
}

func (w *shutdownWrite) shutdown(x *OpContext) {
	if !x.l.opShutdown {
		// Before 5.11 (or with FeatShutdown off): shutdown(2) on a socket
		// only queues a FIN and never blocks, so the loop can call it.
		x.Finish(unix.Shutdown(x.Fd(), unix.SHUT_WR) != nil)
		return
	}
	o := x.NewOp(tagShutdown)
	if o == nil {
		x.Finish(true)
		return
	}
	o.PrepShutdown(x.Fd(), unix.SHUT_WR)
	x.Submit()
}

func (w *shutdownWrite) Complete(x *OpContext, tag uint64, res int32) {
	if tag == tagNotify {
		// A record too short to be sent in part; a failure ends the client.
		if res != int32(len(w.notify)) {
			x.Finish(true)
			return
		}
		x.AddBytesOut(int(res))
		w.notify = nil
		w.shutdown(x)
		return
	}
	x.Finish(res < 0)
}

func (w *shutdownWrite) Cancel(ClientNum) {}
