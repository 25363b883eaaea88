package http

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
)

// byteRange is one satisfiable byte range of a representation: Length bytes
// starting at offset Start. Ranges returned by parseRange always satisfy
// 0 <= Start, 1 <= Length and Start+Length <= size.
type byteRange struct {
	Start, Length int64
}

// End returns the offset of the last byte of r (the last-pos of a
// Content-Range).
func (r byteRange) End() int64 { return r.Start + r.Length - 1 }

// ErrUnsatisfiable is returned by parseRange when a well-formed Range
// header names no byte of the representation. The caller answers 416 Range
// Not Satisfiable with "Content-Range: bytes */size" (appendUnsatisfiedRange).
var ErrUnsatisfiable = errors.New("http: range not satisfiable")

// Limits that defend parseRange callers against range-based denial of
// service (RFC 9110 §14.2 lets a server ignore such requests).
const (
	// MaxRanges is the most range-specs a Range header may hold; a header
	// with more is ignored and the whole representation is sent.
	MaxRanges = 16
	// rangeCoalesceGap is the largest gap between two ranges that is
	// filled in when they are coalesced: smaller than the part header a
	// separate part would cost.
	rangeCoalesceGap = 80
)

// parseRange parses the value of a Range header field (RFC 9110 §14.2) for
// a representation of size bytes. It understands "bytes=first-last",
// "bytes=first-" and "bytes=-suffix", in a comma-separated list with
// optional whitespace; the unit is case-insensitive.
//
// The result is one of:
//
//   - (nil, nil): ignore the header and send the whole representation
//     with 200. This is the answer to a syntactically invalid header, a unit
//     other than bytes, a range whose last-pos is below its first-pos, more
//     than [MaxRanges] range-specs, or size <= 0 (an empty representation
//     has no byte a range could name).
//   - (nil, [ErrUnsatisfiable]): the header is valid but no range overlaps
//     the representation; answer 416.
//   - one or more ranges, each within [0, size), with last-pos clamped to
//     size-1 and unsatisfiable members dropped. When any two ranges overlap,
//     all ranges are sorted and coalesced (also closing gaps under 80
//     bytes), so the parts of a response never repeat a byte and their
//     total is at most size; otherwise the client's order is kept. The
//     caller answers 206, with one part for one range and
//     multipart/byteranges (multipartByteranges) for several.
//
// Numbers too large for int64 saturate: a huge last-pos or suffix-length is
// clamped like any other, a huge first-pos is unsatisfiable.
func parseRange(h []byte, size int64) ([]byteRange, error) {
	h = trimOWS(h)
	const unit = "bytes="
	if len(h) < len(unit) || !equalFold(h[:len(unit)], unit) {
		return nil, nil
	}
	h = h[len(unit):]

	// First pass: syntax and the count, so no work is done for a header
	// that will be ignored anyway.
	var specs [MaxRanges]struct {
		first, last int64 // -1 for an absent first (suffix) or last
	}
	n := 0
	for elem := range splitList(h) {
		if len(elem) == 0 {
			continue // RFC 9110 §5.6.1: empty list elements are allowed
		}
		if n == MaxRanges {
			return nil, nil
		}
		dash := -1
		for i, c := range elem {
			if c == '-' {
				dash = i
				break
			}
		}
		if dash < 0 {
			return nil, nil
		}
		first, last := int64(-1), int64(-1)
		if dash > 0 {
			v, ok := parseDigits(elem[:dash])
			if !ok {
				return nil, nil
			}
			first = v
		}
		if dash+1 < len(elem) {
			v, ok := parseDigits(elem[dash+1:])
			if !ok {
				return nil, nil
			}
			last = v
		}
		switch {
		case first < 0 && last < 0: // "-"
			return nil, nil
		case first >= 0 && last >= 0 && last < first: // invalid int-range
			return nil, nil
		}
		specs[n].first, specs[n].last = first, last
		n++
	}
	if n == 0 || size <= 0 {
		return nil, nil
	}

	// Second pass: resolve against size.
	ranges := make([]byteRange, 0, n)
	for _, s := range specs[:n] {
		var r byteRange
		if s.first < 0 { // suffix-range
			if s.last == 0 {
				continue // a zero-length suffix is unsatisfiable
			}
			r.Length = min(s.last, size)
			r.Start = size - r.Length
		} else {
			if s.first >= size {
				continue
			}
			end := size - 1
			if s.last >= 0 && s.last < end {
				end = s.last
			}
			r.Start, r.Length = s.first, end-s.first+1
		}
		ranges = append(ranges, r)
	}
	if len(ranges) == 0 {
		return nil, ErrUnsatisfiable
	}
	if rangesOverlap(ranges) {
		ranges = coalesceRanges(ranges)
	}
	return ranges, nil
}

