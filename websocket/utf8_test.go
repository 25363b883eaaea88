package websocket

import (
	"bytes"
	"math/rand"
	"sync"
	"testing"
	"unicode/utf8"
)

func TestUTF8Validator(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// failAt is the index of the first byte that must be rejected, -1
		// when the text is a valid prefix.
		failAt   int
		complete bool
	}{
		{"empty", "", -1, true},
		{"ascii", "Hello-µ@ßöäüàá-UTF-8!!", -1, true},
		{"kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", -1, true},
		{"long ascii", string(bytes.Repeat([]byte("abcdefgh"), 10)) + "é", -1, true},
		{"max 1 byte", "\x7f", -1, true},
		{"min 2 bytes", "\xc2\x80", -1, true},
		{"max 3 bytes", "\xef\xbf\xbf", -1, true},
		{"min 4 bytes", "\xf0\x90\x80\x80", -1, true},
		{"U+10FFFF", "\xf4\x8f\xbf\xbf", -1, true},
		{"U+D7FF", "\xed\x9f\xbf", -1, true},
		{"U+E000", "\xee\x80\x80", -1, true},
		{"U+FFFE noncharacter", "\xef\xbf\xbe", -1, true},
		{"truncated 2", "a\xc2", -1, false},
		{"truncated 3", "\xe1\x80", -1, false},
		{"truncated 4", "\xf0\x90\x80", -1, false},
		{"lonely continuation", "a\x80", 1, false},
		{"C0 overlong lead", "\xc0\xaf", 0, false},
		{"C1 overlong lead", "\xc1\xbf", 0, false},
		{"F5", "\xf5\x80\x80\x80", 0, false},
		{"FF", "ab\xff", 2, false},
		{"E0 overlong", "\xe0\x80\xaf", 1, false},
		{"F0 overlong", "\xf0\x80\x80\xaf", 1, false},
		{"surrogate D800", "\xed\xa0\x80", 1, false},
		{"surrogate DFFF", "\xed\xbf\xbf", 1, false},
		{"above 10FFFF", "\xf4\x90\x80\x80", 1, false},
		{"lead then ascii", "\xe1a", 1, false},
		// Autobahn 6.4.1: fails at the byte after the valid prefix.
		{"autobahn 6.4.1", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", 12, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Byte by byte, to find where it fails.
			var v UTF8Validator
			failAt := -1
			for i := 0; i < len(tt.in); i++ {
				if !v.Write([]byte{tt.in[i]}) {
					failAt = i
					break
				}
			}
			if failAt != tt.failAt {
				t.Errorf("rejected at byte %d, want %d", failAt, tt.failAt)
			}
			if tt.failAt < 0 && v.Complete() != tt.complete {
				t.Errorf("Complete() = %v, want %v", v.Complete(), tt.complete)
			}
			if v.Valid() != (tt.failAt < 0) {
				t.Errorf("Valid() = %v", v.Valid())
			}
			// At once, against the standard library.
			if got, want := validUTF8([]byte(tt.in)), utf8.ValidString(tt.in); got != want {
				t.Errorf("validUTF8 = %v, utf8.Valid = %v", got, want)
			}
			v.Reset()
			if !v.Complete() {
				t.Error("Reset did not restore the start state")
			}
		})
	}
}

func TestUTF8Sticky(t *testing.T) {
	var v UTF8Validator
	if v.Write([]byte{0xff}) {
		t.Fatal("0xff accepted")
	}
	if v.Write([]byte("abc")) || v.Valid() || v.Complete() {
		t.Fatal("validator recovered after rejecting")
	}
}

// TestUTF8AllCodePoints checks every code point, whole and split at each
// byte.
func TestUTF8AllCodePoints(t *testing.T) {
	buf := make([]byte, 0, 4)
	for r := rune(0); r <= utf8.MaxRune+1; r++ {
		buf = encodeRune(buf[:0], r)
		want := utf8.ValidRune(r)
		for cut := 0; cut <= len(buf); cut++ {
			var v UTF8Validator
			ok := v.Write(buf[:cut]) && v.Write(buf[cut:]) && v.Complete()
			if ok != want {
				t.Fatalf("U+%04X % x cut at %d: got %v, want %v", r, buf, cut, ok, want)
			}
		}
	}
}

