package cache

import (
	"strconv"
	"time"
)

// Entry is one cached file: its bytes and the precomputed header values a
// response needs.
//
// An Entry is immutable once it has been passed to [Cache.Add]: neither the
// cache nor its users may change any field or any byte of Data. This is what
// makes eviction safe without reference counts: a write still in flight on a
// ring keeps its own reference to Data (the task table holds the slice until
// the final completion), so after the cache drops the entry the garbage
// collector keeps the array alive exactly as long as someone uses it, and
// nobody can observe a half-replaced file because replacement creates a new
// Entry instead of rewriting an old one.
type Entry struct {
	Data         []byte   // the whole file content; len(Data) is what the entry costs
	ID           Identity // identity of the file Data was read from
	ETag         string   // strong entity tag, quotes included (see [ETag])
	LastModified string   // ModTime as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"
	ContentType  string   // media type to send, e.g. "text/html; charset=utf-8"
}

// NewEntry returns an entry for data read from the file with identity id,
// with ETag and LastModified computed from id.
func NewEntry(data []byte, id Identity, contentType string) *Entry {
	return &Entry{
		Data:         data,
		ID:           id,
		ETag:         ETag(id),
		LastModified: LastModified(id),
		ContentType:  contentType,
	}
}

// Range returns the n bytes of Data starting at off, and whether that range
// lies within Data. A zero-length range is valid at any offset from 0 to
// len(Data) inclusive. Out-of-bounds or negative arguments return (nil,
// false); no argument can make Range panic.
//
// The returned slice has its capacity limited to n, so an append to it can
// never write into the shared Data.
func (e *Entry) Range(off, n int64) ([]byte, bool) {
	size := int64(len(e.Data))
	// off <= size and n <= size-off cannot overflow, unlike off+n <= size.
	if off < 0 || n < 0 || off > size || n > size-off {
		return nil, false
	}
	return e.Data[off : off+n : off+n], true
}

// httpTimeFormat is the IMF-fixdate layout of RFC 9110 §5.6.7.
const httpTimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// ETag formats the strong entity tag of a file with identity id:
// "<hex size>-<hex mtime nanos>-<hex inode>", quotes included.
//
// A strong validator is justified because the tuple changes whenever the
// content does in practice: an in-place write changes the mtime (nanosecond
// resolution) or the size, and an atomic replace by rename changes the inode.
// The device number is left out so that the tag stays short; a server serves
// one root, and a collision would need two files of equal size and mtime
// sharing an inode number across devices under the same URL.
func ETag(id Identity) string {
	b := make([]byte, 0, 2+3*16+2)
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(id.Size), 16)
	b = append(b, '-')
	b = strconv.AppendUint(b, uint64(id.ModTime), 16)
	b = append(b, '-')
	b = strconv.AppendUint(b, id.Ino, 16)
	b = append(b, '"')
	return string(b)
}

// LastModified formats the modification time of id as an IMF-fixdate (the
// Last-Modified header value). HTTP dates have one-second resolution, so the
// nanoseconds are dropped.
func LastModified(id Identity) string {
	return time.Unix(0, id.ModTime).UTC().Format(httpTimeFormat)
}
