package websocket

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// rawFrame builds a client frame header by hand, for frames the encoder
// would never produce; the payload is masked with testKey when masked.
func rawFrame(b0, b1 byte, ext []byte, masked bool, payload []byte) []byte {
	b := append([]byte{b0, b1}, ext...)
	if masked {
		b = append(b, testKey[:]...)
	}
	start := len(b)
	b = append(b, payload...)
	if masked {
		Mask(testKey, b[start:], 0)
	}
	return b
}

func TestDecoderErrors(t *testing.T) {
	big := make([]byte, 8)
	binary.BigEndian.PutUint64(big, 1<<63)
	tests := []struct {
		name    string
		input   []byte
		deflate bool
		max     int64
		events  int // events before the error
		code    CloseCode
	}{
		{"unmasked", rawFrame(0x81, 0x02, nil, false, []byte("hi")), false, 0, 0, CloseProtocolError},
		{"rsv1 without extension", clientFrame(true, OpText, true, []byte("hi")), false, 0, 0, CloseProtocolError},
		{"rsv2", rawFrame(0x81|bitRsv2, 0x80, nil, true, nil), false, 0, 0, CloseProtocolError},
		{"rsv3", rawFrame(0x81|bitRsv3, 0x80, nil, true, nil), true, 0, 0, CloseProtocolError},
		{"rsv1 on continuation", cat(clientFrame(false, OpText, true, nil), clientFrame(true, OpContinuation, true, nil)), true, 0, 0, CloseProtocolError},
		{"rsv1 on ping", clientFrame(true, OpPing, true, nil), true, 0, 0, CloseProtocolError},
		{"opcode 3", rawFrame(0x83, 0x80, nil, true, nil), false, 0, 0, CloseProtocolError},
		{"opcode 7", rawFrame(0x87, 0x80, nil, true, nil), false, 0, 0, CloseProtocolError},
		{"opcode B", rawFrame(0x8B, 0x80, nil, true, nil), false, 0, 0, CloseProtocolError},
		{"opcode F", rawFrame(0x8F, 0x80, nil, true, nil), false, 0, 0, CloseProtocolError},
		{"opcode after valid message", cat(msg(OpText, "ok"), rawFrame(0x84, 0x80, nil, true, nil)), false, 0, 1, CloseProtocolError},
		{"fragmented ping", clientFrame(false, OpPing, false, []byte("x")), false, 0, 0, CloseProtocolError},
		{"fragmented close", clientFrame(false, OpClose, false, nil), false, 0, 0, CloseProtocolError},
		{"ping 126", clientFrame(true, OpPing, false, make([]byte, 126)), false, 0, 0, CloseProtocolError},
		{"close 126", clientFrame(true, OpClose, false, make([]byte, 126)), false, 0, 0, CloseProtocolError},
		{"continuation first", clientFrame(true, OpContinuation, false, []byte("x")), false, 0, 0, CloseProtocolError},
		{"continuation after end", cat(msg(OpText, "a"), clientFrame(true, OpContinuation, false, []byte("x"))), false, 0, 1, CloseProtocolError},
		{"text inside fragmented", cat(clientFrame(false, OpText, false, []byte("a")), msg(OpText, "b")), false, 0, 0, CloseProtocolError},
		{"binary inside fragmented", cat(clientFrame(false, OpBinary, false, []byte("a")), clientFrame(false, OpBinary, false, nil)), false, 0, 0, CloseProtocolError},
		{"64-bit high bit", rawFrame(0x82, 0xFF, big, true, nil), false, 0, 0, CloseProtocolError},
		{"too big header", clientFrame(true, OpBinary, false, make([]byte, 101)), false, 100, 0, CloseTooBig},
		{"too big fragments", cat(clientFrame(false, OpBinary, false, make([]byte, 60)), clientFrame(true, OpContinuation, false, make([]byte, 41))), false, 100, 0, CloseTooBig},
		{"too big default", rawFrame(0x82, 0xFF, []byte{0, 0, 0, 0, 1, 0, 0, 1}, true, nil), false, 0, 0, CloseTooBig},
		{"invalid utf8", msg(OpText, "a\xffb"), false, 0, 0, CloseInvalidPayload},
		{"invalid utf8 fragment", cat(clientFrame(false, OpText, false, []byte("ok")), clientFrame(false, OpContinuation, false, []byte("\xed\xa0\x80"))), false, 0, 0, CloseInvalidPayload},
		{"truncated utf8 at end", cat(clientFrame(false, OpText, false, []byte("ok")), clientFrame(true, OpContinuation, false, []byte("\xe2\x82"))), false, 0, 0, CloseInvalidPayload},
		{"truncated utf8 single", msg(OpText, "\xce"), false, 0, 0, CloseInvalidPayload},
		{"close 1 byte", clientFrame(true, OpClose, false, []byte{3}), false, 0, 0, CloseProtocolError},
		{"close code 0", closeFrame(0, ""), false, 0, 0, CloseProtocolError},
		{"close code 999", closeFrame(999, ""), false, 0, 0, CloseProtocolError},
		{"close code 1004", closeFrame(1004, ""), false, 0, 0, CloseProtocolError},
		{"close code 1005", closeFrame(1005, ""), false, 0, 0, CloseProtocolError},
		{"close code 1006", closeFrame(1006, ""), false, 0, 0, CloseProtocolError},
		{"close code 1015", closeFrame(1015, ""), false, 0, 0, CloseProtocolError},
		{"close code 2999", closeFrame(2999, ""), false, 0, 0, CloseProtocolError},
		{"close code 5000", closeFrame(5000, ""), false, 0, 0, CloseProtocolError},
		{"close reason utf8", closeFrame(CloseNormal, "\xce\xba\xed\xa0\x80"), false, 0, 0, CloseInvalidPayload},
		{"compressed garbage", clientFrame(true, OpBinary, true, []byte{0xff, 0xff, 0xff}), true, 0, 0, CloseInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "bytes"} {
				d := &Decoder{MaxMessageSize: tt.max}
				if tt.deflate {
					d.Decompressor = NewDecompressor()
				}
				chunks := [][]byte{tt.input}
				if mode == "bytes" {
					chunks = splitBytes(tt.input)
				}
				events, err := feed(d, chunks)
				if len(events) != tt.events {
					t.Errorf("%s: %d events %v, want %d", mode, len(events), events, tt.events)
				}
				if got := errCode(err); got != int(tt.code) {
					t.Fatalf("%s: error %v (code %d), want code %d", mode, err, got, tt.code)
				}
				// The error is sticky.
				if _, n, err2 := d.Next(msg(OpText, "more")); err2 != err || n != 0 {
					t.Errorf("%s: after the error Next returned %v, %d", mode, err2, n)
				}
			}
		})
	}
}

