package http

import (
	"bytes"
	"os"
	"unsafe"

	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// outPhase is where a stream's response is, as the translator reads the
// handler's HTTP/1.1 output.
type outPhase uint8

const (
	outHead     outPhase = iota // gathering a head (1xx heads return here)
	outLength                   // Content-Length body: left bytes to come
	outChunked                  // chunked body: decoded into DATA, trailers into HEADERS
	outUntilEnd                 // neither: DATA until the stream's output ends
	outDone                     // END_STREAM sent (or the stream reset): more output is dropped
)

// outChunkState is where a chunked response body is.
type outChunkState uint8

const (
	ocSize     outChunkState = iota // hex digits of a chunk size
	ocExt                           // a chunk extension, to the end of the line
	ocData                          // chunk data
	ocDataEnd                       // the CRLF after chunk data
	ocTrailers                      // trailer lines, to the empty line
)

// maxOutHead bounds a response head (and trailers) the translator
// gathers; a larger one resets the stream.
const maxOutHead = 64 << 10

// h2Sink is the Server as the netserver.StreamSink of its streams.
type h2Sink Server

// StreamWrite takes a stream's queued HTTP/1.1 output and frames what the
// windows allow.
func (k *h2Sink) StreamWrite(sc netserver.ClientNum, bufs [][]byte) int {
	s := (*Server)(k)
	ls, cn := s.conn(sc)
	if cn == nil || cn.h2 == nil {
		n := 0
		for _, b := range bufs {
			n += len(b)
		}
		return n
	}
	st := cn.h2
	if s.ns.Congested(st.hc.c) {
		st.wait(sc)
		return 0
	}
	taken := 0
	for _, b := range bufs {
		n, more := s.h2Take(ls, st, b)
		taken += n
		if !more {
			break
		}
	}
	return taken
}

// wait queues the stream until the socket's backlog drains.
func (st *h2stream) wait(sc netserver.ClientNum) {
	if !st.waiting {
		st.waiting = true
		st.hc.waiting = append(st.hc.waiting, sc)
	}
}

// StreamEnd ends the stream's response: END_STREAM for a body that ran
// to the end of the output, RST_STREAM for one cut short; the rest of a
// request body still coming is refused with RST_STREAM(NO_ERROR).
func (k *h2Sink) StreamEnd(sc netserver.ClientNum, graceful bool) {
	s := (*Server)(k)
	_, cn := s.conn(sc)
	if cn == nil || cn.h2 == nil {
		return
	}
	st := cn.h2
	hc := st.hc
	if op := st.fileOp; op != nil {
		// The stream is cut (reset by the peer or by a zero-window stall,
		// or its connection gone) while a file is framed. The op waits for
		// window (pump runs only from h2Ready) and submits nothing, so the
		// closing stream does not wait for it and nothing would end it:
		// without this its file stayed open (h2attack_test.go,
		// ZeroWindowStall). Ended as netserver ends a cancelled op.
		st.fileOp = nil
		op.Cancel(sc)
	}
	if id, ok := hc.streams[st.id]; !ok || id != sc {
		return // reset by the peer, or the connection is gone
	}
	delete(hc.streams, st.id)
	switch {
	case st.phase == outDone:
	case graceful && st.phase == outUntilEnd:
		hc.conn.WriteData(st.id, nil, true)
		st.phase = outDone
	default:
		code := http2.ErrCodeCancel
		if graceful {
			code = http2.ErrCodeInternal // the head or body was incomplete
			s.log.Debug("http2: response incomplete", "client", sc.String(), "stream", st.id)
		}
		hc.conn.WriteReset(st.id, code)
		return
	}
	if !st.reqEnded {
		if hc.discard == nil {
			hc.discard = make(map[uint32]int)
		}
		hc.discard[st.id] = 0
	}
}

// h2Take frames b, the next piece of the stream's output. It returns the
// bytes taken and whether more may follow now (false: the window is
// used up; WindowOpened will call again).
func (s *Server) h2Take(ls *loopState, st *h2stream, b []byte) (n int, more bool) {
	c := st.hc.conn
	for n < len(b) {
		switch st.phase {
		case outHead:
			n += s.h2Head(ls, st, b[n:])
		case outLength:
			k := int(min(int64(len(b)-n), st.left))
			w, err := c.WriteData(st.id, b[n:n+k], int64(k) == st.left)
			n += w
			st.left -= int64(w)
			if err != nil || st.left == 0 {
				st.phase = outDone
			} else if w < k {
				return n, false
			}
		case outUntilEnd:
			k := len(b) - n
			w, err := c.WriteData(st.id, b[n:], false)
			n += w
			if err != nil {
				st.phase = outDone
			} else if w < k {
				return n, false
			}
		case outChunked:
			k, blocked := s.h2Chunked(ls, st, b[n:])
			n += k
			if blocked {
				return n, false
			}
		default:
			return len(b), true // past the end: dropped
		}
	}
	return n, true
}

// h2Head gathers a response head and sends it as HEADERS; it returns the
// bytes of b it took.
func (s *Server) h2Head(ls *loopState, st *h2stream, b []byte) int {
	var h []byte
	took := 0
	if len(st.head) == 0 {
		i := bytes.Index(b, crlfcrlf)
		if i < 0 {
			st.head = append(st.head, b...)
			s.h2HeadBound(st)
			return len(b)
		}
		h, took = b[:i+4], i+4
	} else {
		old := len(st.head)
		st.head = append(st.head, b...)
		from := max(0, old-3)
		i := bytes.Index(st.head[from:], crlfcrlf)
		if i < 0 {
			s.h2HeadBound(st)
			return len(b)
		}
		end := from + i + 4
		h, took = st.head[:end], end-old
	}
	s.h2Headers(ls, st, h)
	st.head = st.head[:0]
	return took
}

var crlfcrlf = []byte("\r\n\r\n")

// h2HeadBound resets a stream whose head grows past maxOutHead.
func (s *Server) h2HeadBound(st *h2stream) {
	if len(st.head) > maxOutHead {
		st.hc.conn.WriteReset(st.id, http2.ErrCodeInternal)
		st.phase, st.head = outDone, st.head[:0]
	}
}

// connectionFields are the HTTP/1.1 fields with no meaning in HTTP/2
// (RFC 9113 §8.2.2), left out of a translated head.
func connectionField(name string) bool {
	switch name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return true
	}
	return false
}

