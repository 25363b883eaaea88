package http

// Bounds on the parts of a chunked body that carry no data.
const (
	maxChunkSizeDigits = 16       // hex digits of one chunk-size
	maxChunkExtBytes   = 16 << 10 // chunk-extension bytes over the whole body
	maxTrailerBytes    = 16 << 10 // bytes of the trailer section
)

var (
	errChunkSize     = &Error{StatusBadRequest, "malformed chunk size"}
	errChunkOverflow = &Error{StatusBadRequest, "chunk size too long"}
	errChunkExt      = &Error{StatusBadRequest, "malformed chunk extension"}
	errChunkExtLong  = &Error{StatusBadRequest, "chunk extensions too long"}
	errChunkCRLF     = &Error{StatusBadRequest, "missing CRLF in chunked body"}
	errTrailer       = &Error{StatusBadRequest, "malformed trailer field"}
	errTrailerLarge  = &Error{StatusRequestHeaderFieldsTooLarge, "trailer section too large"}
)

// chunkState is where a ChunkedDecoder is in the grammar of RFC 9112 §7.1.
type chunkState uint8

const (
	csSize         chunkState = iota // expecting the first hex digit of a chunk-size
	csSizeDigits                     // in the chunk-size
	csSizeBWS                        // whitespace after the size, before ';'
	csExtStart                       // after ';', expecting an extension name
	csExtName                        // in an extension name
	csExtAfterName                   // whitespace after an extension name
	csExtValStart                    // after '=', expecting a value
	csExtToken                       // in a token value
	csExtQuoted                      // in a quoted-string value
	csExtQuotedEsc                   // after '\' in a quoted-string
	csExtAfterVal                    // whitespace after a value
	csSizeLF                         // after the CR of the chunk-size line
	csData                           // in chunk data
	csDataCR                         // expecting the CR after chunk data
	csDataLF                         // expecting the LF after chunk data
	csTrailerStart                   // at the start of a trailer line (or the final CRLF)
	csTrailerName                    // in a trailer field name
	csTrailerValue                   // in a trailer field value
	csTrailerLF                      // after the CR of a trailer line
	csFinalLF                        // after the CR of the final empty line
	csDone                           // the whole body has been decoded
)

// ChunkedDecoder decodes a chunked request body (RFC 9112 §7.1)
// incrementally, from input split anywhere, without copying: data is handed
// back as subslices of the input. Chunk extensions are checked for syntax and
// ignored; trailer fields are checked like header fields and ignored. The
// zero value is ready to use with the default limit; Reset sets another one.
type ChunkedDecoder struct {
	state        chunkState
	digits       uint8
	size         uint64 // size of the chunk being read
	remaining    uint64 // data bytes left in the current chunk
	total        int64  // data bytes decoded so far
	limit        int64  // most data bytes allowed; 0 means the default
	extBytes     int
	trailerBytes int
	err          error
}

// Reset prepares d for a new body of at most limit decoded bytes. A limit of
// zero or less means DefaultMaxBodyBytes.
func (d *ChunkedDecoder) Reset(limit int64) {
	*d = ChunkedDecoder{limit: limit}
}

// Total returns the number of body bytes decoded so far.
func (d *ChunkedDecoder) Total() int64 { return d.total }

// Next consumes from src and returns the next piece of body data (a
// subslice of src), the number of bytes of src consumed, and done=true once
// the last-chunk and the trailer section have been consumed; bytes after
// them (a pipelined request) are left unconsumed. data may be empty with
// consumed > 0 when only framing was consumed. consumed == 0 with !done and a
// nil error means more input is needed. Errors are *Error with status 400
// (bad chunk size, missing CRLF, malformed extension or trailer, overflow),
// 413 (body over the limit) or 431 (trailer section too large); after an
// error, Next keeps returning it.
func (d *ChunkedDecoder) Next(src []byte) (data []byte, consumed int, done bool, err error) {
	if d.err != nil {
		return nil, 0, false, d.err
	}
	if d.state == csDone {
		return nil, 0, true, nil
	}
	for i := 0; i < len(src); i++ {
		if d.state == csData {
			n := uint64(len(src) - i)
			if n > d.remaining {
				n = d.remaining
			}
			d.remaining -= n
			if d.remaining == 0 {
				d.state = csDataCR
			}
			end := i + int(n)
			return src[i:end], end, false, nil
		}
		if err := d.step(src[i]); err != nil {
			d.err = err
			return nil, i, false, err
		}
		if d.state == csDone {
			return nil, i + 1, true, nil
		}
	}
	return nil, len(src), false, nil
}

