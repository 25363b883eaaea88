package websocket

import (
	"bytes"
	"math/rand"
	"strconv"
	"testing"
)

// maskBytes is the obvious byte loop Mask must agree with.
func maskBytes(key [4]byte, b []byte, pos int) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

func TestMask(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := 0; n < 200; n++ {
		for pos := 0; pos < 4; pos++ {
			b := make([]byte, n)
			r.Read(b)
			want := bytes.Clone(b)
			wantPos := maskBytes(key, want, pos)
			gotPos := Mask(key, b, pos)
			if !bytes.Equal(b, want) || gotPos != wantPos {
				t.Fatalf("n=%d pos=%d: Mask differs from the byte loop (pos %d, want %d)", n, pos, gotPos, wantPos)
			}
		}
	}
}

func TestMaskSplit(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	orig := make([]byte, 1000)
	r.Read(orig)
	want := bytes.Clone(orig)
	Mask(key, want, 0)
	for range 50 {
		b := bytes.Clone(orig)
		pos := 0
		for _, part := range splitRandom(b, r) {
			pos = Mask(key, part, pos)
		}
		if !bytes.Equal(b, want) {
			t.Fatal("masking in pieces differs from masking at once")
		}
	}
	// Masking twice restores the input.
	Mask(key, want, 0)
	if !bytes.Equal(want, orig) {
		t.Fatal("masking twice did not restore the input")
	}
}

func TestMaskAllocs(t *testing.T) {
	b := make([]byte, 4096)
	if n := testing.AllocsPerRun(100, func() { Mask(testKey, b, 1) }); n != 0 {
		t.Errorf("Mask allocates %v times", n)
	}
}

func benchmarkMask(b *testing.B, size int, f func([4]byte, []byte, int) int) {
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	for b.Loop() {
		f(testKey, buf, 1)
	}
}

func BenchmarkMask(b *testing.B) {
	for _, size := range []int{16, 125, 1024, 65536} {
		b.Run("word/"+strconv.Itoa(size), func(b *testing.B) { benchmarkMask(b, size, Mask) })
		b.Run("byte/"+strconv.Itoa(size), func(b *testing.B) { benchmarkMask(b, size, maskBytes) })
	}
}