func TestDecoderEvents(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  []record
	}{
		{"text", msg(OpText, "Hello"), []record{{EventMessage, OpText, "Hello", 0, ""}}},
		{"empty binary", msg(OpBinary, ""), []record{{EventMessage, OpBinary, "", 0, ""}}},
		{"fragmented", cat(clientFrame(false, OpText, false, []byte("Hel")), clientFrame(false, OpContinuation, false, nil), clientFrame(true, OpContinuation, false, []byte("lo"))),
			[]record{{EventMessage, OpText, "Hello", 0, ""}}},
		{"utf8 split across fragments", cat(clientFrame(false, OpText, false, []byte("\xce")), clientFrame(true, OpContinuation, false, []byte("\xba"))),
			[]record{{EventMessage, OpText, "κ", 0, ""}}},
		{"ping pong", cat(msg(OpPing, "p"), msg(OpPong, "q")),
			[]record{{EventPing, OpPing, "p", 0, ""}, {EventPong, OpPong, "q", 0, ""}}},
		{"ping inside fragments", cat(clientFrame(false, OpBinary, false, []byte{1}), msg(OpPing, ""), clientFrame(true, OpContinuation, false, []byte{2})),
			[]record{{EventPing, OpPing, "", 0, ""}, {EventMessage, OpBinary, "\x01\x02", 0, ""}}},
		{"close empty", msg(OpClose, ""), []record{{EventClose, OpClose, "", CloseNoStatus, ""}}},
		{"close code reason", closeFrame(CloseGoingAway, "bye κ"), []record{{EventClose, OpClose, "\x03\xe9bye κ", CloseGoingAway, "bye κ"}}},
		{"close 1013", closeFrame(1013, ""), []record{{EventClose, OpClose, "\x03\xf5", 1013, ""}}},
		{"close 4999", closeFrame(4999, ""), []record{{EventClose, OpClose, "\x13\x87", 4999, ""}}},
		{"after close ignored", cat(msg(OpClose, ""), msg(OpText, "late"), []byte{0xff, 0xff}), []record{{EventClose, OpClose, "", CloseNoStatus, ""}}},
		{"non-minimal length", rawFrame(0x82, 0xFE, []byte{0, 3}, true, []byte("abc")), []record{{EventMessage, OpBinary, "abc", 0, ""}}},
		{"non-minimal 64", rawFrame(0x81, 0xFF, []byte{0, 0, 0, 0, 0, 0, 0, 2}, true, []byte("ok")), []record{{EventMessage, OpText, "ok", 0, ""}}},
		{"ping 125", msg(OpPing, strings.Repeat("x", 125)), []record{{EventPing, OpPing, strings.Repeat("x", 125), 0, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "bytes"} {
				var d Decoder
				chunks := [][]byte{tt.input}
				if mode == "bytes" {
					chunks = splitBytes(tt.input)
				}
				got, err := feed(&d, chunks)
				if err != nil {
					t.Fatalf("%s: %v", mode, err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s: got %v, want %v", mode, got, tt.want)
				}
			}
		})
	}
}

