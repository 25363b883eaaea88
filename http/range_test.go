package http

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	type br = byteRange
	tests := []struct {
		h    string
		size int64
		want []byteRange
		err  error
	}{
		// Single ranges.
		{"bytes=0-0", 10, []br{{0, 1}}, nil},                        // first byte
		{"bytes=9-9", 10, []br{{9, 1}}, nil},                        // last byte
		{"bytes=-1", 10, []br{{9, 1}}, nil},                         // last byte as suffix
		{"bytes=0-9", 10, []br{{0, 10}}, nil},                       // whole
		{"bytes=0-", 10, []br{{0, 10}}, nil},                        // whole, open
		{"bytes=-10", 10, []br{{0, 10}}, nil},                       // whole, suffix
		{"bytes=-100", 10, []br{{0, 10}}, nil},                      // suffix longer than size
		{"bytes=2-5", 10, []br{{2, 4}}, nil},                        // middle
		{"bytes=5-100", 10, []br{{5, 5}}, nil},                      // end clamped
		{"bytes=5-", 10, []br{{5, 5}}, nil},                         // open
		{"bytes=0-99999999999999999999999", 10, []br{{0, 10}}, nil}, // saturated last-pos
		{"bytes=-99999999999999999999999", 10, []br{{0, 10}}, nil},  // saturated suffix
		{"BYTES=1-2", 10, []br{{1, 2}}, nil},                        // unit is case-insensitive
		{"  bytes=1-2  ", 10, []br{{1, 2}}, nil},

		// Unsatisfiable.
		{"bytes=10-", 10, nil, ErrUnsatisfiable},
		{"bytes=10-20", 10, nil, ErrUnsatisfiable},
		{"bytes=-0", 10, nil, ErrUnsatisfiable},
		{"bytes=99999999999999999999999-", 10, nil, ErrUnsatisfiable},
		{"bytes=10-11, 20-", 10, nil, ErrUnsatisfiable},
		{"bytes=-0, 12-13", 10, nil, ErrUnsatisfiable},

		// Lists: order kept when disjoint, unsatisfiable members dropped.
		{"bytes=0-1,5-6", 10, []br{{0, 2}, {5, 2}}, nil},
		{"bytes=500-600, 0-0 , -100", 1000, []br{{500, 101}, {0, 1}, {900, 100}}, nil},
		{"bytes=0-0, 20-30", 10, []br{{0, 1}}, nil},
		{"bytes=,0-1,, 8-9,", 10, []br{{0, 2}, {8, 2}}, nil},
		{"bytes=0-0,\t-1", 10, []br{{0, 1}, {9, 1}}, nil},

		// Overlap: sorted and coalesced.
		{"bytes=0-5,3-8", 10, []br{{0, 9}}, nil},
		{"bytes=5-9,0-5", 10, []br{{0, 10}}, nil},
		{"bytes=0-,0-,0-", 10, []br{{0, 10}}, nil},
		{"bytes=0-0,0-0", 1000, []br{{0, 1}}, nil},
		{"bytes=500-599,0-99,50-149", 1000, []br{{0, 150}, {500, 100}}, nil},
		{"bytes=0-9,100-109,5-6", 1000, []br{{0, 10}, {100, 10}}, nil},
		{"bytes=0-9,60-69,5-6", 1000, []br{{0, 70}}, nil}, // gap < 80 filled
		{"bytes=-5,0-", 10, []br{{0, 10}}, nil},

		// Ignored: syntax, unit, invalid ranges, too many, empty file.
		{"", 10, nil, nil},
		{"bytes=", 10, nil, nil},
		{"bytes=,", 10, nil, nil},
		{"bytes=-", 10, nil, nil},
		{"bytes=5", 10, nil, nil},
		{"bytes=a-b", 10, nil, nil},
		{"bytes=1-2-3", 10, nil, nil},
		{"bytes=+1-2", 10, nil, nil},
		{"bytes=1 -2", 10, nil, nil},
		{"bytes= 1-2", 10, []br{{1, 2}}, nil}, // OWS around list members is fine
		{"bytes=5-4", 10, nil, nil},           // last < first
		{"bytes=0-1,5-4", 10, nil, nil},
		{"bytes=-1-2", 10, nil, nil},
		{"bytes 0-1", 10, nil, nil},
		{"items=0-1", 10, nil, nil},
		{"byte=0-1", 10, nil, nil},
		{"bytes=0-1;x", 10, nil, nil},
		{"bytes=0-0", 0, nil, nil},
		{"bytes=-5", 0, nil, nil},
		{"bytes=0-0", -1, nil, nil},
		{"bytes=" + strings.Repeat("0-0,", 16) + "0-0", 10, nil, nil},
	}
	for _, tt := range tests {
		got, err := parseRange([]byte(tt.h), tt.size)
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseRange(%q, %d) = %v, %v; want %v, %v", tt.h, tt.size, got, err, tt.want, tt.err)
		}
	}
}

func TestParseRangeMaxRanges(t *testing.T) {
	var specs []string
	for i := range MaxRanges {
		specs = append(specs, fmt.Sprintf("%d-%d", i*100, i*100+9))
	}
	h := "bytes=" + strings.Join(specs, ", ")
	got, err := parseRange([]byte(h), 1<<20)
	if err != nil || len(got) != MaxRanges {
		t.Fatalf("%d ranges: got %d, %v", MaxRanges, len(got), err)
	}
	got, err = parseRange([]byte(h+", 5000-5001"), 1<<20)
	if err != nil || got != nil {
		t.Fatalf("%d ranges: got %v, %v; want ignored", MaxRanges+1, got, err)
	}
	// Empty elements do not count.
	got, err = parseRange([]byte(h+",,,,"), 1<<20)
	if err != nil || len(got) != MaxRanges {
		t.Fatalf("with empty elements: got %d, %v", len(got), err)
	}
}