// encodeRune encodes r the way UTF-8 would even when r is a surrogate or
// too large, which utf8.AppendRune refuses to do.
func encodeRune(b []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(b, byte(r))
	case r < 0x800:
		return append(b, 0xc0|byte(r>>6), 0x80|byte(r)&0x3f)
	case r < 0x10000:
		return append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
	}
	return append(b, 0xf0|byte(r>>18), 0x80|byte(r>>12)&0x3f, 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
}

func TestUTF8Random(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	alphabet := []byte{'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff}
	for range 20000 {
		b := make([]byte, r.Intn(12))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		checkUTF8(t, b, r)
	}
}

// checkUTF8 checks that the validator agrees with utf8.Valid on b, at once
// and in random pieces, and that it fails exactly at the first byte after
// the longest valid prefix.
func checkUTF8(t *testing.T, b []byte, r *rand.Rand) {
	t.Helper()
	want := utf8.Valid(b)
	if got := validUTF8(b); got != want {
		t.Fatalf("% x: validUTF8 = %v, utf8.Valid = %v", b, got, want)
	}
	var v UTF8Validator
	ok := true
	for _, part := range splitRandom(b, r) {
		ok = v.Write(part)
	}
	if got := ok && v.Complete(); got != want {
		t.Fatalf("% x in pieces: got %v, want %v", b, got, want)
	}
	// Fail fast: a prefix is accepted iff some valid text starts with it.
	var w UTF8Validator
	for i := range b {
		accepted := w.Write(b[i : i+1])
		if accepted != isValidPrefix(b[:i+1]) {
			t.Fatalf("% x: byte %d accepted=%v, want %v", b, i, accepted, !accepted)
		}
		if !accepted {
			break
		}
	}
}

// openPrefixes holds every proper prefix of the encoding of a valid code
// point, built once on first use.
var openPrefixes = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool)
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if utf8.ValidRune(r) {
			enc := string(utf8.AppendRune(nil, r))
			for n := 1; n < len(enc); n++ {
				m[enc[:n]] = true
			}
		}
	}
	return m
})

// isValidPrefix reports whether p can be completed into valid UTF-8.
func isValidPrefix(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for k := 1; k <= 3 && k <= len(p); k++ {
		if utf8.Valid(p[:len(p)-k]) && openPrefixes()[string(p[len(p)-k:])] {
			return true
		}
	}
	return false
}

func FuzzUTF8(f *testing.F) {
	for _, s := range []string{"", "hello", "\xce\xba\xe1\xbd\xb9", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80", "a\xf0\x9f\x98\x80b"} {
		f.Add([]byte(s), int64(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, seed int64) {
		r := rand.New(rand.NewSource(seed))
		want := utf8.Valid(b)
		if got := validUTF8(b); got != want {
			t.Fatalf("% x: validUTF8 = %v, utf8.Valid = %v", b, got, want)
		}
		var v UTF8Validator
		ok := true
		for _, part := range splitRandom(b, r) {
			ok = v.Write(part)
		}
		if got := ok && v.Complete(); got != want {
			t.Fatalf("% x in pieces: got %v, want %v", b, got, want)
		}
		var w UTF8Validator
		for i := range b {
			if !w.Write(b[i : i+1]) {
				break
			}
		}
		if got := w.Complete(); got != want {
			t.Fatalf("% x byte by byte: got %v, want %v", b, got, want)
		}
	})
}

func BenchmarkUTF8(b *testing.B) {
	ascii := bytes.Repeat([]byte("abcdefghijklmnop"), 256)
	mixed := bytes.Repeat([]byte("κόσμε-ascii-€-😀"), 200)
	for _, c := range []struct {
		name string
		in   []byte
	}{{"ascii", ascii}, {"mixed", mixed}} {
		b.Run(c.name+"/validator", func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				validUTF8(c.in)
			}
		})
		b.Run(c.name+"/incremental", func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				var v UTF8Validator
				v.Write(c.in)
			}
		})
		b.Run(c.name+"/stdlib", func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				utf8.Valid(c.in)
			}
		})
	}
}