// stream returns a long client stream exercising every length encoding,
// fragmentation with interleaved control frames, and a final close.
func stream() ([]byte, []record) {
	r := rand.New(rand.NewSource(4))
	var in []byte
	var want []record
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		p := make([]byte, n)
		r.Read(p)
		in = append(in, clientFrame(true, OpBinary, false, p)...)
		want = append(want, record{EventMessage, OpBinary, string(p), 0, ""})
		txt := strings.Repeat("κόσμε", n/10)
		in = append(in, msg(OpText, txt)...)
		want = append(want, record{EventMessage, OpText, txt, 0, ""})
	}
	// A fragmented text message with pings between the fragments and a
	// code point split across fragments.
	parts := []string{"frag", "mented \xe2", "\x82\xac", strings.Repeat("x", 200), ""}
	for i, p := range parts {
		op := OpContinuation
		if i == 0 {
			op = OpText
		}
		in = append(in, clientFrame(i == len(parts)-1, op, false, []byte(p))...)
		if i%2 == 0 && i < len(parts)-1 {
			in = append(in, msg(OpPing, "ping"+strings.Repeat("!", i))...)
			want = append(want, record{EventPing, OpPing, "ping" + strings.Repeat("!", i), 0, ""})
		}
	}
	want = append(want, record{EventMessage, OpText, strings.Join(parts, ""), 0, ""})
	in = append(in, msg(OpPong, "")...)
	want = append(want, record{EventPong, OpPong, "", 0, ""})
	in = append(in, closeFrame(CloseNormal, "done")...)
	want = append(want, record{EventClose, OpClose, "\x03\xe8done", CloseNormal, "done"})
	return in, want
}

func TestDecoderSplits(t *testing.T) {
	in, want := stream()
	check := func(name string, chunks [][]byte) {
		t.Helper()
		var d Decoder
		got, err := feed(&d, chunks)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: events differ: got %d %v, want %d", name, len(got), got, len(want))
		}
	}
	check("whole", [][]byte{in})
	check("bytes", splitBytes(in))
	r := rand.New(rand.NewSource(5))
	for i := range 20 {
		check("random "+string(rune('a'+i)), splitRandom(in, r))
	}
}

func TestDecoderZeroCopy(t *testing.T) {
	in := msg(OpBinary, "zero copy")
	var d Decoder
	ev, n, err := d.Next(in)
	if err != nil || ev.Kind != EventMessage || n != len(in) {
		t.Fatalf("Next = %v, %d, %v", ev, n, err)
	}
	if &ev.Payload[0] != &in[len(in)-len("zero copy")] {
		t.Error("a single-frame message wholly in the input was copied")
	}
	if string(ev.Payload) != "zero copy" {
		t.Errorf("payload %q", ev.Payload)
	}
}

