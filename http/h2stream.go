package http

import (
	"errors"
	"strconv"

	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// ErrHTTP2 is returned by Detach for an HTTP/2 stream: its connection
// cannot be handed over (WebSocket stays on HTTP/1.1).
var ErrHTTP2 = errors.New("http: not possible on an HTTP/2 stream")

// h2stream is the HTTP/2 side of a stream's conn: its engine id and the
// translator of the handler's HTTP/1.1 output into frames (h2out.go).
type h2stream struct {
	hc        *h2conn
	id        uint32
	chunkedIn bool // the request has no content-length: its DATA is fed as chunks
	reqEnded  bool // the request's END_STREAM came
	headReq   bool // a HEAD request: the response ends with its HEADERS

	phase   outPhase
	cs      outChunkState // outChunked: where in the chunked framing
	head    []byte        // a partial response head, or chunked trailers
	lineAt  int           // trailers: where the current line starts in head
	left    int64         // outLength: body bytes to come; outChunked: bytes left in the chunk
	fileOp  *h2FileOp     // a file being framed: window openings go to it
	waiting bool          // in hc.waiting
	owed    int           // DATA bytes taken and not yet credited: held in the conn's buf
}

// h2Request starts stream id: a virtual client with an ordinary conn,
// fed the request as an HTTP/1.1 head, so that every handler and every
// Server method works on it unchanged.
func (s *Server) h2Request(hc *h2conn, id uint32, fields []hpack.HeaderField, end bool) {
	ls := hc.ls
	sc, err := s.ns.NewStream(hc.c, (*h2Sink)(s))
	if err != nil {
		s.h2cnt.noSlot.Add(1)
		hc.conn.WriteReset(id, http2.ErrCodeRefusedStream)
		return
	}
	cn := s.conns.New(sc)
	*cn = conn{c: sc, since: s.ns.Now(sc).UnixNano(), logLine: cn.logLine[:0], dec: cn.dec}
	st := ls.newH2Stream()
	*st = h2stream{hc: hc, id: id, head: st.head[:0], reqEnded: end}
	cn.h2 = st
	if hc.streams == nil {
		hc.streams = make(map[uint32]netserver.ClientNum)
	}
	hc.streams[id] = sc
	s.h2cnt.streams.Add(1)
	s.h2cnt.streamsOpen.Add(1)

	var method, path, authority string
	hasLength := false
	for _, f := range fields {
		switch f.Name {
		case ":method":
			method = f.Value
		case ":path":
			path = f.Value
		case ":authority":
			authority = f.Value
		case "content-length":
			hasLength = true
		}
	}
	if path == "" {
		path = authority // CONNECT
	}
	st.headReq = method == "HEAD"
	b := append(ls.h2req[:0], method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\n"...)
	if authority != "" {
		b = append(b, "Host: "...)
		b = append(b, authority...)
		b = append(b, "\r\n"...)
	}
	cookies := false
	for _, f := range fields {
		switch {
		case len(f.Name) > 0 && f.Name[0] == ':':
			continue
		case f.Name == "host" && authority != "":
			continue
		case f.Name == "cookie":
			// RFC 9113 §8.2.3: crumbs are joined into one field.
			if cookies {
				continue
			}
			cookies = true
			b = append(b, "cookie: "...)
			sep := false
			for _, g := range fields {
				if g.Name == "cookie" {
					if sep {
						b = append(b, "; "...)
					}
					b = append(b, g.Value...)
					sep = true
				}
			}
			b = append(b, "\r\n"...)
			continue
		}
		b = append(b, f.Name...)
		b = append(b, ": "...)
		b = append(b, f.Value...)
		b = append(b, "\r\n"...)
	}
	if !end && !hasLength {
		st.chunkedIn = true
		b = append(b, "transfer-encoding: chunked\r\n"...)
	}
	b = append(b, "\r\n"...)
	ls.h2req = b
	s.h2Feed(ls, cn, b)
}

// h2Body feeds request body bytes to the stream's conn, as chunks when
// the request had no length. It reports whether the stream took p's
// flow-control credit: it is given back once the conn holds nothing
// (h2Credit), so that what a connection's paused and congested streams
// hold is bounded by the connection window, as the peer cannot send more.
func (s *Server) h2Body(hc *h2conn, sc netserver.ClientNum, p []byte, end bool) bool {
	ls, cn := s.conn(sc)
	if cn == nil || cn.h2 == nil || cn.lingering || cn.h2.reqEnded {
		return false
	}
	st := cn.h2
	st.reqEnded = end
	st.owed += len(p) // before feeding: the feed may release the stream
	if !st.chunkedIn {
		if len(p) > 0 {
			s.h2Feed(ls, cn, p)
		} else {
			s.h2Credit(cn)
		}
		return true
	}
	b := ls.h2req[:0]
	if len(p) > 0 {
		b = strconv.AppendInt(b, int64(len(p)), 16)
		b = append(b, "\r\n"...)
		b = append(b, p...)
		b = append(b, "\r\n"...)
	}
	if end {
		b = append(b, "0\r\n\r\n"...)
	}
	ls.h2req = b
	if len(b) > 0 {
		s.h2Feed(ls, cn, b)
	}
	return true
}

// h2Feed gives b to the stream's conn as if read from a socket, or holds
// it in cn.buf while the conn cannot take it (PauseBody, a congested
// stream, input already held); the stream's window is then withheld, which
// bounds what is held.
func (s *Server) h2Feed(ls *loopState, cn *conn, b []byte) {
	if cn.readPaused || cn.congested || len(cn.buf) > 0 || cn.inHandler {
		if cn.buf == nil {
			cn.buf = s.getBuf(ls)
		}
		cn.buf = append(cn.buf, b...)
		cn.h2.hc.conn.Pause(cn.h2.id)
		return
	}
	s.input(ls, cn, b, false)
	s.h2Sync(ls, cn)
}

// h2Sync delivers what the stream's conn holds once it can take it, and
// pauses or resumes the stream's window to match.
func (s *Server) h2Sync(ls *loopState, cn *conn) {
	for {
		if _, cn2 := s.conn(cn.c); cn2 != cn || cn.h2 == nil || cn.inHandler {
			return
		}
		if len(cn.buf) == 0 || cn.readPaused || cn.congested || cn.lingering {
			break
		}
		before := len(cn.buf)
		s.input(ls, cn, cn.buf, true)
		if _, cn2 := s.conn(cn.c); cn2 != cn || len(cn.buf) == before {
			return
		}
	}
	if cn.readPaused || cn.congested || len(cn.buf) > 0 {
		cn.h2.hc.conn.Pause(cn.h2.id)
	} else {
		cn.h2.hc.conn.Resume(cn.h2.id)
	}
	s.h2Credit(cn)
}

// h2Credit gives back the credit of the DATA a stream's conn took, once
// it holds none of it.
func (s *Server) h2Credit(cn *conn) {
	if st := cn.h2; st.owed > 0 && len(cn.buf) == 0 {
		st.hc.conn.Consumed(st.id, st.owed)
		st.owed = 0
	}
}

// h2Ready offers the stream's output again: its window opened, or the
// socket's backlog drained.
func (s *Server) h2Ready(sc netserver.ClientNum) {
	if _, cn := s.conn(sc); cn != nil && cn.h2 != nil {
		cn.h2.waiting = false
		if op := cn.h2.fileOp; op != nil {
			op.pump()
			return
		}
	}
	s.ns.StreamReady(sc)
}

// h2Release forgets a stream's HTTP/2 side (its conn is being released).
func (s *Server) h2Release(ls *loopState, cn *conn) {
	st := cn.h2
	hc := st.hc
	if sc, ok := hc.streams[st.id]; ok && sc == cn.c {
		delete(hc.streams, st.id)
	}
	if len(hc.streams) == 0 {
		hc.idle = s.ns.Now(hc.c).UnixNano()
	}
	s.h2cnt.streamsOpen.Add(-1)
	if st.owed > 0 { // what its conn held is dropped
		hc.conn.Consumed(st.id, st.owed)
	}
	if cap(st.head) > 4<<10 {
		st.head = nil
	}
	*st = h2stream{head: st.head[:0]}
	if len(ls.h2free) < 1024 {
		ls.h2free = append(ls.h2free, st)
	}
}

// newH2Stream returns a pooled h2stream.
func (ls *loopState) newH2Stream() *h2stream {
	if n := len(ls.h2free); n > 0 {
		st := ls.h2free[n-1]
		ls.h2free = ls.h2free[:n-1]
		return st
	}
	return new(h2stream)
}
