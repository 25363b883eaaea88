package http

import (
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/uringnet/uringnet/cache"
	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/sys/unix"
)

// fileMeta is what the response headers of a file need.
type fileMeta struct {
	size         int64
	etag         string
	lastModified string
	modTime      time.Time
	contentType  string
}

// SendFile answers req, a GET or HEAD, with the file at path under
// Config.Root (path "" means the request's own path): Content-Type from
// the extension, Last-Modified, ETag, 304 for If-None-Match or
// If-Modified-Since, 412 for failed If-Match, Range (one range: 206 with
// Content-Range; several: multipart/byteranges; unsatisfiable: 416), a
// directory's index.html, and 403 or 404 for paths that leave the root or
// do not exist. Files up to the cache's entry limit come from the cache,
// head and body in one write; larger ones are spliced (package sendfile)
// after the head. It ends the response; HTTPWritev fires once (with nil
// bufs) when the whole response was sent or failed. Other methods get 405.
//
// req must be valid: during HTTPRead, or a Clone.
func (s *Server) SendFile(req *Request, c netserver.ClientNum, path string) error {
	if !s.ns.OnLoop(c) {
		req = req.Clone()
		return s.ns.QueueOp(c, funcOp(func() { s.SendFile(req, c, path) }))
	}
	ls, cn := s.conn(c)
	if cn == nil || !cn.responding {
		return ErrNoRequest
	}
	if s.root == nil {
		s.respondPage(ls, cn, StatusNotFound, "")
		return ErrNoRoot
	}
	method := req.MethodString()
	if method != "GET" && method != "HEAD" {
		s.respondPage(ls, cn, StatusMethodNotAllowed, "Allow: GET, HEAD\r\n")
		return nil
	}
	raw := req.Path
	if path != "" {
		raw = []byte(path)
	}
	clean, err := cleanPath(raw)
	if err != nil {
		s.respondPage(ls, cn, pathStatus(err), "")
		return nil
	}
	e, size, ok := s.cachedFile(clean)
	if ok {
		meta := fileMeta{size: int64(len(e.Data)), etag: e.ETag, lastModified: e.LastModified,
			modTime: time.Unix(0, e.ID.ModTime), contentType: e.ContentType}
		s.serveFile(ls, cn, req, &meta, e, fileRef{fd: -1})
		return nil
	}
	if size >= 0 && s.sendDirect(size) {
		if fd, st, ok := s.openDirect(clean); ok {
			id := identityOf(&st)
			meta := fileMeta{size: st.Size, modTime: time.Unix(0, id.ModTime), contentType: mimeType(clean),
				etag: cache.ETag(id), lastModified: cache.LastModified(id)}
			s.serveFile(ls, cn, req, &meta, nil, fileRef{fd: fd})
			return nil
		}
	}
	f, fi, name, err := openUnder(s.root, clean)
	if err != nil {
		s.respondPage(ls, cn, pathStatus(err), "")
		return nil
	}
	meta := fileMeta{size: fi.Size(), modTime: fi.ModTime(), contentType: mimeType(name)}
	if fi.Size() <= s.cache.MaxEntryBytes() && !s.sendDirect(fi.Size()) {
		e, err := s.cache.Load(f, name, meta.contentType)
		switch {
		case err == nil:
			f.Close()
			meta.size, meta.etag, meta.lastModified = int64(len(e.Data)), e.ETag, e.LastModified
			meta.modTime = time.Unix(0, e.ID.ModTime)
			s.serveFile(ls, cn, req, &meta, e, fileRef{fd: -1})
			return nil
		case !errors.Is(err, cache.ErrTooLarge):
			f.Close()
			s.respondPage(ls, cn, StatusInternalServerError, "")
			return err
		}
		if fi, err = f.Stat(); err != nil {
			f.Close()
			s.respondPage(ls, cn, StatusInternalServerError, "")
			return err
		}
	}
	id := cache.IdentityOf(fi)
	meta.size, meta.modTime = fi.Size(), fi.ModTime()
	meta.etag, meta.lastModified = cache.ETag(id), cache.LastModified(id)
	s.serveFile(ls, cn, req, &meta, nil, fileRef{f: f, fd: -1})
	return nil
}

// fileRef is the open file serveFile sends from: an os.File, or a bare
// descriptor from openDirect (fd >= 0), or neither (a cache entry).
type fileRef struct {
	f  *os.File
	fd int
}

