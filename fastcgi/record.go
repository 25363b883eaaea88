package fastcgi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Record types of FastCGI 1.0.
const (
	TypeBeginRequest    uint8 = 1
	TypeAbortRequest    uint8 = 2
	TypeEndRequest      uint8 = 3
	TypeParams          uint8 = 4
	TypeStdin           uint8 = 5
	TypeStdout          uint8 = 6
	TypeStderr          uint8 = 7
	TypeData            uint8 = 8
	TypeGetValues       uint8 = 9
	TypeGetValuesResult uint8 = 10
	TypeUnknownType     uint8 = 11
)

// Version is the only FastCGI protocol version (FCGI_VERSION_1).
const Version = 1

// HeaderLen is the length of a record header.
const HeaderLen = 8

// MaxContent is the largest content a record carries.
const MaxContent = 65535

// RoleResponder is the responder role of a BEGIN_REQUEST body.
const RoleResponder = 1

// FlagKeepConn asks the application to keep the connection open after
// the request (FCGI_KEEP_CONN).
const FlagKeepConn = 1

// Protocol statuses of an END_REQUEST body.
const (
	StatusRequestComplete = 0
	StatusCantMpxConn     = 1
	StatusOverloaded      = 2
	StatusUnknownRole     = 3
)

// Errors of the decoders.
var (
	// ErrShort: the input ends inside a record or a name-value pair.
	ErrShort = errors.New("fastcgi: truncated input")
	// ErrVersion: a record header does not carry version 1.
	ErrVersion = errors.New("fastcgi: unsupported record version")
	// ErrTooLarge: a name-value pair or a parameter block exceeds its bound.
	ErrTooLarge = errors.New("fastcgi: too large")
)

// Header is a record header.
type Header struct {
	Version       uint8
	Type          uint8
	ID            uint16
	ContentLength uint16
	PaddingLength uint8
}

// ParseHeader decodes the record header at the start of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShort
	}
	h := Header{Version: b[0], Type: b[1], ID: binary.BigEndian.Uint16(b[2:]),
		ContentLength: binary.BigEndian.Uint16(b[4:]), PaddingLength: b[6]}
	if h.Version != Version {
		return h, fmt.Errorf("%w: %d", ErrVersion, h.Version)
	}
	return h, nil
}

// padding returns the padding that brings n to a multiple of 8.
func padding(n int) int { return -n & 7 }

var zeros [8]byte

// AppendRecord appends one record of type typ for request id with
// content (at most MaxContent bytes: longer content is an error),
// padded to a multiple of 8 bytes.
func AppendRecord(dst []byte, typ uint8, id uint16, content []byte) ([]byte, error) {
	if len(content) > MaxContent {
		return dst, fmt.Errorf("fastcgi: record content of %d bytes: %w", len(content), ErrTooLarge)
	}
	dst = appendHeader(dst, typ, id, len(content))
	dst = append(dst, content...)
	return append(dst, zeros[:padding(len(content))]...), nil
}

// appendHeader appends a header for n content bytes (n <= MaxContent)
// and the padding that rounds n up to 8.
func appendHeader(dst []byte, typ uint8, id uint16, n int) []byte {
	return append(dst, Version, typ, byte(id>>8), byte(id), byte(n>>8), byte(n), byte(padding(n)), 0)
}

// AppendStream appends data as records of type typ (STDIN, say), split at
// MaxContent, with no terminating empty record.
func AppendStream(dst []byte, typ uint8, id uint16, data []byte) []byte {
	for len(data) > 0 {
		n := min(len(data), MaxContent)
		dst, _ = AppendRecord(dst, typ, id, data[:n])
		data = data[n:]
	}
	return dst
}

// AppendBeginRequest appends a BEGIN_REQUEST record for role with flags.
func AppendBeginRequest(dst []byte, id uint16, role uint16, flags uint8) []byte {
	body := [8]byte{byte(role >> 8), byte(role), flags}
	dst, _ = AppendRecord(dst, TypeBeginRequest, id, body[:])
	return dst
}

// AppendAbortRequest appends an ABORT_REQUEST record.
func AppendAbortRequest(dst []byte, id uint16) []byte {
	dst, _ = AppendRecord(dst, TypeAbortRequest, id, nil)
	return dst
}

// AppendEndRequest appends an END_REQUEST record (the application's side;
// tests use it).
func AppendEndRequest(dst []byte, id uint16, appStatus uint32, protoStatus uint8) []byte {
	var body [8]byte
	binary.BigEndian.PutUint32(body[:], appStatus)
	body[4] = protoStatus
	dst, _ = AppendRecord(dst, TypeEndRequest, id, body[:])
	return dst
}

// ParseEndRequest decodes an END_REQUEST body.
func ParseEndRequest(content []byte) (appStatus uint32, protoStatus uint8, err error) {
	if len(content) < 8 {
		return 0, 0, fmt.Errorf("fastcgi: END_REQUEST body of %d bytes: %w", len(content), ErrShort)
	}
	return binary.BigEndian.Uint32(content), content[4], nil
}

