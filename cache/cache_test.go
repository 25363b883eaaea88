package cache

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func mustNew(t testing.TB, cfg Config) *Cache {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

func entryOf(n int, id Identity) *Entry {
	id.Size = int64(n)
	return NewEntry([]byte(strings.Repeat("x", n)), id, "text/plain")
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		cfg          Config
		wantErr      bool
		wantMaxEntry int64
	}{
		{Config{MaxBytes: 100, MaxEntryBytes: 10}, false, 10},
		{Config{MaxBytes: 100}, false, 100},
		{Config{MaxBytes: 100, MaxEntryBytes: 1000}, false, 100},
		{Config{MaxBytes: 0}, true, 0},
		{Config{MaxBytes: -1}, true, 0},
		{Config{MaxBytes: 100, MaxEntryBytes: -1}, true, 0},
		{Config{MaxBytes: 100, MaxEntries: -1}, true, 0},
	}
	for _, tt := range tests {
		c, err := New(tt.cfg)
		if (err != nil) != tt.wantErr {
			t.Errorf("New(%+v) error = %v, want error %v", tt.cfg, err, tt.wantErr)
			continue
		}
		if err == nil && c.MaxEntryBytes() != tt.wantMaxEntry {
			t.Errorf("New(%+v).MaxEntryBytes() = %d, want %d", tt.cfg, c.MaxEntryBytes(), tt.wantMaxEntry)
		}
	}
}

func TestGetAddHitMiss(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 100})
	id := Identity{Size: 5, ModTime: 1, Ino: 7, Dev: 1}
	if _, ok := c.Get("/a", id); ok {
		t.Fatal("Get on empty cache hit")
	}
	e := entryOf(5, id)
	if !c.Add("/a", e) {
		t.Fatal("Add rejected a small entry")
	}
	got, ok := c.Get("/a", id)
	if !ok || got != e {
		t.Fatalf("Get = %p, %v; want %p, true", got, ok, e)
	}
	if _, ok := c.Get("/b", id); ok {
		t.Fatal("Get of another key hit")
	}
	s := c.Stats()
	want := Stats{Hits: 1, Misses: 2, Bytes: 5, Entries: 1}
	if s != want {
		t.Fatalf("Stats = %+v, want %+v", s, want)
	}
	if c.Add("/nil", nil) {
		t.Fatal("Add(nil) = true")
	}
}

func TestAddTooLarge(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 100, MaxEntryBytes: 10})
	if !c.Add("/ok", entryOf(10, Identity{})) {
		t.Fatal("entry of exactly MaxEntryBytes rejected")
	}
	if c.Add("/big", entryOf(11, Identity{})) {
		t.Fatal("entry above MaxEntryBytes accepted")
	}
	if c.Len() != 1 || c.Bytes() != 10 {
		t.Fatalf("Len, Bytes = %d, %d; want 1, 10", c.Len(), c.Bytes())
	}
	// A rejected replacement leaves the old entry; the next Get with the
	// new identity invalidates it.
	old := Identity{Size: 10, ModTime: 1}
	c.Add("/f", entryOf(10, old))
	if c.Add("/f", entryOf(11, Identity{ModTime: 2})) {
		t.Fatal("oversized replacement accepted")
	}
	if _, ok := c.Get("/f", Identity{Size: 11, ModTime: 2}); ok {
		t.Fatal("stale entry served for a new identity")
	}
	if _, ok := c.Get("/f", old); ok {
		t.Fatal("invalidated entry still present")
	}
}

func TestLRUOrder(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 30})
	for _, k := range []string{"/a", "/b", "/c"} {
		c.Add(k, entryOf(10, Identity{}))
	}
	// Touch /a so that /b is now the least recently used.
	if _, ok := c.Get("/a", Identity{Size: 10}); !ok {
		t.Fatal("/a missing")
	}
	c.Add("/d", entryOf(10, Identity{}))
	present := func(k string) bool { _, ok := c.Get(k, Identity{Size: 10}); return ok }
	if present("/b") {
		t.Error("/b (least recently used) survived")
	}
	for _, k := range []string{"/a", "/c", "/d"} {
		if !present(k) {
			t.Errorf("%s evicted, want kept", k)
		}
	}
	// A 25-byte entry needs room for 25: evicts the two oldest (/a then /c
	// were touched in that order above, /d last).
	c.Add("/e", entryOf(25, Identity{}))
	if c.Len() != 1 || c.Bytes() != 25 {
		t.Fatalf("after big add: Len, Bytes = %d, %d; want 1, 25", c.Len(), c.Bytes())
	}
	if got := c.Stats().Evictions; got != 4 {
		t.Fatalf("Evictions = %d, want 4", got)
	}
}

