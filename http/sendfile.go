package http

import (
	"errors"
	"os"
	"time"

	"github.com/uringnet/uringnet/cache"
	"github.com/uringnet/uringnet/netserver"
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
	if e, ok := s.cachedFile(clean); ok {
		meta := fileMeta{size: int64(len(e.Data)), etag: e.ETag, lastModified: e.LastModified,
			modTime: time.Unix(0, e.ID.ModTime), contentType: e.ContentType}
		s.serveFile(ls, cn, req, &meta, e, nil)
		return nil
	}
	f, fi, name, err := openUnder(s.root, clean)
	if err != nil {
		s.respondPage(ls, cn, pathStatus(err), "")
		return nil
	}
	meta := fileMeta{size: fi.Size(), modTime: fi.ModTime(), contentType: mimeType(name)}
	if fi.Size() <= s.cache.MaxEntryBytes() {
		e, err := s.cache.Load(f, name, meta.contentType)
		switch {
		case err == nil:
			f.Close()
			meta.size, meta.etag, meta.lastModified = int64(len(e.Data)), e.ETag, e.LastModified
			meta.modTime = time.Unix(0, e.ID.ModTime)
			s.serveFile(ls, cn, req, &meta, e, nil)
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
	s.serveFile(ls, cn, req, &meta, nil, f)
	return nil
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
func (s *Server) serveFile(ls *loopState, cn *conn, req *Request, m *fileMeta, e *cache.Entry, f *os.File) {
	c := cn.c
	closeFile := func() {
		if f != nil {
			f.Close()
		}
	}
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
	s.ns.Send(c, out)
	done := func(failed bool) {
		f.Close()
		s.h.HTTPWritev(nil, c, failed)
	}
	if len(ranges) == 0 {
		ranges = []byteRange{{Start: 0, Length: m.size}}
	}
	for i, r := range ranges {
		if parts != nil {
			s.ns.Send(c, parts[i])
		}
		var cb func(bool)
		if i == len(ranges)-1 && closing == nil {
			cb = done
		}
		if err := s.ns.QueueOp(c, s.sender.Transfer(f, r.Start, r.Length, cb)); err != nil {
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