func (r fileRef) close() {
	if r.f != nil {
		r.f.Close()
	}
	if r.fd >= 0 {
		unix.Close(r.fd)
	}
}

// directFrom is the smallest file that SendFile sends with sendfile(2)
// rather than from the cache when the sender is direct (URINGNET_SENDFILE_MIN
// overrides it, for benchmarks); 0 means never.
var directFrom = func() int64 {
	if v, err := strconv.ParseInt(os.Getenv("URINGNET_SENDFILE_MIN"), 10, 64); err == nil && v >= 0 {
		return v
	}
	return 0
}()

// sendDirect reports whether a file of this size skips the cache.
func (s *Server) sendDirect(size int64) bool {
	return directFrom > 0 && size >= directFrom && s.sender.Direct()
}

func pathStatus(err error) int {
	var pe *pathError
	if errors.As(err, &pe) && pe.Status != 0 {
		return pe.Status
	}
	return StatusNotFound
}

// respondPage answers status with its page, keeping the connection.
func (s *Server) respondPage(ls *loopState, cn *conn, status int, extra string) {
	body, ctype := s.cfg.ErrorPages.Body(status)
	out := s.statusLine(ls, cn, status)
	out = ls.date.Append(out, s.ns.Now(cn.c))
	out = append(out, extra...)
	out = AppendHeader(out, "Content-Type", ctype)
	out = AppendContentLength(out, int64(len(body)))
	out = appendConnection(out, cn)
	if !cn.head {
		out = append(out, body...)
	}
	ls.out = out
	s.ns.Send(cn.c, out)
	s.writevDone(cn.c)
	s.endResponse(ls, cn)
}

// writevDone fires HTTPWritev once the bytes queued so far are out.
func (s *Server) writevDone(c netserver.ClientNum) {
	err := s.ns.QueueOp(c, notifyOp(func(failed bool) { s.h.HTTPWritev(nil, c, failed) }))
	if err != nil {
		s.h.HTTPWritev(nil, c, true)
	}
}