func TestContentRange(t *testing.T) {
	tests := []struct {
		r    byteRange
		size int64
		want string
	}{
		{byteRange{0, 1}, 10, "Content-Range: bytes 0-0/10\r\n"},
		{byteRange{9, 1}, 10, "Content-Range: bytes 9-9/10\r\n"},
		{byteRange{0, 10}, 10, "Content-Range: bytes 0-9/10\r\n"},
		{byteRange{500, 500}, 1000, "Content-Range: bytes 500-999/1000\r\n"},
		{byteRange{0, math.MaxInt64}, math.MaxInt64, "Content-Range: bytes 0-9223372036854775806/9223372036854775807\r\n"},
	}
	for _, tt := range tests {
		if got := string(appendContentRange([]byte("X"), tt.r, tt.size)); got != "X"+tt.want {
			t.Errorf("appendContentRange(%v, %d) = %q, want %q", tt.r, tt.size, got, "X"+tt.want)
		}
	}
	if got := string(appendUnsatisfiedRange(nil, 1234)); got != "Content-Range: bytes */1234\r\n" {
		t.Errorf("appendUnsatisfiedRange = %q", got)
	}
	if e := (byteRange{Start: 3, Length: 4}).End(); e != 6 {
		t.Errorf("End = %d, want 6", e)
	}
}

func TestMultipartByteranges(t *testing.T) {
	content := []byte("abcdefghijklmnopqrstuvwxyz")
	size := int64(len(content))
	ranges := []byteRange{{0, 3}, {20, 6}}
	for _, ct := range []string{"text/plain; charset=utf-8", ""} {
		parts, closing, total := multipartByteranges(ranges, size, ct, "BOUND")
		var body bytes.Buffer
		for i, r := range ranges {
			body.Write(parts[i])
			body.Write(content[r.Start : r.Start+r.Length])
		}
		body.Write(closing)
		if int64(body.Len()) != total {
			t.Errorf("ct %q: total = %d, body is %d bytes", ct, total, body.Len())
		}
		ctLine := ""
		if ct != "" {
			ctLine = "Content-Type: " + ct + "\r\n"
		}
		want := "\r\n--BOUND\r\n" + ctLine + "Content-Range: bytes 0-2/26\r\n\r\nabc" +
			"\r\n--BOUND\r\n" + ctLine + "Content-Range: bytes 20-25/26\r\n\r\nuvwxyz" +
			"\r\n--BOUND--\r\n"
		if body.String() != want {
			t.Errorf("ct %q: body =\n%q\nwant\n%q", ct, body.String(), want)
		}
		// Parts must not alias each other on append.
		p0 := append(parts[0], "ZZZ"...)
		_ = p0
		if !bytes.HasPrefix(parts[1], []byte("\r\n--BOUND")) {
			t.Errorf("append to parts[0] overwrote parts[1]: %q", parts[1])
		}
	}
	parts, closing, total := multipartByteranges(nil, 10, "x", "b")
	if len(parts) != 0 || string(closing) != "\r\n--b--\r\n" || total != int64(len(closing)) {
		t.Errorf("no ranges: %q %q %d", parts, closing, total)
	}
}

func TestNewMultipartBoundary(t *testing.T) {
	a, b := newMultipartBoundary(), newMultipartBoundary()
	if len(a) != 32 || a == b {
		t.Fatalf("boundaries %q, %q: want 32 hex digits, distinct", a, b)
	}
	if _, err := strconv.ParseUint(a[:16], 16, 64); err != nil {
		t.Fatalf("boundary %q not hex: %v", a, err)
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"bytes=0-0", "bytes=-1", "bytes=5-", "bytes=0-5,3-8", "bytes=1-2, 4-5 ,-3",
		"bytes=99999999999999999999-", "bytes=,,", "BYTES=0-", "bytes=5-4", "bytes=-0",
		"bytes=" + strings.Repeat("1-1,", 17),
	} {
		f.Add([]byte(s), int64(10))
	}
	f.Add([]byte("bytes=0-0"), int64(0))
	f.Add([]byte("bytes=-5"), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, h []byte, size int64) {
		rs, err := parseRange(h, size)
		if err != nil {
			if !errors.Is(err, ErrUnsatisfiable) || rs != nil {
				t.Fatalf("parseRange(%q, %d) = %v, %v", h, size, rs, err)
			}
			return
		}
		if len(rs) > MaxRanges {
			t.Fatalf("%d ranges", len(rs))
		}
		var sum int64
		for _, r := range rs {
			if r.Start < 0 || r.Length < 1 || r.Start >= size || r.Length > size-r.Start {
				t.Fatalf("parseRange(%q, %d): range %+v outside [0,%d)", h, size, r, size)
			}
			sum += r.Length
		}
		if rangesOverlap(rs) || (len(rs) > 0 && sum > size) {
			t.Fatalf("parseRange(%q, %d) = %v: overlapping parts", h, size, rs)
		}
		buf := appendContentRange(nil, byteRange{}, size)
		_ = buf
		parts, closing, total := multipartByteranges(rs, size, "t/t", "b")
		n := int64(len(closing))
		for i, p := range parts {
			n += int64(len(p)) + rs[i].Length
		}
		if n != total {
			t.Fatalf("multipart total %d, counted %d", total, n)
		}
	})
}
