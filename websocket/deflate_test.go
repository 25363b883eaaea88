package websocket

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestNegotiateDeflate(t *testing.T) {
	accepted := &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	withSMWB := &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15}
	tests := []struct {
		ext  string
		want *DeflateParams
	}{
		{"", nil},
		{"x-webkit-deflate-frame", nil},
		{"permessage-deflate", accepted},
		{"PerMessage-Deflate", accepted},
		{"permessage-deflate; client_max_window_bits", accepted},
		{"permessage-deflate; client_max_window_bits=10", accepted},
		{`permessage-deflate; client_max_window_bits="8"`, accepted},
		{"permessage-deflate;server_no_context_takeover;client_no_context_takeover", accepted},
		{"permessage-deflate; server_max_window_bits=15", withSMWB},
		{"permessage-deflate; server_max_window_bits=10", nil},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", accepted},
		{"foo, permessage-deflate; client_max_window_bits", accepted},
		{"permessage-deflate; server_max_window_bits", nil},
		{"permessage-deflate; client_max_window_bits=7", nil},
		{"permessage-deflate; client_max_window_bits=16", nil},
		{"permessage-deflate; client_max_window_bits=010", nil},
		{"permessage-deflate; client_max_window_bits=1x", nil},
		{"permessage-deflate; client_max_window_bits=", nil},
		{"permessage-deflate; server_no_context_takeover=1", nil},
		{"permessage-deflate; client_no_context_takeover=1", nil},
		{"permessage-deflate; unknown", nil},
		{"permessage-deflate; client_max_window_bits; client_max_window_bits", nil},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", nil},
		{"permessage-deflate;;", nil},
		{"permessage-deflate; unknown, permessage-deflate; client_no_context_takeover", accepted},
	}
	for _, tt := range tests {
		got := NegotiateDeflate(tt.ext)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NegotiateDeflate(%q) = %+v, want %+v", tt.ext, got, tt.want)
		}
	}
}

func TestDeflateResponse(t *testing.T) {
	tests := []struct {
		p    DeflateParams
		want string
	}{
		{DeflateParams{}, "permessage-deflate"},
		{DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 9}, "permessage-deflate; server_max_window_bits=15; client_max_window_bits=9"},
	}
	for _, tt := range tests {
		if got := string(tt.p.AppendResponse(nil)); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	c := newTestCompressor()
	d := NewDecompressor()
	r := rand.New(rand.NewSource(7))
	random := make([]byte, 100000)
	r.Read(random)
	for _, m := range [][]byte{
		nil,
		[]byte("Hello"),
		bytes.Repeat([]byte("compressible "), 10000),
		random,
	} {
		comp := c.Append([]byte("prefix"), m)
		if string(comp[:6]) != "prefix" {
			t.Fatal("Append lost dst")
		}
		comp = comp[6:]
		if bytes.HasSuffix(comp, []byte{0, 0, 0xff, 0xff}) {
			t.Errorf("%d-byte message: trailing 00 00 ff ff not stripped", len(m))
		}
		out, err := d.Append([]byte("x"), comp, int64(len(m)))
		if err != nil {
			t.Fatalf("%d-byte message: %v", len(m), err)
		}
		if !bytes.Equal(out[1:], m) || out[0] != 'x' {
			t.Fatalf("%d-byte message: round trip gave %d bytes", len(m), len(out)-1)
		}
	}
	// RFC 7692 7.2.3.1: "Hello" compressed without context takeover.
	sample := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	if out, err := d.Append(nil, sample, 100); err != nil || string(out) != "Hello" {
		t.Errorf("RFC 7692 sample: %q, %v", out, err)
	}
	// An empty message compresses to a single 00 byte (RFC 7692 7.2.3.6).
	if got := c.Append(nil, nil); !bytes.Equal(got, []byte{0}) {
		t.Errorf("empty message compressed to % x", got)
	}
}

func TestDecompressLimit(t *testing.T) {
	c := newTestCompressor()
	d := NewDecompressor()
	bomb := c.Append(nil, make([]byte, 10<<20)) // 10 MiB of zeros, ~10 KiB compressed
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	for _, limit := range []int64{0, 1, 1000, 1 << 20} {
		out, err := d.Append(nil, bomb, limit)
		if errCode(err) != int(CloseTooBig) {
			t.Fatalf("limit %d: error %v, want 1009", limit, err)
		}
		if len(out) != 0 {
			t.Errorf("limit %d: returned %d bytes on error", limit, len(out))
		}
		if int64(cap(out)) > 2*limit+1024 {
			t.Errorf("limit %d: allocated %d bytes", limit, cap(out))
		}
	}
	// Exactly at the limit is fine.
	msg := bytes.Repeat([]byte("a"), 5000)
	if out, err := d.Append(nil, c.Append(nil, msg), 5000); err != nil || len(out) != 5000 {
		t.Errorf("at the limit: %d bytes, %v", len(out), err)
	}
}

