package cache

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrChanged is returned by [Cache.Load] when the file kept changing while
// it was being read, so no consistent copy could be taken.
var ErrChanged = errors.New("cache: file changed while being read")

// loadAttempts bounds how often Load rereads a file that changes under it.
const loadAttempts = 3

// Load returns the entry for the open file f, cached under key. It fstats f;
// when the cache holds key with the same identity it returns that entry
// without reading. Otherwise it reads the whole file with pread (f's offset
// is not used or moved), builds an entry with contentType and caches it.
//
// A file that is not regular is an error. A file larger than MaxEntryBytes
// returns an error wrapping [ErrTooLarge] and the caller should stream it
// instead. If the identity after the read differs from the one before (the
// file was written meanwhile), the read is retried a few times and then
// fails with [ErrChanged], so a torn copy is never cached.
func (c *Cache) Load(f *os.File, key, contentType string) (*Entry, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cache: load %s: %w", key, err)
	}
	for range loadAttempts {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("cache: load %s: not a regular file (%v)", key, fi.Mode().Type())
		}
		id := IdentityOf(fi)
		if e, ok := c.Get(key, id); ok {
			return e, nil
		}
		if id.Size > c.maxEntryBytes {
			return nil, fmt.Errorf("cache: load %s (%d bytes): %w", key, id.Size, ErrTooLarge)
		}
		data := make([]byte, id.Size)
		_, rerr := io.ReadFull(io.NewSectionReader(f, 0, id.Size), data)
		if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) && !errors.Is(rerr, io.EOF) {
			return nil, fmt.Errorf("cache: load %s: %w", key, rerr)
		}
		// Stat again: a short read, or any change of identity, means the
		// content read may mix two versions.
		fi, err = f.Stat()
		if err != nil {
			return nil, fmt.Errorf("cache: load %s: %w", key, err)
		}
		if rerr == nil && IdentityOf(fi) == id {
			e := NewEntry(data, id, contentType)
			c.Add(key, e)
			return e, nil
		}
	}
	return nil, fmt.Errorf("cache: load %s: %w", key, ErrChanged)
}
