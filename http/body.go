package http

// BodyCollector gathers a whole request body, framed by Content-Length or
// chunked, into one byte slice, fed with input as it arrives. The slice is
// the caller's: give storage with SetBuffer to avoid allocation, take the
// result with Bytes. A BodyCollector is reused across requests with Reset.
type BodyCollector struct {
	buf       []byte
	mode      BodyMode
	remaining int64 // Content-Length bytes still expected
	limit     int64
	dec       ChunkedDecoder
	done      bool
	err       error
}

// SetBuffer makes c append the body to buf[:0], reusing its capacity.
func (c *BodyCollector) SetBuffer(buf []byte) { c.buf = buf[:0] }

// Reset prepares c to collect the body of req, at most limit bytes (zero or
// less means DefaultMaxBodyBytes). The buffer is kept and emptied. A nil req
// means a request without a body.
func (c *BodyCollector) Reset(req *Request, limit int64) {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	*c = BodyCollector{buf: c.buf[:0], limit: limit}
	if req == nil {
		c.done = true
		return
	}
	c.mode = req.Body
	switch req.Body {
	case BodyLength:
		if req.ContentLength > limit {
			c.err = errBodyTooLarge
		}
		c.remaining = req.ContentLength
	case BodyChunked:
		c.dec.Reset(limit)
	default:
		c.done = true
	}
}

// Feed consumes body bytes from src and reports how many it consumed and
// whether the body is complete. Bytes after the body (a pipelined request)
// are not consumed. consumed == 0 with !done and a nil error means more
// input is needed. Errors are *Error values (400, 413, 431) after which the
// connection must be closed.
func (c *BodyCollector) Feed(src []byte) (consumed int, done bool, err error) {
	if c.err != nil {
		return 0, false, c.err
	}
	if c.done {
		return 0, true, nil
	}
	if c.mode == BodyLength {
		n := int64(len(src))
		if n > c.remaining {
			n = c.remaining
		}
		c.buf = append(c.buf, src[:n]...)
		c.remaining -= n
		c.done = c.remaining == 0
		return int(n), c.done, nil
	}
	for consumed < len(src) {
		data, n, fin, err := c.dec.Next(src[consumed:])
		consumed += n
		if err != nil {
			c.err = err
			return consumed, false, err
		}
		c.buf = append(c.buf, data...)
		if fin {
			c.done = true
			return consumed, true, nil
		}
		if n == 0 {
			break
		}
	}
	return consumed, false, nil
}

// Bytes returns the body collected so far; it is complete once Feed has
// reported done. The slice is the collector's buffer: it is reused by the
// next Reset unless the caller gives a new one with SetBuffer.
func (c *BodyCollector) Bytes() []byte { return c.buf }

// Done reports whether the whole body has been collected.
func (c *BodyCollector) Done() bool { return c.done }