// serveFile answers from a cache entry e, or from the open file f (which
// it closes).
func (s *Server) serveFile(ls *loopState, cn *conn, req *Request, m *fileMeta, e *cache.Entry, f fileRef) {
	c := cn.c
	closeFile := f.close
	switch checkPreconditions(req.MethodString(), req.Header("If-Match"), req.Header("If-None-Match"),
		req.Header("If-Modified-Since"), req.Header("If-Unmodified-Since"), m.etag, m.modTime) {
	case StatusNotModified:
		closeFile()
		out := s.statusLine(ls, cn, StatusNotModified)
		out = ls.date.Append(out, s.ns.Now(cn.c))
		out = s.appendValidators(out, m)
		ls.out = appendConnection(out, cn)
		s.ns.Send(c, ls.out)
		s.writevDone(c)
		s.endResponse(ls, cn)
		return
	case StatusPreconditionFailed:
		closeFile()
		s.respondPage(ls, cn, StatusPreconditionFailed, "")
		return
	}
	var ranges []byteRange
	if rh := req.Header("Range"); rh != nil && ifRangeApplies(req.Header("If-Range"), m.etag, m.modTime) {
		rs, err := parseRange(rh, m.size)
		if err != nil {
			closeFile()
			body, ctype := s.cfg.ErrorPages.Body(StatusRequestedRangeNotSatisfiable)
			out := s.statusLine(ls, cn, StatusRequestedRangeNotSatisfiable)
			out = ls.date.Append(out, s.ns.Now(cn.c))
			out = appendUnsatisfiedRange(out, m.size)
			out = AppendHeader(out, "Content-Type", ctype)
			out = AppendContentLength(out, int64(len(body)))
			out = appendConnection(out, cn)
			if !cn.head {
				out = append(out, body...)
			}
			ls.out = out
			s.ns.Send(c, out)
			s.writevDone(c)
			s.endResponse(ls, cn)
			return
		}
		ranges = rs
	}
	status, ctype, length := StatusOK, m.contentType, m.size
	var parts [][]byte
	var closing []byte
	switch len(ranges) {
	case 0:
	case 1:
		status, length = StatusPartialContent, ranges[0].Length
	default:
		status = StatusPartialContent
		boundary := newMultipartBoundary()
		parts, closing, length = multipartByteranges(ranges, m.size, m.contentType, boundary)
		ctype = "multipart/byteranges; boundary=" + boundary
	}
	out := s.statusLine(ls, cn, status)
	out = ls.date.Append(out, s.ns.Now(c))
	out = AppendHeader(out, "Content-Type", ctype)
	out = AppendContentLength(out, length)
	out = s.appendValidators(out, m)
	out = append(out, "Accept-Ranges: bytes\r\n"...)
	if len(ranges) == 1 {
		out = appendContentRange(out, ranges[0], m.size)
	}
	out = appendConnection(out, cn)
	if cn.head {
		closeFile()
		ls.out = out
		s.ns.Send(c, out)
		s.writevDone(c)
		s.endResponse(ls, cn)
		return
	}
	if e != nil && len(ranges) <= 1 && m.size >= memSendFrom && cn.h2 == nil {
		body := e.Data
		if len(ranges) == 1 {
			body, _ = e.Range(ranges[0].Start, ranges[0].Length)
		}
		ls.out = out
		if err := s.ns.QueueOp(c, newMemSend(s, c, out, body)); err != nil {
			s.h.HTTPWritev(nil, c, true)
		}
		s.endResponse(ls, cn)
		return
	}
	if e != nil {
		switch len(ranges) {
		case 0:
			out = append(out, e.Data...)
		case 1:
			b, _ := e.Range(ranges[0].Start, ranges[0].Length)
			out = append(out, b...)
		default:
			for i, r := range ranges {
				b, _ := e.Range(r.Start, r.Length)
				out = append(out, parts[i]...)
				out = append(out, b...)
			}
			out = append(out, closing...)
		}
		ls.out = out
		s.ns.Send(c, out)
		s.writevDone(c)
		s.endResponse(ls, cn)
		return
	}
	ls.out = out
	done := func(failed bool) {
		f.close()
		s.h.HTTPWritev(nil, c, failed)
	}
	if len(ranges) == 0 {
		ranges = []byteRange{{Start: 0, Length: m.size}}
	}
	if parts == nil && (s.sender.MayDirect() || f.f == nil) {
		// The head goes with the file: with a direct sender one sendto(MSG_MORE)
		// and sendfile on the loop.
		t := s.fileOp(cn, out, f.f, f.fd, ranges[0].Start, ranges[0].Length, done)
		if err := s.ns.QueueOp(c, t); err != nil {
			done(true)
		}
		s.endResponse(ls, cn)
		return
	}
	if f.f == nil { // a bare descriptor with several ranges: not worth a path of its own
		var err error
		if f.f = os.NewFile(uintptr(f.fd), "file"); f.f == nil {
			err = os.ErrInvalid
		}
		f.fd = -1
		if err != nil {
			s.h.HTTPWritev(nil, c, true)
			s.endResponse(ls, cn)
			return
		}
	}
	s.ns.Send(c, out)
	for i, r := range ranges {
		if parts != nil {
			s.ns.Send(c, parts[i])
		}
		var cb func(bool)
		if i == len(ranges)-1 && closing == nil {
			cb = done
		}
		if err := s.ns.QueueOp(c, s.fileOp(cn, nil, f.f, -1, r.Start, r.Length, cb)); err != nil {
			done(true)
			s.endResponse(ls, cn)
			return
		}
	}
	if closing != nil {
		s.ns.Send(c, closing)
		if err := s.ns.QueueOp(c, notifyOp(done)); err != nil {
			done(true)
		}
	}
	s.endResponse(ls, cn)
}