func TestDecompressCorrupt(t *testing.T) {
	d := NewDecompressor()
	for _, in := range [][]byte{{0xff, 0xff, 0xff}, {0x07}, {0xf2, 0x48}} {
		if _, err := d.Append(nil, in, 1000); errCode(err) != int(CloseInvalidPayload) {
			t.Errorf("% x: error %v, want 1007", in, err)
		}
	}
	// The decompressor recovers for the next message.
	c := newTestCompressor()
	if out, err := d.Append(nil, c.Append(nil, []byte("fine")), 100); err != nil || string(out) != "fine" {
		t.Errorf("after corrupt input: %q, %v", out, err)
	}
}

func TestNewCompressorLevel(t *testing.T) {
	if _, err := NewCompressor(42); err == nil {
		t.Error("NewCompressor(42) accepted a bad level")
	}
	for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.BestCompression, flate.HuffmanOnly} {
		c, err := NewCompressor(level)
		if err != nil {
			t.Fatal(err)
		}
		out, err := NewDecompressor().Append(nil, c.Append(nil, []byte("level test")), 100)
		if err != nil || string(out) != "level test" {
			t.Errorf("level %d: %q, %v", level, out, err)
		}
	}
}

func TestTailReader(t *testing.T) {
	r := &tailReader{a: []byte("ab"), b: []byte("cd")}
	all, err := io.ReadAll(r)
	if err != nil || string(all) != "abcd" {
		t.Errorf("ReadAll = %q, %v", all, err)
	}
	r = &tailReader{a: []byte("a"), b: []byte("b")}
	var got []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			break
		}
		got = append(got, c)
	}
	if string(got) != "ab" {
		t.Errorf("ReadByte gave %q", got)
	}
}

func TestDecoderDeflate(t *testing.T) {
	c := newTestCompressor()
	text := strings.Repeat("κόσμε ", 3000)
	comp := c.Append(nil, []byte(text))
	half := len(comp) / 2
	stream := cat(
		clientFrame(true, OpText, true, comp),
		clientFrame(true, OpBinary, false, []byte("plain")),
		clientFrame(false, OpText, true, comp[:half]),
		msg(OpPing, "x"),
		clientFrame(true, OpContinuation, false, comp[half:]),
		clientFrame(true, OpText, true, c.Append(nil, nil)),
	)
	want := []record{
		{EventMessage, OpText, text, 0, ""},
		{EventMessage, OpBinary, "plain", 0, ""},
		{EventPing, OpPing, "x", 0, ""},
		{EventMessage, OpText, text, 0, ""},
		{EventMessage, OpText, "", 0, ""},
	}
	for _, chunks := range [][][]byte{{stream}, splitBytes(stream), splitRandom(stream, rand.New(rand.NewSource(8)))} {
		d := Decoder{Decompressor: NewDecompressor()}
		got, err := feed(&d, chunks)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}

	// Inflated size over the limit: 1009. Invalid UTF-8 once inflated: 1007.
	for _, tt := range []struct {
		name  string
		frame []byte
		code  CloseCode
	}{
		{"bomb", clientFrame(true, OpBinary, true, c.Append(nil, make([]byte, 1<<20))), CloseTooBig},
		{"bad utf8", clientFrame(true, OpText, true, c.Append(nil, []byte("ok\xed\xa0\x80"))), CloseInvalidPayload},
	} {
		d := Decoder{MaxMessageSize: 1 << 16, Decompressor: NewDecompressor()}
		if _, err := feed(&d, [][]byte{tt.frame}); errCode(err) != int(tt.code) {
			t.Errorf("%s: error %v, want %d", tt.name, err, tt.code)
		}
	}
}

func FuzzNegotiateDeflate(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		`permessage-deflate; client_max_window_bits="10"; server_no_context_takeover, foo`,
		"permessage-deflate; server_max_window_bits=15; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=9, permessage-deflate",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ext string) {
		p := NegotiateDeflate(ext)
		if p == nil {
			return
		}
		if !p.ServerNoContextTakeover || !p.ClientNoContextTakeover {
			t.Fatalf("accepted %q without no context takeover: %+v", ext, p)
		}
		// Our own answer, read back as an offer, is acceptable and stable.
		resp := string(p.AppendResponse(nil))
		if q := NegotiateDeflate(resp); q == nil || *q != *p {
			t.Fatalf("response %q reads back as %+v, want %+v", resp, q, p)
		}
	})
}
