package cache

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Config sizes a [Cache].
type Config struct {
	// MaxBytes is the byte budget: the sum of len(Entry.Data) over all
	// cached entries never exceeds it. It must be positive.
	MaxBytes int64
	// MaxEntryBytes is the largest file that is cached at all; larger
	// files are served from disk. Zero means MaxBytes; a value above
	// MaxBytes is lowered to MaxBytes. It must not be negative. The
	// environment variable URINGNET_CACHE_MAX_ENTRY (bytes) overrides it,
	// for benchmarks.
	MaxEntryBytes int64
	// MaxEntries optionally bounds the number of entries, which matters
	// only for very many tiny or empty files (they cost no budget bytes
	// but still cost a map slot). Zero means no bound besides MaxBytes.
	MaxEntries int
}

// Stats is a snapshot of the cache's counters.
type Stats struct {
	Hits          uint64 // Get calls that returned an entry
	Misses        uint64 // Get calls that returned nothing (includes Invalidations)
	Evictions     uint64 // entries dropped to make room for another
	Invalidations uint64 // entries dropped because the file's identity changed
	Bytes         int64  // sum of len(Data) over cached entries
	Entries       int    // number of cached entries
}

// Cache is an LRU of file contents bounded by a byte budget. It is safe for
// concurrent use by multiple goroutines. The zero value is not usable; call
// [New].
type Cache struct {
	maxBytes      int64
	maxEntryBytes int64
	maxEntries    int // 0: no count bound

	mu    sync.Mutex
	lru   *simplelru.LRU[string, *Entry] // guarded by mu; unbounded, both bounds are enforced here
	bytes int64                          // guarded by mu
	stats Stats                          // guarded by mu; Bytes and Entries filled on read
}

// New returns an empty cache configured by cfg.
func New(cfg Config) (*Cache, error) {
	if cfg.MaxBytes <= 0 {
		return nil, fmt.Errorf("cache: MaxBytes must be positive, got %d", cfg.MaxBytes)
	}
	if cfg.MaxEntryBytes < 0 {
		return nil, fmt.Errorf("cache: MaxEntryBytes must not be negative, got %d", cfg.MaxEntryBytes)
	}
	if cfg.MaxEntries < 0 {
		return nil, fmt.Errorf("cache: MaxEntries must not be negative, got %d", cfg.MaxEntries)
	}
	maxEntry := cfg.MaxEntryBytes
	if v, err := strconv.ParseInt(os.Getenv("URINGNET_CACHE_MAX_ENTRY"), 10, 64); err == nil && v > 0 {
		maxEntry = v // for benchmarks: which files come from memory
	}
	if maxEntry == 0 || maxEntry > cfg.MaxBytes {
		maxEntry = cfg.MaxBytes
	}
	lru, err := simplelru.NewLRU[string, *Entry](math.MaxInt, nil)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Cache{
		maxBytes:      cfg.MaxBytes,
		maxEntryBytes: maxEntry,
		maxEntries:    cfg.MaxEntries,
		lru:           lru,
	}, nil
}

// MaxEntryBytes returns the size of the largest entry the cache accepts.
func (c *Cache) MaxEntryBytes() int64 { return c.maxEntryBytes }

// Get returns the entry cached under key if it was read from a file with
// identity id, and marks it most recently used. An entry with a different
// identity is stale: it is removed, counted as an invalidation, and Get
// reports a miss. Get allocates nothing.
func (c *Cache) Get(key string, id Identity) (*Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	if e.ID != id {
		c.lru.Remove(key)
		c.bytes -= int64(len(e.Data))
		c.stats.Invalidations++
		c.stats.Misses++
		return nil, false
	}
	c.stats.Hits++
	return e, true
}

// Add caches e under key, replacing any previous entry for key, and evicts
// least recently used entries until the budget holds. It returns false, and
// caches nothing, when e is nil or len(e.Data) exceeds MaxEntryBytes; a
// previous entry for key is left alone in that case, as the next Get with
// the new identity will invalidate it anyway.
//
// After Add the caller must not modify e or its Data (see [Entry]).
func (c *Cache) Add(key string, e *Entry) bool {
	if e == nil {
		return false
	}
	n := int64(len(e.Data))
	if n > c.maxEntryBytes {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.lru.Remove(key)
		c.bytes -= int64(len(old.Data))
	}
	for c.bytes+n > c.maxBytes || (c.maxEntries > 0 && c.lru.Len() >= c.maxEntries) {
		_, old, ok := c.lru.RemoveOldest()
		if !ok {
			break // unreachable: n <= maxBytes, and the cache is now empty
		}
		c.bytes -= int64(len(old.Data))
		c.stats.Evictions++
	}
	c.lru.Add(key, e)
	c.bytes += n
	return true
}

// Remove drops the entry cached under key, if any.
func (c *Cache) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.lru.Remove(key)
		c.bytes -= int64(len(old.Data))
	}
}

// Purge drops every entry. Counters other than Bytes and Entries are kept.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Purge()
	c.bytes = 0
}

// Len returns the number of cached entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes returns the sum of len(Data) over cached entries; it never exceeds
// Config.MaxBytes.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Bytes = c.bytes
	s.Entries = c.lru.Len()
	return s
}

// ErrTooLarge is returned by [Cache.Load] for a file larger than
// MaxEntryBytes; the caller should serve it from disk (sendfile).
var ErrTooLarge = errors.New("cache: file larger than MaxEntryBytes")
