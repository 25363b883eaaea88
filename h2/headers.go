package h2

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func (c *Conn) onHeaders(f *http2.HeadersFrame) {
	if f.StreamID%2 == 0 {
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("HEADERS on even stream %d", f.StreamID))
		return
	}
	c.block = c.block[:0]
	c.blockID = f.StreamID
	c.blockEnd = f.StreamEnded()
	c.blockFrames = 0
	c.blockPrio = f.HasPriority() && f.Priority.StreamDep == f.StreamID
	if !f.HeadersEnded() {
		c.inBlock = true
		c.blockSince = c.now()
	}
	c.fragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

func (c *Conn) onContinuation(f *http2.ContinuationFrame) {
	if len(f.HeaderBlockFragment()) == 0 && !f.HeadersEnded() {
		c.empty()
		if c.phase == phaseDone {
			return
		}
	}
	c.fragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

// fragment adds a piece of the header block, bounded by MaxHeaderBlock and
// MaxBlockFrames, and decodes the block when it is whole.
func (c *Conn) fragment(p []byte, end bool) {
	c.blockFrames++
	if len(c.block)+len(p) > c.cfg.MaxHeaderBlock || c.blockFrames > c.cfg.MaxBlockFrames {
		c.calm(&c.stats.ContinuationFloods, "header block too large")
		return
	}
	c.block = append(c.block, p...)
	if end {
		c.endBlock()
	}
}

// onField is the HPACK decoder's emit function: it collects the fields of
// the block being decoded until MaxHeaderListSize, then turns emission off
// (decoding goes on, to keep the dynamic table in step).
func (c *Conn) onField(f hpack.HeaderField) {
	c.listSize += f.Size()
	if c.listSize > c.cfg.MaxHeaderListSize {
		c.tooLarge = true
		c.dec.SetEmitEnabled(false)
		return
	}
	c.fields = append(c.fields, f)
}

// endBlock decodes a whole header block and opens a stream, or delivers
// trailers.
func (c *Conn) endBlock() {
	block, id, end := c.block, c.blockID, c.blockEnd
	c.blockSince = time.Time{}
	c.inBlock = false
	c.block = c.block[:0]
	if cap(c.block) > 1<<10 {
		c.block = nil // kept only if small: most blocks are
	}
	c.fields, c.listSize, c.tooLarge = c.fields[:0], 0, false
	defer c.dropFields()
	c.dec.SetEmitEnabled(true)
	_, err := c.dec.Write(block)
	if err == nil {
		err = c.dec.Close()
	}
	if err != nil {
		c.stats.HPACKErrors++
		c.fail(http2.ErrCodeCompression, "HPACK: "+err.Error())
		return
	}
	if id <= c.lastPeer {
		c.trailers(id, end)
		return
	}
	c.lastPeer = id
	if c.closing || c.peerGone {
		return // above the GOAWAY's last stream: ignored (RFC 9113 §6.8)
	}
	switch {
	case c.blockPrio:
		c.streamError(id, http2.ErrCodeProtocol)
	case validRequest(c.fields) != nil:
		c.streamError(id, http2.ErrCodeProtocol)
	case uint32(len(c.streams)) >= c.cfg.MaxConcurrentStreams:
		c.stats.RefusedStreams++
		c.streamError(id, http2.ErrCodeRefusedStream)
		if !c.resets.take(c.now()) {
			c.calm(&c.stats.RapidResets, "too many refused streams")
		}
	case c.tooLarge:
		c.stats.HeaderListTooLarge++
		c.lastDone = id
		c.tooLargeResponse(id, end)
	default:
		c.lastDone = id
		st := &stream{
			id:         id,
			remoteDone: end,
			sendWindow: c.peerInitialWindow,
			recvWindow: int64(c.cfg.InitialWindow),
			declared:   contentLength(c.fields),
		}
		if c.streams == nil {
			c.streams = make(map[uint32]*stream)
		}
		c.streams[id] = st
		c.stats.Streams++
		c.ev.Headers(id, c.fields, end)
	}
}

// dropFields forgets the decoded fields, so that an idle connection keeps
// none of their strings alive.
func (c *Conn) dropFields() {
	clear(c.fields)
	c.fields = c.fields[:0]
	if cap(c.fields) > 64 {
		c.fields = nil
	}
}

// trailers handles a header block on a stream already opened.
func (c *Conn) trailers(id uint32, end bool) {
	st := c.streams[id]
	switch {
	case st != nil && st.remoteDone:
		c.streamError(id, http2.ErrCodeStreamClosed)
		return
	case st == nil && (c.closing || c.peerGone):
		return
	case st == nil && id == c.lastPeer:
		c.fail(http2.ErrCodeStreamClosed, fmt.Sprintf("HEADERS on closed stream %d", id))
		return
	case st == nil:
		// Closed too, but more likely a new stream with an id below the
		// last (RFC 9113 §5.1.1; h2spec 5.1.1.2 wants PROTOCOL_ERROR).
		c.fail(http2.ErrCodeProtocol, fmt.Sprintf("HEADERS on stream %d after stream %d", id, c.lastPeer))
		return
	}
	if !end || c.tooLarge || validTrailers(c.fields) != nil || st.declared >= 0 && st.received != st.declared {
		c.streamError(id, http2.ErrCodeProtocol)
		return
	}
	st.remoteDone = true
	c.ev.Headers(id, c.fields, true)
	c.closeIfDone(st)
}

// tooLargeResponse answers a request whose header list is over
// MaxHeaderListSize with 431 and closes the stream (RFC 9113 §8.1: a
// request still sending gets RST_STREAM(NO_ERROR) after the response).
func (c *Conn) tooLargeResponse(id uint32, end bool) {
	c.writeHeaderBlock(id, []hpack.HeaderField{{Name: ":status", Value: "431"}}, true)
	if !end {
		c.writeReset(id, http2.ErrCodeNo)
	}
}

// contentLength returns the content-length field's value, or -1.
func contentLength(fields []hpack.HeaderField) int64 {
	for _, f := range fields {
		if f.Name == "content-length" {
			if n, err := strconv.ParseInt(f.Value, 10, 64); err == nil && n >= 0 {
				return n
			}
		}
	}
	return -1
}

// validRequest checks a request's header list (RFC 9113 §8.2, §8.3.1).
func validRequest(fields []hpack.HeaderField) error {
	var method, scheme, path, authority int
	regular := false
	for _, f := range fields {
		if !strings.HasPrefix(f.Name, ":") {
			regular = true
			if err := validField(f); err != nil {
				return err
			}
			continue
		}
		if regular {
			return fmt.Errorf("pseudo-header %s after a regular field", f.Name)
		}
		switch f.Name {
		case ":method":
			method++
		case ":scheme":
			scheme++
		case ":path":
			path++
			if f.Value == "" {
				return fmt.Errorf("empty :path")
			}
		case ":authority":
			authority++
		default:
			return fmt.Errorf("unknown pseudo-header %s", f.Name)
		}
		if !httpguts.ValidHeaderFieldValue(f.Value) {
			return fmt.Errorf("invalid value of %s", f.Name)
		}
	}
	if method > 1 || scheme > 1 || path > 1 || authority > 1 {
		return fmt.Errorf("repeated pseudo-header")
	}
	if method == 0 {
		return fmt.Errorf("no :method")
	}
	if fieldValue(fields, ":method") == "CONNECT" {
		if scheme != 0 || path != 0 || authority == 0 {
			return fmt.Errorf("malformed CONNECT")
		}
		return nil
	}
	if scheme == 0 || path == 0 {
		return fmt.Errorf("no :scheme or :path")
	}
	return nil
}

// validTrailers checks a trailer list: regular fields only.
func validTrailers(fields []hpack.HeaderField) error {
	for _, f := range fields {
		if strings.HasPrefix(f.Name, ":") {
			return fmt.Errorf("pseudo-header %s in trailers", f.Name)
		}
		if err := validField(f); err != nil {
			return err
		}
	}
	return nil
}

// validField checks a regular field: a lower-case token name, a value
// without CR, LF or NUL, and nothing connection-specific.
func validField(f hpack.HeaderField) error {
	if !httpguts.ValidHeaderFieldName(f.Name) || strings.ToLower(f.Name) != f.Name {
		return fmt.Errorf("invalid field name %q", f.Name)
	}
	if !httpguts.ValidHeaderFieldValue(f.Value) {
		return fmt.Errorf("invalid value of %s", f.Name)
	}
	switch f.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return fmt.Errorf("connection-specific field %s", f.Name)
	case "te":
		if f.Value != "trailers" {
			return fmt.Errorf("te other than trailers")
		}
	}
	return nil
}

// fieldValue returns the value of the first field called name.
func fieldValue(fields []hpack.HeaderField, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
