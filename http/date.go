package http

import "time"

// imfFixdate is the preferred HTTP date format (RFC 9110 §5.6.7), the
// package's only copy of the layout: the Date header and the validators
// (conditional.go) use it.
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// DateCache caches the IMF-fixdate value of the Date header, formatting it
// again at most once per second. It is not safe for concurrent use; each
// event loop keeps its own. The zero value is ready to use.
type DateCache struct {
	sec int64    // Unix second of the cached value; valid only if n > 0
	n   int      // length of the cached value in buf
	buf [32]byte // "Mon, 02 Jan 2006 15:04:05 GMT"
}

// Append appends "Date: <IMF-fixdate>\r\n" for now to dst. It does not
// allocate.
func (d *DateCache) Append(dst []byte, now time.Time) []byte {
	dst = append(dst, "Date: "...)
	dst = append(dst, d.Value(now)...)
	return append(dst, "\r\n"...)
}

// Value returns the cached IMF-fixdate text for now. The slice is owned by d
// and changes when the second does.
func (d *DateCache) Value(now time.Time) []byte {
	if sec := now.Unix(); d.n == 0 || sec != d.sec {
		d.sec = sec
		// Years past 9999 do not fit; they are truncated rather than allocated.
		d.n = copy(d.buf[:], now.UTC().AppendFormat(d.buf[:0], imfFixdate))
	}
	return d.buf[:d.n]
}
