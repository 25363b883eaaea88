package h2

import (
	"bytes"
	"io"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Loop is what the Conns of one event loop share, so that an idle Conn
// holds no frame buffer (docs/design/http2.md §3.1, §3.4): one Framer,
// which reads one whole frame at a time from a swapped slice and writes
// into the output buffer of the Conn using it, and one HPACK encoder. The
// encoder's dynamic table has size 0: it never indexes, so its output
// suits every connection and keeps no state per peer. A Loop and its
// Conns belong to one goroutine; no Conn's Input may run inside another
// Conn's event (the Framer's read buffer holds the frame being handled).
type Loop struct {
	fr     *http2.Framer
	src    frameSource
	dst    connWriter
	enc    *hpack.Encoder
	encBuf bytes.Buffer
	spare  *bytes.Buffer // a large output buffer a Conn gave back
	// reading: a Conn's Input runs, and the Framer's read buffer holds
	// its frame; no other Input may start.
	reading bool
}

// getSpare returns an empty output buffer, the spare if there is one.
func (l *Loop) getSpare() *bytes.Buffer {
	if b := l.spare; b != nil {
		l.spare = nil
		return b
	}
	return new(bytes.Buffer)
}

// putSpare keeps one large, empty output buffer for the next Conn with
// much to write; others are left to the garbage collector.
func (l *Loop) putSpare(b *bytes.Buffer) {
	if l.spare == nil || b.Cap() > l.spare.Cap() {
		l.spare = b
	}
}

// NewLoop returns the shared state for the Conns of one event loop.
func NewLoop() *Loop {
	l := &Loop{}
	l.newFramer()
	l.enc = hpack.NewEncoder(&l.encBuf)
	l.enc.SetMaxDynamicTableSizeLimit(0)
	// The table size update the encoder now owes would go to one peer
	// only; no peer needs it, since nothing is ever indexed.
	l.enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	l.encBuf.Reset()
	return l
}

// newFramer makes the Loop's Framer, at first and after a read error (so
// that no state of a failed connection's frames reaches the next one).
// Frame order (CONTINUATION after HEADERS) is checked per Conn, since
// frames of many connections interleave here.
func (l *Loop) newFramer() {
	l.fr = http2.NewFramer(&l.dst, &l.src)
	l.fr.SetReuseFrames()
	l.fr.SetMaxReadFrameSize(1<<24 - 1) // each Conn's pre-scan applies its own limit
	l.fr.AllowIllegalReads = true
}

// NewConn returns a Conn on the Loop, for a connection whose first bytes
// are still to come to Input, reporting to ev. Zero fields of cfg take
// their defaults.
func (l *Loop) NewConn(cfg Config, ev Events) *Conn {
	return makeConn(l, cfg, ev)
}

// frameSource is an io.Reader over one frame, swapped before each
// ReadFrame.
type frameSource struct{ b []byte }

func (s *frameSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// connWriter is the Framer's io.Writer: the output buffer of the Conn
// writing.
type connWriter struct{ out *bytes.Buffer }

func (w *connWriter) Write(p []byte) (int, error) { return w.out.Write(p) }

// framer returns the Loop's Framer, writing into c's output.
func (c *Conn) framer() *http2.Framer {
	if c.out == nil {
		c.out = c.loop.getSpare()
	}
	c.loop.dst.out = c.out
	return c.loop.fr
}