func TestReplaceSameKey(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 20})
	c.Add("/a", entryOf(10, Identity{ModTime: 1}))
	c.Add("/b", entryOf(10, Identity{}))
	// Replacing /a with a larger version must account for the old bytes
	// first, so only /b goes.
	c.Add("/a", entryOf(15, Identity{ModTime: 2}))
	if c.Bytes() != 15 || c.Len() != 1 {
		t.Fatalf("Bytes, Len = %d, %d; want 15, 1", c.Bytes(), c.Len())
	}
	if _, ok := c.Get("/a", Identity{Size: 15, ModTime: 2}); !ok {
		t.Fatal("replacement missing")
	}
}

func TestMaxEntries(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 1000, MaxEntries: 2})
	c.Add("/a", entryOf(0, Identity{}))
	c.Add("/b", entryOf(1, Identity{}))
	c.Add("/c", entryOf(2, Identity{}))
	if c.Len() != 2 || c.Bytes() != 3 {
		t.Fatalf("Len, Bytes = %d, %d; want 2, 3", c.Len(), c.Bytes())
	}
	if _, ok := c.Get("/a", Identity{}); ok {
		t.Fatal("oldest entry kept beyond MaxEntries")
	}
}

func TestRemovePurge(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 100})
	c.Add("/a", entryOf(10, Identity{}))
	c.Add("/b", entryOf(20, Identity{}))
	c.Remove("/a")
	c.Remove("/missing")
	if c.Len() != 1 || c.Bytes() != 20 {
		t.Fatalf("after Remove: Len, Bytes = %d, %d; want 1, 20", c.Len(), c.Bytes())
	}
	c.Purge()
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("after Purge: Len, Bytes = %d, %d; want 0, 0", c.Len(), c.Bytes())
	}
}

func TestInvalidation(t *testing.T) {
	base := Identity{Size: 10, ModTime: 1_700_000_000_123456789, Ino: 42, Dev: 3}
	tests := []struct {
		name string
		id   Identity
	}{
		{"same size, later mtime (nanoseconds only)", Identity{Size: 10, ModTime: base.ModTime + 1, Ino: 42, Dev: 3}},
		{"different size", Identity{Size: 11, ModTime: base.ModTime, Ino: 42, Dev: 3}},
		{"replaced by rename: new inode", Identity{Size: 10, ModTime: base.ModTime, Ino: 43, Dev: 3}},
		{"other device", Identity{Size: 10, ModTime: base.ModTime, Ino: 42, Dev: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, Config{MaxBytes: 100})
			c.Add("/f", entryOf(10, base))
			if _, ok := c.Get("/f", tt.id); ok {
				t.Fatal("hit with a changed identity")
			}
			s := c.Stats()
			if s.Invalidations != 1 || s.Entries != 0 || s.Bytes != 0 || s.Misses != 1 {
				t.Fatalf("Stats = %+v, want 1 invalidation, 1 miss, empty", s)
			}
			if _, ok := c.Get("/f", base); ok {
				t.Fatal("stale entry not dropped")
			}
		})
	}
}

