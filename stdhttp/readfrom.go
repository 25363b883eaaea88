package stdhttp

import (
	"io"
	"os"
)

// ReadFrom sends a regular file (an *os.File, or one behind an
// io.LimitedReader as io.CopyN makes it: http.ServeFile, http.FileServer)
// by the sendfile package's splice path when the response has a known
// length; anything else is copied through Write.
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(200)
	}
	var sniffed int64
	if !w.headSent && !w.hi.haveType && bodyAllowed(w.status) {
		// Let Write sniff the Content-Type from the first bytes, as
		// net/http does.
		n, err := io.CopyN(writerOnly{w}, src, 512)
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return n, err
		}
		sniffed = n
	}
	f, off, n, ok := fileOf(src)
	if ok && n <= pieceSize {
		// A small file is cheaper read into the response's buffer: it
		// goes out with the head in one write.
		if k, done, err := w.readSmall(src, n); done {
			return sniffed + k, err
		}
	}
	if !ok || n <= pieceSize || !w.canSplice(n) {
		k, err := io.Copy(writerOnly{w}, src)
		return sniffed + k, err
	}
	if err := w.sendFile(f, off, n); err != nil {
		return sniffed, err
	}
	if _, err := f.Seek(off+n, io.SeekStart); err != nil {
		return sniffed + n, err
	}
	if lr, ok := src.(*io.LimitedReader); ok {
		lr.N -= n
	}
	return sniffed + n, nil
}

// writerOnly hides ReadFrom, so that io.Copy uses Write.
type writerOnly struct{ io.Writer }

// fileOf finds the regular file behind src and the range it would read.
func fileOf(src io.Reader) (f *os.File, off, n int64, ok bool) {
	limit := int64(-1)
	if lr, isLR := src.(*io.LimitedReader); isLR {
		src, limit = lr.R, lr.N
	}
	f, ok = src.(*os.File)
	if !ok {
		return nil, 0, 0, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, 0, 0, false
	}
	if off, err = f.Seek(0, io.SeekCurrent); err != nil {
		return nil, 0, 0, false
	}
	n = max(st.Size()-off, 0)
	if limit >= 0 {
		n = min(n, limit)
	}
	return f, off, n, true
}

// canSplice reports whether n more body bytes may go out by splice: the
// response has a length (not chunked) and a body, and n fits it.
func (w *response) canSplice(n int64) bool {
	if w.detached || w.err != nil || w.head || !bodyAllowed(w.status) || n == 0 {
		return false
	}
	if w.headSent {
		return !w.f.chunked && (w.f.contentLength < 0 || w.written+n <= w.f.contentLength)
	}
	return w.hi.contentLength >= 0 && w.hi.te == "" && len(w.hi.trailers) == 0 && !w.hasPrefixTrailers() &&
		w.written+n <= w.hi.contentLength
}

// sendFile sends n bytes of f from off, after the head and what is
// buffered, and waits until they are out.
func (w *response) sendFile(f *os.File, off, n int64) error {
	if w.buf != nil && len(*w.buf) > 0 {
		if err := w.flushBuf(); err != nil {
			return err
		}
	}
	if err := w.waitPiece(); err != nil {
		return err
	}
	var head []byte
	withHead := !w.headSent
	if withHead {
		w.f = w.decide(nil, false)
		head = w.appendFields(nil, &w.f)
		w.headSent = true
	}
	cl, fr, status, hi := w.cl, w.f, w.status, w.hi
	w.inflight = true
	err := cl.a.queue(cl.c, func() {
		var h []byte
		if withHead {
			h = cl.a.srv.AppendHeadStart(nil, cl.c, status, !hi.haveDate)
			h = append(h, head...)
			h = cl.a.srv.AppendHeadEnd(h, cl.c, fr.close)
		}
		if err := cl.a.ns.QueueOp(cl.c, cl.a.srv.FileOp(h, f, off, n, w.pieceDone)); err != nil {
			w.pieceDone(true)
		}
	})
	if err != nil {
		w.pieceDone(true)
	}
	if err := w.waitPiece(); err != nil {
		return err
	}
	w.written += n
	return nil
}

// readSmall reads n bytes of src straight into the body buffer when they
// fit it before the head goes out; done is false when they do not (the
// caller copies instead).
func (w *response) readSmall(src io.Reader, n int64) (k int64, done bool, err error) {
	if w.headSent || w.detached || w.err != nil || !bodyAllowed(w.status) ||
		(w.hi.contentLength >= 0 && w.written+n > w.hi.contentLength) {
		return 0, false, nil
	}
	if w.buf == nil {
		w.buf = w.cl.a.getBuf(w.limit() > smallBody)
	}
	b := *w.buf
	if int64(w.limit()-len(b)) < n || int64(cap(b)-len(b)) < n {
		return 0, false, nil
	}
	m, err := io.ReadFull(src, b[len(b):len(b)+int(n)])
	*w.buf = b[:len(b)+m]
	w.written += int64(m)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil // the file was shorter than its size said: what was read goes
	}
	return int64(m), true, err
}