// h2Headers sends the head h (status line to the empty line) as HEADERS
// and sets how the body is read.
func (s *Server) h2Headers(ls *loopState, st *h2stream, h []byte) {
	c := st.hc.conn
	if len(h) < 12 || !bytes.HasPrefix(h, []byte("HTTP/1.")) || h[8] != ' ' ||
		unhex(h[9]) > 9 || unhex(h[10]) > 9 || unhex(h[11]) > 9 || unhex(h[9]) < 0 || unhex(h[10]) < 0 || unhex(h[11]) < 0 {
		s.h2Bad(st)
		return
	}
	status := int(h[9]-'0')*100 + int(h[10]-'0')*10 + int(h[11]-'0')
	fields := append(ls.h2fields[:0], hpack.HeaderField{Name: ":status", Value: bstr(h[9:12])})
	length, chunked := int64(-1), false
	fields, length, chunked = s.h2Fields(ls, fields, h[bytes.IndexByte(h, '\n')+1:], length, chunked)
	ls.h2fields = fields
	switch {
	case status == 101 || status < 100:
		c.WriteReset(st.id, http2.ErrCodeInternal)
		st.phase = outDone
	case status < 200:
		c.WriteHeaders(st.id, fields, false) // stays in outHead
	case st.headReq || status == StatusNoContent || status == StatusNotModified || length == 0 && !chunked:
		c.WriteHeaders(st.id, fields, true)
		st.phase = outDone
	case chunked:
		c.WriteHeaders(st.id, fields, false)
		st.phase, st.cs, st.left = outChunked, ocSize, 0
	case length > 0:
		c.WriteHeaders(st.id, fields, false)
		st.phase, st.left = outLength, length
	default:
		c.WriteHeaders(st.id, fields, false)
		st.phase = outUntilEnd
	}
}

// h2Fields appends the fields of the header lines in lines (to the empty
// line) with lower-case names, leaving out the connection-specific ones,
// and reports the Content-Length and chunked framing they declare. The
// fields point into lines and into ls.h2names: valid until the next call.
func (s *Server) h2Fields(ls *loopState, fields []hpack.HeaderField, lines []byte, length int64, chunked bool) ([]hpack.HeaderField, int64, bool) {
	if cap(ls.h2names) < len(lines) {
		ls.h2names = make([]byte, 0, max(len(lines), 1024))
	}
	names := ls.h2names[:0]
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimRight(lines[:i], "\r")
		lines = lines[i+1:]
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue // the empty line, or garbage
		}
		at := len(names)
		for _, ch := range line[:colon] {
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			names = append(names, ch)
		}
		name := bstr(names[at:])
		value := bytes.TrimSpace(line[colon+1:])
		if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(bstr(value)) {
			names = names[:at] // not a field HTTP/2 can carry: left out
			continue
		}
		if connectionField(name) {
			if name == "transfer-encoding" && bytes.Contains(bytes.ToLower(value), []byte("chunked")) {
				chunked = true
			}
			continue
		}
		if name == "content-length" {
			if n, ok := parseLength(value); ok {
				length = n
			}
		}
		fields = append(fields, hpack.HeaderField{Name: name, Value: bstr(value)})
	}
	return fields, length, chunked
}

// parseLength parses a Content-Length value.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, ch := range v {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, true
}