func (s *Server) appendValidators(dst []byte, m *fileMeta) []byte {
	if m.etag != "" {
		dst = append(dst, "ETag: "...)
		dst = append(dst, m.etag...)
		dst = append(dst, "\r\n"...)
	}
	if m.lastModified != "" {
		dst = append(dst, "Last-Modified: "...)
		dst = append(dst, m.lastModified...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// notifyOp calls its function once the bytes queued before it are out
// (failed=false), or when the client closed first (failed=true).
type notifyOp func(failed bool)

func (f notifyOp) Start(x *netserver.OpContext) {
	f(false)
	x.Finish(false)
}

func (notifyOp) Complete(*netserver.OpContext, uint64, int32) {}

func (f notifyOp) Cancel(netserver.ClientNum) { f(true) }

// memSendFrom is the smallest cached file whose body goes out straight from
// the cache entry (memSend) instead of being copied into the connection's
// output buffer with the head: above one output buffer (16 KiB) the two
// copies in user space cost more than the coalescing saves.
// URINGNET_MEMSEND_FROM overrides it (for benchmarks).
var memSendFrom = func() int64 {
	if v, err := strconv.ParseInt(os.Getenv("URINGNET_MEMSEND_FROM"), 10, 64); err == nil && v >= 0 {
		return v
	}
	return 16 << 10
}()

// memSend is a netserver.Op that sends a response head (copied) and a body
// that never changes (a cache entry's bytes, which a newer entry replaces
// rather than overwrites) with SENDMSG, without copying the body; short
// sends are resumed. HTTPWritev fires once (with nil bufs) at the end.
type memSend struct {
	s      *Server
	c      netserver.ClientNum
	bufs   [2][]byte // what is left to send: head, body
	iov    [2]unix.Iovec
	msg    unix.Msghdr
	closed bool
	sealed bool   // the client speaks TLS sealed in Go: bufs go out sealed, a chunk at a time
	wire   []byte // sealed: what is left of the records of the chunk
}

// memSealChunk is the plaintext a sealed memSend seals at a time.
const memSealChunk = 64 << 10

func newMemSend(s *Server, c netserver.ClientNum, head, body []byte) *memSend {
	return &memSend{s: s, c: c, bufs: [2][]byte{append([]byte(nil), head...), body}}
}

// Start implements netserver.Op.
func (m *memSend) Start(x *netserver.OpContext) {
	m.sealed = x.Sealed()
	m.step(x)
}

// sealNext seals the next chunk of what is left once the last one is
// out, and returns the ciphertext not yet sent.
func (m *memSend) sealNext(x *netserver.OpContext) []byte {
	if len(m.wire) == 0 {
		buf := m.wire[:0]
		for i := range m.bufs {
			if k := min(len(m.bufs[i]), memSealChunk-len(buf)); k > 0 {
				buf = x.Seal(buf, m.bufs[i][:k])
				m.bufs[i] = m.bufs[i][k:]
			}
		}
		m.wire = buf
	}
	return m.wire
}

// step submits a SENDMSG of what is left (a SEND of the next sealed
// chunk for a TLS client sealed in Go).
func (m *memSend) step(x *netserver.OpContext) {
	n := 0
	if m.sealed {
		n = len(m.sealNext(x))
	} else {
		for _, b := range m.bufs {
			if len(b) > 0 {
				m.iov[n].Base = &b[0]
				m.iov[n].SetLen(len(b))
				n++
			}
		}
	}
	if n == 0 {
		m.finish(x, false)
		return
	}
	if x.Closing() {
		m.finish(x, true)
		return
	}
	o := x.NewOp(1)
	if o == nil {
		m.finish(x, true)
		return
	}
	if m.sealed {
		o.PrepSend(x.Fd(), m.wire, unix.MSG_NOSIGNAL)
	} else {
		m.msg = unix.Msghdr{Iov: &m.iov[0]}
		m.msg.SetIovlen(n)
		o.PrepSendmsg(x.Fd(), &m.msg, unix.MSG_NOSIGNAL)
	}
	x.Submit()
}

// Complete implements netserver.Op.
func (m *memSend) Complete(x *netserver.OpContext, _ uint64, res int32) {
	if res <= 0 {
		m.finish(x, true)
		return
	}
	x.AddBytesOut(int(res))
	if m.sealed {
		m.wire = m.wire[res:]
		m.step(x)
		return
	}
	left := int(res)
	for i := range m.bufs {
		k := min(left, len(m.bufs[i]))
		m.bufs[i] = m.bufs[i][k:]
		left -= k
	}
	m.step(x)
}

// Cancel implements netserver.Op: the client closed before the op started.
func (m *memSend) Cancel(netserver.ClientNum) {
	m.bufs = [2][]byte{}
	m.s.h.HTTPWritev(nil, m.c, true)
}

func (m *memSend) finish(x *netserver.OpContext, failed bool) {
	if m.closed {
		return
	}
	m.closed = true
	m.bufs, m.wire = [2][]byte{}, nil
	m.s.h.HTTPWritev(nil, m.c, failed)
	x.Finish(failed)
}