func TestDecoderAllocs(t *testing.T) {
	orig := msg(OpText, strings.Repeat("a", 119)+"κόσ")
	if len(orig) != 2+4+125 {
		t.Fatalf("frame is %d bytes", len(orig))
	}
	buf := make([]byte, len(orig))
	var d Decoder
	allocs := testing.AllocsPerRun(200, func() {
		copy(buf, orig)
		ev, n, err := d.Next(buf)
		if err != nil || ev.Kind != EventMessage || n != len(buf) || len(ev.Payload) != 125 {
			t.Fatalf("Next = %v, %d, %v", ev.Kind, n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("decoding a 125-byte text message allocates %v times", allocs)
	}
	// Pings wholly in the input do not allocate either.
	ping := msg(OpPing, "are you there")
	allocs = testing.AllocsPerRun(200, func() {
		copy(buf, ping)
		if ev, _, err := d.Next(buf[:len(ping)]); err != nil || ev.Kind != EventPing {
			t.Fatal(ev.Kind, err)
		}
	})
	if allocs != 0 {
		t.Errorf("decoding a ping allocates %v times", allocs)
	}
}

func TestDecoderReset(t *testing.T) {
	d := Decoder{MaxMessageSize: 10}
	if _, _, err := d.Next(msg(OpText, "\xff")); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
	d.Reset()
	if d.MaxMessageSize != 10 {
		t.Error("Reset lost the settings")
	}
	got, err := feed(&d, [][]byte{msg(OpText, "again")})
	if err != nil || len(got) != 1 || got[0].Payload != "again" {
		t.Fatalf("after Reset: %v, %v", got, err)
	}
}

func TestDecoderBufferRelease(t *testing.T) {
	var d Decoder
	big := bytes.Repeat([]byte("x"), retainLimit*2)
	if _, err := feed(&d, splitRandom(msg(OpBinary, string(big)), rand.New(rand.NewSource(6)))); err != nil {
		t.Fatal(err)
	}
	if cap(d.buf) <= retainLimit {
		t.Fatal("large message not buffered")
	}
	if _, err := feed(&d, [][]byte{msg(OpBinary, "small")}); err != nil {
		t.Fatal(err)
	}
	if cap(d.buf) > retainLimit {
		t.Errorf("decoder kept a %d-byte buffer after a small message", cap(d.buf))
	}
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[EventKind]string{EventNone: "none", EventMessage: "message", EventPing: "ping", EventPong: "pong", EventClose: "close", 9: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", k, got, want)
		}
	}
}

// fuzzSeeds are valid and invalid client streams for FuzzDecoder.
func fuzzSeeds() [][]byte {
	in, _ := stream()
	c := newTestCompressor()
	return [][]byte{
		msg(OpText, "Hello"),
		cat(clientFrame(false, OpText, false, []byte("He")), msg(OpPing, "p"), clientFrame(true, OpContinuation, false, []byte("llo"))),
		cat(msg(OpBinary, strings.Repeat("b", 300)), closeFrame(CloseNormal, "bye")),
		closeFrame(1005, ""),
		rawFrame(0x81, 0xFF, []byte{0, 0, 0, 0, 0, 0, 0, 2}, true, []byte("ok")),
		clientFrame(true, OpText, true, c.Append(nil, []byte("compressed κόσμε"))),
		msg(OpText, "\xce\xba\xe1\xbd\xb9\xed\xa0\x80"),
		in[:200],
	}
}

// newTestCompressor returns a compressor for tests.
func newTestCompressor() *Compressor {
	c, err := NewCompressor(1)
	if err != nil {
		panic(err)
	}
	return c
}

func FuzzDecoder(f *testing.F) {
	for i, s := range fuzzSeeds() {
		f.Add(s, int64(i), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, in []byte, seed int64, deflate bool) {
		newDecoder := func() *Decoder {
			d := &Decoder{MaxMessageSize: 1 << 16}
			if deflate {
				d.Decompressor = NewDecompressor()
			}
			return d
		}
		want, wantErr := feed(newDecoder(), [][]byte{in})
		splits := [][][]byte{splitBytes(in), splitRandom(in, rand.New(rand.NewSource(seed)))}
		for _, chunks := range splits {
			got, err := feed(newDecoder(), chunks)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("split input gave events %v, whole gave %v", got, want)
			}
			if errCode(err) != errCode(wantErr) {
				t.Fatalf("split input gave error %v, whole gave %v", err, wantErr)
			}
		}
		if errCode(wantErr) < 0 {
			t.Fatalf("non-protocol error %v", wantErr)
		}
	})
}

func BenchmarkDecoder(b *testing.B) {
	for _, size := range []int{125, 4096, 65536} {
		orig := msg(OpText, strings.Repeat("κόσμε", size/10)+strings.Repeat("a", size%10))
		b.Run("whole/"+strconv.Itoa(size), func(b *testing.B) {
			buf := make([]byte, len(orig))
			var d Decoder
			b.SetBytes(int64(len(orig)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, orig)
				if ev, _, err := d.Next(buf); err != nil || ev.Kind != EventMessage {
					b.Fatal(ev.Kind, err)
				}
			}
		})
		b.Run("split/"+strconv.Itoa(size), func(b *testing.B) {
			buf := make([]byte, len(orig))
			var d Decoder
			half := len(orig) / 2
			b.SetBytes(int64(len(orig)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, orig)
				if _, _, err := d.Next(buf[:half]); err != nil {
					b.Fatal(err)
				}
				if ev, _, err := d.Next(buf[half:]); err != nil || ev.Kind != EventMessage {
					b.Fatal(ev.Kind, err)
				}
			}
		})
	}
}
