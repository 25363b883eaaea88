package http

import (
	"os"

	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/sys/unix"
)

// h2FileOp sends a file (or a part of it) on a stream, after an optional
// HTTP/1.1 head, as DATA frames within the windows: no sendfile or
// splice under framing. The file is read by a read on the ring into a
// buffer of the loop's pool, so that a page-cache miss does not stall the
// loop (the epoll backend runs that read on the loop, as its sendfile(2)
// does). With the pool empty (h2FileBuffers streams holding one, say
// streams whose window is shut), it is read with pread on the loop into
// the loop's one shared buffer instead: memory stays bounded.
type h2FileOp struct {
	s        *Server
	head     []byte
	f        *os.File // keeps fd open; nil for a bare fd
	fd       int
	off, n   int64 // what is still to be read
	done     func(failed bool)
	x        *netserver.OpContext
	st       *h2stream
	ls       *loopState
	finished bool

	buf     []byte // lent by the loop's pool; given back once what was read in it is framed
	pending []byte // read and not framed yet (within buf)
	reading bool   // a read is in flight: buf and the file stay ours until it completes
	failed  bool   // how it ended, for done once the read in flight completes
}

// h2FileChunk is the most read from a file at a time; h2FileBuffers the
// most pool buffers (of h2FileChunk) a loop lends at once.
const (
	h2FileChunk   = 64 << 10
	h2FileBuffers = 32
)

// Start implements netserver.Op.
func (o *h2FileOp) Start(x *netserver.OpContext) {
	o.x = x
	ls, cn := o.s.conn(x.Client())
	if cn == nil || cn.h2 == nil {
		o.finish(true)
		return
	}
	o.st, o.ls = cn.h2, ls
	o.st.fileOp = o
	o.pump()
}

// pump frames what the windows and the socket's backlog allow, reading
// the file as it goes.
func (o *h2FileOp) pump() {
	s, st, ls := o.s, o.st, o.ls
	for !o.finished {
		if o.x.Closing() {
			o.finish(true)
			return
		}
		if s.ns.Congested(st.hc.c) {
			st.wait(o.x.Client())
			return
		}
		if len(o.head) > 0 {
			k, _ := s.h2Take(ls, st, o.head)
			o.head = o.head[k:]
			continue
		}
		if len(o.pending) > 0 {
			w, more := s.h2Take(ls, st, o.pending)
			o.pending = o.pending[w:]
			o.x.AddBytesOut(w)
			if len(o.pending) == 0 {
				o.release()
			}
			if !more {
				return // WindowOpened pumps again
			}
			continue
		}
		if o.n == 0 || st.phase == outDone {
			o.finish(false)
			return
		}
		if o.reading {
			return // Complete pumps again
		}
		want := int(min(o.n, h2FileChunk))
		if o.buf == nil && ls.h2bufsOut < h2FileBuffers {
			o.buf = ls.h2FileBuf()
		}
		if o.buf != nil {
			if op := o.x.NewOp(0); op != nil {
				op.PrepRead(o.fd, o.buf[:want], uint64(o.off))
				o.reading = true
				o.x.Submit()
				return
			}
		}
		if !o.readNow(ls, want) {
			return
		}
	}
}

// readNow reads with pread into the loop's shared buffer and frames it at
// once (what the windows do not take is read again later). It reports
// false when the op ended or waits for window.
func (o *h2FileOp) readNow(ls *loopState, want int) bool {
	if ls.h2file == nil {
		ls.h2file = make([]byte, h2FileChunk)
	}
	r, err := unix.Pread(o.fd, ls.h2file[:want], o.off)
	if err == unix.EINTR {
		return true
	}
	if err != nil || r <= 0 {
		o.s.log.Debug("http2: file read", "err", err)
		o.finish(true)
		return false
	}
	w, more := o.s.h2Take(ls, o.st, ls.h2file[:r])
	o.off += int64(w)
	o.n -= int64(w)
	o.x.AddBytesOut(w)
	return more
}

// Complete implements netserver.Op: the read came back.
func (o *h2FileOp) Complete(_ *netserver.OpContext, _ uint64, res int32) {
	o.reading = false
	if o.finished { // ended (cut, or closing) while the kernel read
		o.release()
		o.callDone()
		return
	}
	if res <= 0 {
		o.s.log.Debug("http2: file read", "res", res)
		o.finish(true)
		return
	}
	o.pending = o.buf[:res]
	o.off += int64(res)
	o.n -= int64(res)
	o.pump()
}

// finish ends the op.
func (o *h2FileOp) finish(failed bool) {
	if o.finished {
		return
	}
	o.finished, o.failed = true, failed
	if o.st != nil && o.st.fileOp == o {
		o.st.fileOp = nil
	}
	o.x.Finish(failed)
	o.end()
}

// Cancel implements netserver.Op: the client closed before the op
// started, or (from h2Sink.StreamEnd) its stream was cut.
func (o *h2FileOp) Cancel(netserver.ClientNum) {
	if o.finished {
		return
	}
	o.finished, o.failed = true, true
	o.end()
}

// end releases what the op holds, unless a read is in flight: its
// completion does, as the kernel may still write into buf.
func (o *h2FileOp) end() {
	if o.reading {
		return
	}
	o.release()
	o.callDone()
}

// callDone reports the end once.
func (o *h2FileOp) callDone() {
	if done := o.done; done != nil {
		o.done = nil
		done(o.failed)
	}
}

// release gives the buffer back to the loop's pool.
func (o *h2FileOp) release() {
	if o.buf != nil {
		o.ls.h2FileBufPut(o.buf)
		o.buf, o.pending = nil, nil
	}
}

// h2FileBuf lends a buffer of the pool.
func (ls *loopState) h2FileBuf() []byte {
	ls.h2bufsOut++
	if n := len(ls.h2bufs); n > 0 {
		b := ls.h2bufs[n-1]
		ls.h2bufs = ls.h2bufs[:n-1]
		return b
	}
	return make([]byte, h2FileChunk)
}

// h2FileBufPut takes a lent buffer back.
func (ls *loopState) h2FileBufPut(b []byte) {
	ls.h2bufsOut--
	ls.h2bufs = append(ls.h2bufs, b)
}