// rangesOverlap reports whether any two ranges share a byte.
func rangesOverlap(rs []byteRange) bool {
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			if rs[i].Start <= rs[j].End() && rs[j].Start <= rs[i].End() {
				return true
			}
		}
	}
	return false
}

// coalesceRanges sorts rs by start and merges ranges that overlap or lie within
// rangeCoalesceGap bytes of each other, in place.
func coalesceRanges(rs []byteRange) []byteRange {
	slices.SortFunc(rs, func(a, b byteRange) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Start <= last.End()+1+rangeCoalesceGap {
			end := max(last.End(), r.End())
			last.Length = end - last.Start + 1
			continue
		}
		out = append(out, r)
	}
	return out
}

// appendContentRange appends the header line
// "Content-Range: bytes first-last/size\r\n" for r to dst.
func appendContentRange(dst []byte, r byteRange, size int64) []byte {
	dst = append(dst, "Content-Range: "...)
	return appendContentRangeValue(dst, r, size)
}

// appendUnsatisfiedRange appends the header line
// "Content-Range: bytes */size\r\n" that goes with a 416 response.
func appendUnsatisfiedRange(dst []byte, size int64) []byte {
	dst = append(dst, "Content-Range: bytes */"...)
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, "\r\n"...)
}

// appendContentRangeValue appends "bytes first-last/size\r\n".
func appendContentRangeValue(dst []byte, r byteRange, size int64) []byte {
	dst = append(dst, "bytes "...)
	dst = strconv.AppendInt(dst, r.Start, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, r.End(), 10)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, "\r\n"...)
}

// multipartByteranges lays out a multipart/byteranges body (RFC 9110
// §14.6) for ranges of a representation of size bytes. The response header
// is "Content-Type: multipart/byteranges; boundary=" + boundary, with
// Content-Length total.
//
// The body is, for each i, parts[i] followed by that range's bytes, and
// then closing. parts[i] holds the delimiter and part header: CRLF,
// "--boundary", CRLF, "Content-Type: contentType" CRLF (left out when
// contentType is empty), "Content-Range: bytes a-b/size" CRLF, and the
// blank line. closing is "\r\n--boundary--\r\n". total is the exact number
// of bytes of the whole body. All parts share one backing array.
func multipartByteranges(ranges []byteRange, size int64, contentType, boundary string) (parts [][]byte, closing []byte, total int64) {
	perPart := 2 + 2 + len(boundary) + 2 + len("Content-Range: bytes ") + 3*20 + 2 + 2 + 2
	if contentType != "" {
		perPart += len("Content-Type: ") + len(contentType) + 2
	}
	buf := make([]byte, 0, perPart*len(ranges)+len(boundary)+8)
	parts = make([][]byte, len(ranges))
	for i, r := range ranges {
		start := len(buf)
		buf = append(buf, "\r\n--"...)
		buf = append(buf, boundary...)
		buf = append(buf, "\r\n"...)
		if contentType != "" {
			buf = append(buf, "Content-Type: "...)
			buf = append(buf, contentType...)
			buf = append(buf, "\r\n"...)
		}
		buf = appendContentRange(buf, r, size)
		buf = append(buf, "\r\n"...)
		parts[i] = buf[start:len(buf):len(buf)]
		total += int64(len(parts[i])) + r.Length
	}
	start := len(buf)
	buf = append(buf, "\r\n--"...)
	buf = append(buf, boundary...)
	buf = append(buf, "--\r\n"...)
	closing = buf[start:len(buf):len(buf)]
	total += int64(len(closing))
	return parts, closing, total
}

// newMultipartBoundary returns a fresh random boundary for a
// multipart/byteranges response: 32 hex digits from crypto/rand, which
// cannot occur in the content by chance and keeps no state between calls.
func newMultipartBoundary() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on Linux (Go 1.24+: crashes instead)
	return hex.EncodeToString(b[:])
}