// TestBudgetProperty adds many random entries and checks after every
// operation that the byte budget holds and that Bytes matches the sum of
// the entries actually present.
func TestBudgetProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cfg := range []Config{
		{MaxBytes: 1000, MaxEntryBytes: 300},
		{MaxBytes: 64, MaxEntryBytes: 64},
		{MaxBytes: 5000, MaxEntryBytes: 100, MaxEntries: 7},
	} {
		c := mustNew(t, cfg)
		sizes := map[string]int64{}
		for i := range 5000 {
			key := fmt.Sprintf("/k%d", r.IntN(60))
			switch r.IntN(10) {
			case 0:
				c.Remove(key)
				delete(sizes, key)
			case 1, 2:
				if e, ok := c.Get(key, Identity{Size: sizes[key]}); ok && int64(len(e.Data)) != sizes[key] {
					t.Fatalf("Get(%s) returned %d bytes, want %d", key, len(e.Data), sizes[key])
				}
			default:
				n := r.IntN(int(cfg.MaxEntryBytes) + 20)
				if c.Add(key, entryOf(n, Identity{})) {
					sizes[key] = int64(n)
				}
			}
			var sum int64
			for k := range sizes {
				e, ok := c.lru.Peek(k)
				if !ok {
					delete(sizes, k)
					continue
				}
				sum += int64(len(e.Data))
			}
			if b := c.Bytes(); b > cfg.MaxBytes || b != sum {
				t.Fatalf("%+v step %d: Bytes = %d, sum of present = %d, budget %d", cfg, i, b, sum, cfg.MaxBytes)
			}
			if cfg.MaxEntries > 0 && c.Len() > cfg.MaxEntries {
				t.Fatalf("Len = %d > MaxEntries %d", c.Len(), cfg.MaxEntries)
			}
			if c.Len() != len(sizes) {
				t.Fatalf("Len = %d, tracked %d", c.Len(), len(sizes))
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 4096, MaxEntryBytes: 512})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 9))
			for range 2000 {
				key := fmt.Sprintf("/k%d", r.IntN(32))
				n := r.IntN(600)
				id := Identity{Size: int64(n), Ino: uint64(r.IntN(2))}
				if e, ok := c.Get(key, id); ok {
					if e.ID != id || len(e.Data) != n {
						t.Errorf("Get(%s, %+v) returned entry with %+v", key, id, e.ID)
						return
					}
					_ = e.Data[len(e.Data)/2:]
					continue
				}
				c.Add(key, entryOf(n, id))
				if b := c.Bytes(); b > 4096 {
					t.Errorf("Bytes = %d over budget", b)
					return
				}
			}
		})
	}
	wg.Wait()
	s := c.Stats()
	if s.Hits == 0 || s.Misses == 0 {
		t.Fatalf("implausible stats %+v", s)
	}
}

func TestGetHitAllocs(t *testing.T) {
	c := mustNew(t, Config{MaxBytes: 1 << 20})
	id := Identity{Size: 100, ModTime: 5, Ino: 9}
	c.Add("/index.html", entryOf(100, id))
	key := "/index.html"
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok := c.Get(key, id); !ok {
			panic("miss")
		}
	})
	if allocs != 0 {
		t.Fatalf("Get hit allocates %v times, want 0", allocs)
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := mustNew(b, Config{MaxBytes: 1 << 20})
	id := Identity{Size: 100, ModTime: 5, Ino: 9}
	c.Add("/index.html", entryOf(100, id))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get("/index.html", id)
		}
	})
}

func TestMaxEntryFromEnv(t *testing.T) {
	t.Setenv("URINGNET_CACHE_MAX_ENTRY", "1048576")
	c, err := New(Config{MaxBytes: 64 << 20, MaxEntryBytes: 64 << 10})
	if err != nil || c.MaxEntryBytes() != 1<<20 {
		t.Fatalf("MaxEntryBytes = %d, %v", c.MaxEntryBytes(), err)
	}
	t.Setenv("URINGNET_CACHE_MAX_ENTRY", "1048576000") // still capped by MaxBytes
	if c, _ = New(Config{MaxBytes: 64 << 20}); c.MaxEntryBytes() != 64<<20 {
		t.Fatalf("MaxEntryBytes = %d", c.MaxEntryBytes())
	}
	t.Setenv("URINGNET_CACHE_MAX_ENTRY", "x")
	if c, _ = New(Config{MaxBytes: 64 << 20, MaxEntryBytes: 1000}); c.MaxEntryBytes() != 1000 {
		t.Fatalf("MaxEntryBytes = %d", c.MaxEntryBytes())
	}
}
