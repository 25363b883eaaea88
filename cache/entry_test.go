package cache

import (
	"bytes"
	"math"
	"testing"
	"time"
)

func TestEntryRange(t *testing.T) {
	e := &Entry{Data: []byte("0123456789")}
	tests := []struct {
		off, n int64
		want   string
		ok     bool
	}{
		{0, 1, "0", true},           // first byte
		{9, 1, "9", true},           // last byte
		{0, 10, "0123456789", true}, // whole
		{3, 4, "3456", true},
		{0, 0, "", true},  // zero length at start
		{5, 0, "", true},  // zero length inside
		{10, 0, "", true}, // zero length at end
		{10, 1, "", false},
		{9, 2, "", false},
		{0, 11, "", false},
		{11, 0, "", false},
		{-1, 1, "", false},
		{0, -1, "", false},
		{1, math.MaxInt64, "", false}, // off+n overflows
		{math.MaxInt64, math.MaxInt64, "", false},
		{math.MinInt64, 5, "", false},
	}
	for _, tt := range tests {
		got, ok := e.Range(tt.off, tt.n)
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("Range(%d, %d) = %q, %v; want %q, %v", tt.off, tt.n, got, ok, tt.want, tt.ok)
		}
		if ok && int64(cap(got)) != tt.n {
			t.Errorf("Range(%d, %d) cap = %d, want %d (appends must not reach Data)", tt.off, tt.n, cap(got), tt.n)
		}
	}
	// Appending to a range never writes into the shared data.
	r, _ := e.Range(0, 3)
	_ = append(r, 'X')
	if !bytes.Equal(e.Data, []byte("0123456789")) {
		t.Fatalf("append to a range modified Data: %q", e.Data)
	}
	empty := &Entry{}
	if got, ok := empty.Range(0, 0); !ok || len(got) != 0 {
		t.Errorf("empty.Range(0,0) = %q, %v; want empty, true", got, ok)
	}
	if _, ok := empty.Range(0, 1); ok {
		t.Error("empty.Range(0,1) ok")
	}
}

func TestValidators(t *testing.T) {
	mt := time.Date(1994, 11, 6, 8, 49, 37, 123456789, time.UTC)
	id := Identity{Size: 0x1a2b, ModTime: mt.UnixNano(), Ino: 0xbeef, Dev: 1}
	e := NewEntry(make([]byte, 0x1a2b), id, "text/html; charset=utf-8")
	if want := `"1a2b-` + "ae1b981c3a4d715" + `-beef"`; e.ETag != want {
		t.Errorf("ETag = %s, want %s", e.ETag, want)
	}
	if want := "Sun, 06 Nov 1994 08:49:37 GMT"; e.LastModified != want {
		t.Errorf("LastModified = %q, want %q", e.LastModified, want)
	}
	if e.ContentType != "text/html; charset=utf-8" || e.ID != id {
		t.Errorf("entry fields not kept: %+v", e)
	}
	// Any part of the identity except the device changes the tag.
	for _, other := range []Identity{
		{Size: id.Size + 1, ModTime: id.ModTime, Ino: id.Ino},
		{Size: id.Size, ModTime: id.ModTime + 1, Ino: id.Ino},
		{Size: id.Size, ModTime: id.ModTime, Ino: id.Ino + 1},
	} {
		if ETag(other) == e.ETag {
			t.Errorf("ETag(%+v) equals ETag(%+v)", other, id)
		}
	}
	// A non-UTC local zone must not leak into the date.
	local := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 5*3600))
	if got, want := LastModified(Identity{ModTime: local.UnixNano()}), "Mon, 01 Jan 2024 22:04:05 GMT"; got != want {
		t.Errorf("LastModified = %q, want %q", got, want)
	}
}