// AppendPair appends one name-value pair: each length in one byte when
// below 128, else in four (high bit set).
func AppendPair(dst []byte, name, value string) []byte {
	dst = appendLen(dst, len(name))
	dst = appendLen(dst, len(value))
	dst = append(dst, name...)
	return append(dst, value...)
}

func appendLen(dst []byte, n int) []byte {
	if n < 128 {
		return append(dst, byte(n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n)|1<<31)
}

// PairsLen returns the encoded length of a name-value pair.
func PairsLen(name, value string) int {
	l := func(n int) int {
		if n < 128 {
			return 1
		}
		return 4
	}
	return l(len(name)) + l(len(value)) + len(name) + len(value)
}

// readLen decodes a pair length at the start of b.
func readLen(b []byte) (n, used int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrShort
	}
	if b[0] < 128 {
		return int(b[0]), 1, nil
	}
	if len(b) < 4 {
		return 0, 0, ErrShort
	}
	return int(binary.BigEndian.Uint32(b) &^ (1 << 31)), 4, nil
}

// ParsePairs calls f with every name-value pair of b (a whole PARAMS or
// GET_VALUES body; the slices alias b) until f returns an error. Pairs
// longer than limit bytes are rejected with ErrTooLarge.
func ParsePairs(b []byte, limit int, f func(name, value []byte) error) error {
	for len(b) > 0 {
		nl, u1, err := readLen(b)
		if err != nil {
			return err
		}
		vl, u2, err := readLen(b[u1:])
		if err != nil {
			return err
		}
		b = b[u1+u2:]
		if nl > limit || vl > limit || nl+vl > limit {
			return fmt.Errorf("fastcgi: name-value pair of %d+%d bytes: %w", nl, vl, ErrTooLarge)
		}
		if nl+vl > len(b) {
			return ErrShort
		}
		if err := f(b[:nl], b[nl:nl+vl]); err != nil {
			return err
		}
		b = b[nl+vl:]
	}
	return nil
}

// Decoder splits a byte stream into records. It holds at most one record
// header and, for the types that are not streams (END_REQUEST,
// GET_VALUES_RESULT, UNKNOWN_TYPE and the rest), one record's content
// (at most MaxContent bytes); stream content (STDOUT, STDERR, STDIN,
// PARAMS, DATA) is handed on in the pieces it arrives in.
type Decoder struct {
	hdr    [HeaderLen]byte
	nh     int    // header bytes held
	h      Header // the current record, once nh == HeaderLen
	left   int    // content bytes still to come
	pad    int    // padding bytes still to come
	whole  []byte // content of a non-stream record being gathered
	inBody bool
}

// isStream reports whether records of typ are handed on in pieces.
func isStream(typ uint8) bool {
	switch typ {
	case TypeStdout, TypeStderr, TypeStdin, TypeParams, TypeData:
		return true
	}
	return false
}

// Next decodes from b: it returns the number of bytes used and, when a
// piece of content is ready, the record's header and that piece (which
// aliases b, or the Decoder's buffer, until the next call). ok is false
// when b was used up without a piece being ready. A stream record's
// pieces come one per call; an empty stream record (the end of a stream)
// comes as one call with an empty, non-nil piece; a non-stream record's
// content comes whole. end is set on the last piece of a record.
func (d *Decoder) Next(b []byte) (h Header, piece []byte, end bool, used int, ok bool, err error) {
	if !d.inBody {
		if d.pad > 0 {
			n := min(d.pad, len(b))
			d.pad -= n
			b = b[n:]
			used += n
			if d.pad > 0 {
				return Header{}, nil, false, used, false, nil
			}
		}
		n := copy(d.hdr[d.nh:], b)
		d.nh += n
		b = b[n:]
		used += n
		if d.nh < HeaderLen {
			return Header{}, nil, false, used, false, nil
		}
		d.nh = 0
		hh, err := ParseHeader(d.hdr[:])
		if err != nil {
			return hh, nil, false, used, false, err
		}
		d.h, d.left, d.pad, d.inBody = hh, int(hh.ContentLength), int(hh.PaddingLength), true
		d.whole = d.whole[:0]
		if d.left == 0 {
			d.inBody = false
			return d.h, []byte{}, true, used, true, nil
		}
	}
	if isStream(d.h.Type) {
		if len(b) == 0 {
			return Header{}, nil, false, used, false, nil
		}
		n := min(d.left, len(b))
		d.left -= n
		used += n
		if d.left == 0 {
			d.inBody = false
		}
		return d.h, b[:n], d.left == 0, used, true, nil
	}
	n := min(d.left, len(b))
	d.whole = append(d.whole, b[:n]...)
	d.left -= n
	used += n
	b = b[n:]
	if d.left > 0 {
		return Header{}, nil, false, used, false, nil
	}
	d.inBody = false
	return d.h, d.whole, true, used, true, nil
}

// Idle reports whether the Decoder is between records (padding aside).
func (d *Decoder) Idle() bool { return !d.inBody && d.nh == 0 }

// Reset forgets any partial record.
func (d *Decoder) Reset() { *d = Decoder{whole: d.whole[:0]} }
