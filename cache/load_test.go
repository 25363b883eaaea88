package cache

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(name, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestIdentityOf(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	mt := time.Date(2020, 2, 3, 4, 5, 6, 789, time.UTC)
	writeFile(t, name, "hello", mt)
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	id := IdentityOf(fi)
	st := fi.Sys().(*syscall.Stat_t)
	want := Identity{Size: 5, ModTime: mt.UnixNano(), Ino: st.Ino, Dev: st.Dev}
	if id != want || id.Ino == 0 {
		t.Fatalf("IdentityOf = %+v, want %+v", id, want)
	}
	// A FileInfo without Stat_t still gives size and mtime.
	if got := IdentityOf(fakeInfo{fi}); got != (Identity{Size: 5, ModTime: mt.UnixNano()}) {
		t.Fatalf("IdentityOf(no Sys) = %+v", got)
	}
}

type fakeInfo struct{ os.FileInfo }

func (fakeInfo) Sys() any { return nil }

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "index.html")
	mt := time.Date(2021, 5, 6, 7, 8, 9, 100, time.UTC)
	writeFile(t, name, "<h1>one</h1>", mt)
	c := mustNew(t, Config{MaxBytes: 1 << 10, MaxEntryBytes: 100})

	e1, err := c.Load(open(t, name), "/index.html", "text/html")
	if err != nil {
		t.Fatal(err)
	}
	if string(e1.Data) != "<h1>one</h1>" || e1.ContentType != "text/html" || e1.LastModified != "Thu, 06 May 2021 07:08:09 GMT" {
		t.Fatalf("first load: %+v", e1)
	}
	// Second open of the unchanged file: the same entry, no read.
	f2 := open(t, name)
	if _, err := f2.Seek(3, 0); err != nil {
		t.Fatal(err)
	}
	e2, err := c.Load(f2, "/index.html", "text/html")
	if err != nil || e2 != e1 {
		t.Fatalf("second load = %p, %v; want cached %p", e2, err, e1)
	}
	if off, _ := f2.Seek(0, 1); off != 3 {
		t.Fatalf("Load moved the file offset to %d", off)
	}

	// Same size, new content, mtime differing only in nanoseconds.
	writeFile(t, name, "<h1>two</h1>", mt.Add(1))
	e3, err := c.Load(open(t, name), "/index.html", "text/html")
	if err != nil || string(e3.Data) != "<h1>two</h1>" || e3.ETag == e1.ETag {
		t.Fatalf("after same-size rewrite: %q %v (etag %s vs %s)", e3.Data, err, e3.ETag, e1.ETag)
	}
	// Different size, same mtime.
	writeFile(t, name, "<h1>three</h1>", mt.Add(1))
	e4, err := c.Load(open(t, name), "/index.html", "text/html")
	if err != nil || string(e4.Data) != "<h1>three</h1>" {
		t.Fatalf("after resize: %q %v", e4.Data, err)
	}
	// Replaced by rename: same size and mtime, different inode.
	tmp := filepath.Join(dir, "tmp")
	writeFile(t, tmp, "<h1>THREE</h1>", mt.Add(1))
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
	e5, err := c.Load(open(t, name), "/index.html", "text/html")
	if err != nil || string(e5.Data) != "<h1>THREE</h1>" || e5.ETag == e4.ETag {
		t.Fatalf("after rename: %q %v", e5.Data, err)
	}
	if s := c.Stats(); s.Invalidations != 3 || s.Entries != 1 || s.Hits != 1 {
		t.Fatalf("Stats = %+v, want 3 invalidations, 1 entry, 1 hit", s)
	}
	// An old entry still held by a writer stays intact.
	if string(e1.Data) != "<h1>one</h1>" {
		t.Fatalf("evicted entry changed: %q", e1.Data)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	c := mustNew(t, Config{MaxBytes: 100, MaxEntryBytes: 4})

	big := filepath.Join(dir, "big")
	writeFile(t, big, "12345", time.Now())
	if _, err := c.Load(open(t, big), "/big", ""); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Load(big) error = %v, want ErrTooLarge", err)
	}
	if _, err := c.Load(open(t, dir), "/", ""); err == nil {
		t.Fatal("Load(directory) succeeded")
	}
	closed, err := os.Open(big)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := c.Load(closed, "/big", ""); err == nil {
		t.Fatal("Load(closed file) succeeded")
	}
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "", time.Now())
	e, err := c.Load(open(t, empty), "/empty", "")
	if err != nil || len(e.Data) != 0 {
		t.Fatalf("Load(empty) = %v, %v", e, err)
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d, want 1 (only the empty file)", c.Len())
	}
}

// TestLoadChanging grows a file while Load reads it: Load must either
// return a consistent copy or ErrChanged, never a torn one.
func TestLoadChanging(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	writeFile(t, name, "aaaa", time.Now())
	c := mustNew(t, Config{MaxBytes: 1 << 20})
	f := open(t, name)
	w, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if _, err := w.Write([]byte("b")); err != nil {
				return
			}
		}
	}()
	for range 50 {
		e, err := c.Load(f, "/f", "")
		if err != nil {
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("Load error = %v", err)
			}
			continue
		}
		if int64(len(e.Data)) != e.ID.Size {
			t.Fatalf("torn entry: %d bytes for size %d", len(e.Data), e.ID.Size)
		}
	}
	<-done
}