// bstr views b as a string without copying; b must not change while the
// string is in use (the fields are encoded before the buffers change).
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// h2Chunked decodes a chunked body from b into DATA, its trailers into a
// last HEADERS. It returns the bytes taken and whether the window
// stopped it.
func (s *Server) h2Chunked(ls *loopState, st *h2stream, b []byte) (n int, blocked bool) {
	c := st.hc.conn
	for n < len(b) && st.phase == outChunked {
		switch st.cs {
		case ocSize, ocExt:
			ch := b[n]
			n++
			switch {
			case ch == '\n':
				if st.left == 0 {
					st.cs, st.lineAt = ocTrailers, 0
					st.head = st.head[:0]
				} else {
					st.cs = ocData
				}
			case st.cs == ocExt || ch == '\r':
			case ch == ';' || ch == ' ' || ch == '\t':
				st.cs = ocExt
			case st.left >= 1<<40:
				s.h2Bad(st)
			default:
				v := unhex(ch)
				if v < 0 {
					s.h2Bad(st)
					break
				}
				st.left = st.left<<4 | int64(v)
			}
		case ocData:
			k := int(min(int64(len(b)-n), st.left))
			w, err := c.WriteData(st.id, b[n:n+k], false)
			n += w
			st.left -= int64(w)
			if err != nil {
				st.phase = outDone
				return len(b), false
			}
			if w < k {
				return n, true
			}
			if st.left == 0 {
				st.cs = ocDataEnd
			}
		case ocDataEnd:
			if b[n] == '\n' {
				st.cs = ocSize
			}
			n++
		case ocTrailers:
			i := bytes.IndexByte(b[n:], '\n')
			if i < 0 {
				st.head = append(st.head, b[n:]...)
				n = len(b)
				s.h2HeadBound(st)
				break
			}
			st.head = append(st.head, b[n:n+i+1]...)
			n += i + 1
			line := st.head[st.lineAt:]
			if len(bytes.TrimRight(line, "\r\n")) > 0 {
				st.lineAt = len(st.head)
				s.h2HeadBound(st)
				break
			}
			fields, _, _ := s.h2Fields(ls, ls.h2fields[:0], st.head[:st.lineAt], -1, false)
			ls.h2fields = fields
			if len(fields) > 0 {
				c.WriteHeaders(st.id, fields, true)
			} else {
				c.WriteData(st.id, nil, true)
			}
			st.phase, st.head = outDone, st.head[:0]
		}
	}
	return n, false
}

func unhex(ch byte) int {
	switch {
	case '0' <= ch && ch <= '9':
		return int(ch - '0')
	case 'a' <= ch && ch <= 'f':
		return int(ch-'a') + 10
	case 'A' <= ch && ch <= 'F':
		return int(ch-'A') + 10
	}
	return -1
}

// h2Bad resets a stream whose output the translator cannot read.
func (s *Server) h2Bad(st *h2stream) {
	s.log.Debug("http2: malformed response output", "stream", st.id)
	st.hc.conn.WriteReset(st.id, http2.ErrCodeInternal)
	st.phase = outDone
}

// fileOp returns the Op that sends head then n bytes of the file (f, or
// the bare descriptor fd) from off on c: sendfile's Transfer on a
// socket, an h2FileOp on an HTTP/2 stream.
func (s *Server) fileOp(cn *conn, head []byte, f *os.File, fd int, off, n int64, done func(bool)) netserver.Op {
	if cn != nil && cn.h2 != nil {
		if f != nil {
			fd = int(f.Fd())
		}
		return &h2FileOp{s: s, head: append([]byte(nil), head...), f: f, fd: fd, off: off, n: n, done: done}
	}
	switch {
	case f == nil:
		return s.sender.TransferFD(head, fd, off, n, done)
	case head == nil:
		return s.sender.Transfer(f, off, n, done)
	}
	return s.sender.TransferHead(head, f, off, n, done)
}

// fileOpSwitch is FileOp's Op: it learns at Start whether its client is
// a socket or an HTTP/2 stream, and becomes the Op for it.
type fileOpSwitch struct {
	s      *Server
	head   []byte
	f      *os.File
	off, n int64
	done   func(failed bool)
	op     netserver.Op
}

// Start implements netserver.Op.
func (o *fileOpSwitch) Start(x *netserver.OpContext) {
	_, cn := o.s.conn(x.Client())
	o.op = o.s.fileOp(cn, o.head, o.f, -1, o.off, o.n, o.done)
	o.op.Start(x)
}

// Complete implements netserver.Op.
func (o *fileOpSwitch) Complete(x *netserver.OpContext, tag uint64, res int32) {
	o.op.Complete(x, tag, res)
}

// Cancel implements netserver.Op: the client closed before the op
// started.
func (o *fileOpSwitch) Cancel(netserver.ClientNum) {
	if o.done != nil {
		o.done(true)
	}
}