// step advances the framing state machine by one byte.
func (d *ChunkedDecoder) step(c byte) error {
	if d.state >= csSizeBWS && d.state <= csExtAfterVal {
		d.extBytes++
		if d.extBytes > maxChunkExtBytes {
			return errChunkExtLong
		}
	}
	if d.state >= csTrailerStart && d.state <= csFinalLF {
		d.trailerBytes++
		if d.trailerBytes > maxTrailerBytes {
			return errTrailerLarge
		}
	}
	switch d.state {
	case csSize, csSizeDigits:
		if h := hexTable[c]; h >= 0 {
			d.digits++
			if d.digits > maxChunkSizeDigits {
				return errChunkOverflow
			}
			d.size = d.size<<4 | uint64(h)
			d.state = csSizeDigits
			if d.size > uint64(d.maxBody()-d.total) {
				return errBodyTooLarge
			}
			return nil
		}
		if d.state == csSize {
			return errChunkSize
		}
		switch c {
		case ' ', '\t':
			d.state = csSizeBWS
		case ';':
			d.state = csExtStart
		case '\r':
			d.state = csSizeLF
		default:
			return errChunkSize
		}
	case csSizeBWS:
		switch c {
		case ' ', '\t':
		case ';':
			d.state = csExtStart
		default:
			return errChunkExt
		}
	case csExtStart:
		switch {
		case isOWS(c):
		case tcharTable[c]:
			d.state = csExtName
		default:
			return errChunkExt
		}
	case csExtName, csExtAfterName:
		switch {
		case tcharTable[c] && d.state == csExtName:
		case isOWS(c):
			d.state = csExtAfterName
		case c == '=':
			d.state = csExtValStart
		case c == ';':
			d.state = csExtStart
		case c == '\r':
			d.state = csSizeLF
		default:
			return errChunkExt
		}
	case csExtValStart:
		switch {
		case isOWS(c):
		case c == '"':
			d.state = csExtQuoted
		case tcharTable[c]:
			d.state = csExtToken
		default:
			return errChunkExt
		}
	case csExtToken, csExtAfterVal:
		switch {
		case tcharTable[c] && d.state == csExtToken:
		case isOWS(c):
			d.state = csExtAfterVal
		case c == ';':
			d.state = csExtStart
		case c == '\r':
			d.state = csSizeLF
		default:
			return errChunkExt
		}
	case csExtQuoted:
		switch {
		case c == '"':
			d.state = csExtAfterVal
		case c == '\\':
			d.state = csExtQuotedEsc
		case fieldValueTable[c]:
		default:
			return errChunkExt
		}
	case csExtQuotedEsc:
		if !fieldValueTable[c] {
			return errChunkExt
		}
		d.state = csExtQuoted
	case csSizeLF:
		if c != '\n' {
			return errChunkCRLF
		}
		if d.size == 0 {
			d.state = csTrailerStart
			return nil
		}
		d.total += int64(d.size)
		d.remaining, d.size, d.digits = d.size, 0, 0
		d.state = csData
	case csDataCR:
		if c != '\r' {
			return errChunkCRLF
		}
		d.state = csDataLF
	case csDataLF:
		if c != '\n' {
			return errChunkCRLF
		}
		d.state = csSize
	case csTrailerStart:
		switch {
		case c == '\r':
			d.state = csFinalLF
		case tcharTable[c]:
			d.state = csTrailerName
		default:
			return errTrailer
		}
	case csTrailerName:
		switch {
		case tcharTable[c]:
		case c == ':':
			d.state = csTrailerValue
		default:
			return errTrailer
		}
	case csTrailerValue:
		switch {
		case fieldValueTable[c]:
		case c == '\r':
			d.state = csTrailerLF
		default:
			return errTrailer
		}
	case csTrailerLF, csFinalLF:
		if c != '\n' {
			return errChunkCRLF
		}
		if d.state == csFinalLF {
			d.state = csDone
		} else {
			d.state = csTrailerStart
		}
	}
	return nil
}

func (d *ChunkedDecoder) maxBody() int64 {
	if d.limit <= 0 {
		return DefaultMaxBodyBytes
	}
	return d.limit
}
