package http

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// decodeChunked decodes src feeding at most step bytes per call (all of it
// when step <= 0, growing the window only when the decoder needs more). It
// returns the body, the bytes consumed, whether the body ended, and the error.
func decodeChunked(src []byte, limit int64, step func() int) (body []byte, used int, done bool, err error) {
	var d ChunkedDecoder
	d.Reset(limit)
	avail := 0
	for {
		if n := step(); n <= 0 {
			avail = len(src)
		} else {
			avail = min(len(src), avail+n)
		}
		for {
			data, c, fin, err := d.Next(src[used:avail])
			body = append(body, data...)
			used += c
			if err != nil || fin {
				return body, used, fin, err
			}
			if c == 0 {
				break
			}
		}
		if avail == len(src) {
			return body, used, false, nil
		}
	}
}

func whole() int   { return 0 }
func oneByte() int { return 1 }

func TestChunked(t *testing.T) {
	tests := []struct {
		name string
		in   string
		body string
		used int // bytes consumed; -1 means len(in)
		want int // 0 = done, needMore, or error status
	}{
		{"simple", "5\r\nhello\r\n0\r\n\r\n", "hello", -1, 0},
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", -1, 0},
		{"hex sizes", "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", -1, 0},
		{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", -1, 0},
		{"16 digits", "0000000000000005\r\nhello\r\n0\r\n\r\n", "hello", -1, 0},
		{"17 digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", "", 16, 400},
		{"empty body", "0\r\n\r\n", "", -1, 0},
		{"pipelined after", "0\r\n\r\nGET / HTTP/1.1\r\n", "", 5, 0},
		{"extension", "5;a=b\r\nhello\r\n0;last\r\n\r\n", "hello", -1, 0},
		{"extensions with BWS", "5 ; a = b ;c;d=\"x;\\\"y\"\r\nhello\r\n0\r\n\r\n", "hello", -1, 0},
		{"extension quoted obs-text", "5;a=\"\xe9\"\r\nhello\r\n0\r\n\r\n", "hello", -1, 0},
		{"trailers", "5\r\nhello\r\n0\r\nX-A: 1\r\nX-B:\r\n\r\n", "hello", -1, 0},
		{"incomplete size", "5", "", -1, needMore},
		{"incomplete data", "5\r\nhel", "hel", -1, needMore},
		{"incomplete trailer", "0\r\nX-A: 1\r\n", "", -1, needMore},
		{"plus sign", "+5\r\nhello\r\n0\r\n\r\n", "", 0, 400},
		{"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "", 1, 400},
		{"leading space", " 5\r\nhello\r\n0\r\n\r\n", "", 0, 400},
		{"trailing space no ext", "5 \r\nhello\r\n0\r\n\r\n", "", 2, 400},
		{"negative", "-5\r\nhello\r\n0\r\n\r\n", "", 0, 400},
		{"empty size", "\r\nhello\r\n0\r\n\r\n", "", 0, 400},
		{"bare LF after size", "5\nhello\r\n0\r\n\r\n", "", 1, 400},
		{"CR without LF", "5\rhello\r\n0\r\n\r\n", "", 2, 400},
		{"missing CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n", "hello", 8, 400},
		{"bare LF after data", "5\r\nhello\n0\r\n\r\n", "hello", 8, 400},
		{"data too long", "3\r\nhello\r\n0\r\n\r\n", "hel", 6, 400},
		{"ext garbage", "5;a b\r\nhello\r\n0\r\n\r\n", "", 4, 400},
		{"ext empty name", "5;=b\r\nhello\r\n0\r\n\r\n", "", 2, 400},
		{"ext empty value", "5;a=\r\nhello\r\n0\r\n\r\n", "", 4, 400},
		{"ext control char", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", "", 5, 400},
		{"ext bare LF", "5;a\nhello\r\n0\r\n\r\n", "", 3, 400},
		{"ext unterminated quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", "", 6, 400},
		{"ext after value garbage", "5;a=b c\r\nhello\r\n0\r\n\r\n", "", 6, 400},
		{"ext too long", "5;a=" + strings.Repeat("x", maxChunkExtBytes) + "\r\nhello\r\n0\r\n\r\n", "", maxChunkExtBytes + 2, 400},
		{"trailer obs-fold", "0\r\nX-A: 1\r\n b\r\n\r\n", "", 11, 400},
		{"trailer space before colon", "0\r\nX-A : 1\r\n\r\n", "", 6, 400},
		{"trailer NUL", "0\r\nX-A: \x00\r\n\r\n", "", 8, 400},
		{"trailer bare LF", "0\r\nX-A: 1\n\r\n", "", 9, 400},
		{"trailer bare CR", "0\r\nX-A: 1\rX\r\n", "", 10, 400},
		{"final bare CR", "0\r\n\rX", "", 4, 400},
		{"trailer too large", "0\r\nX: " + strings.Repeat("v", maxTrailerBytes) + "\r\n\r\n", "", maxTrailerBytes + 3, 431},
		{"over limit", "15\r\nhello world, hello you\r\n0\r\n\r\n", "", 1, 413},
		{"over limit second chunk", "5\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n", "hello", 11, 413},
		{"at limit", "5\r\nhello\r\nf\r\n0123456789abcde\r\n0\r\n\r\n", "hello0123456789abcde", -1, 0},
		{"huge size", "ffffffffffffffff\r\n", "", 1, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			used := tt.used
			if used < 0 {
				used = len(tt.in)
			}
			for _, step := range []func() int{whole, oneByte} {
				body, n, done, err := decodeChunked([]byte(tt.in), 20, step)
				var got int
				switch {
				case err != nil:
					got = statusOf(0, err)
				case done:
					got = 0
				default:
					got = needMore
				}
				if got != tt.want || string(body) != tt.body || n != used {
					t.Fatalf("decode = %q, used %d, done %v, err %v; want %q, used %d, status %d",
						body, n, done, err, tt.body, used, tt.want)
				}
			}
		})
	}
}

func TestChunkedDefaultsAndSticky(t *testing.T) {
	var d ChunkedDecoder // zero value: default limit
	src := []byte("a\r\n0123456789\r\n0\r\n\r\n")
	data, n, done, err := d.Next(src)
	if string(data) != "0123456789" || n != 13 || done || err != nil {
		t.Fatalf("first Next = %q, %d, %v, %v", data, n, done, err)
	}
	var body []byte
	body = append(body, data...)
	for off := n; !done; off += n {
		if data, n, done, err = d.Next(src[off:]); err != nil {
			t.Fatal(err)
		}
		body = append(body, data...)
	}
	if string(body) != "0123456789" || d.Total() != 10 {
		t.Fatalf("body %q, total %d", body, d.Total())
	}
	if _, n, done, err := d.Next([]byte("more")); n != 0 || !done || err != nil {
		t.Errorf("Next after done = %d, %v, %v", n, done, err)
	}
	d.Reset(0)
	if _, _, _, err := d.Next([]byte("x")); err == nil {
		t.Fatal("want error")
	}
	if _, n, _, err2 := d.Next([]byte("5\r\n")); err2 == nil || n != 0 {
		t.Errorf("error is not sticky: %d, %v", n, err2)
	}
	d.Reset(DefaultMaxBodyBytes)
	if _, _, _, err := d.Next([]byte("800001\r\n")); statusOf(0, err) != 413 {
		t.Errorf("default limit: %v", err)
	}
}

func TestChunkedRandomSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var src []byte
	var want []byte
	for i := 0; i < 50; i++ {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, rng.IntN(40)+1)
		want = append(want, chunk...)
		src = AppendChunk(src, chunk)
	}
	src = AppendLastChunk(src)
	for i := 0; i < 20; i++ {
		body, n, done, err := decodeChunked(src, 0, func() int { return rng.IntN(9) + 1 })
		if !bytes.Equal(body, want) || n != len(src) || !done || err != nil {
			t.Fatalf("decode = %d bytes, used %d, done %v, err %v", len(body), n, done, err)
		}
	}
}

func BenchmarkChunked(b *testing.B) {
	var src []byte
	for i := 0; i < 16; i++ {
		src = AppendChunk(src, bytes.Repeat([]byte("x"), 1024))
	}
	src = AppendLastChunk(src)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	var d ChunkedDecoder
	for b.Loop() {
		d.Reset(0)
		for off := 0; ; {
			_, n, done, err := d.Next(src[off:])
			if err != nil {
				b.Fatal(err)
			}
			off += n
			if done {
				break
			}
		}
	}
}
