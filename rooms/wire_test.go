package rooms

import (
	"bytes"
	"errors"
	"testing"

	"github.com/uringnet/uringnet/websocket"
)

func TestWireRoundTrip(t *testing.T) {
	b := appendMessage(nil, 0x0102030405060708, 7, 42, websocket.OpBinary, []byte("hello"))
	if len(b) != headerSize+5 {
		t.Fatalf("message is %d bytes", len(b))
	}
	p, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.kind != kindMessage || p.op != websocket.OpBinary || p.origin != 0x0102030405060708 ||
		p.stream != 7 || p.seq != 42 || string(p.data) != "hello" {
		t.Fatalf("decoded %+v", p)
	}
	b = appendHeartbeat(nil, 9, 3, 100, 5000)
	p, err = decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.kind != kindHeartbeat || p.origin != 9 || p.stream != 3 || p.seq != 100 || p.members != 5000 || p.data != nil {
		t.Fatalf("decoded %+v", p)
	}
	if p, err = decode(appendHeartbeat(nil, 9, 0, 0, 1)); err != nil || p.members != 1 {
		t.Fatalf("stream 0 heartbeat: %+v, %v", p, err)
	}
}

func TestWireMalformed(t *testing.T) {
	good := appendMessage(nil, 1, 1, 1, websocket.OpText, []byte("x"))
	mut := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return b
	}
	beat := appendHeartbeat(nil, 1, 1, 1, 1)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", good[:headerSize-1]},
		{"magic", mut(0, 'U')},
		{"kind", mut(1, 3)},
		{"opcode", mut(2, byte(websocket.OpPing))},
		{"reserved", mut(3, 1)},
		{"stream 0", appendMessage(nil, 1, 0, 1, websocket.OpText, nil)},
		{"seq 0", appendMessage(nil, 1, 1, 0, websocket.OpText, nil)},
		{"heartbeat long", append(bytes.Clone(beat), 0)},
		{"heartbeat short", beat[:len(beat)-1]},
		{"heartbeat opcode", func() []byte { b := bytes.Clone(beat); b[2] = 1; return b }()},
		{"heartbeat seq without stream", appendHeartbeat(nil, 1, 0, 5, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decode(tt.b); !errors.Is(err, errMalformed) {
				t.Fatalf("decode = %v, want errMalformed", err)
			}
		})
	}
}

// FuzzDecode checks that decode never panics and that what it accepts
// encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(appendMessage(nil, 1, 1, 1, websocket.OpText, []byte("hi")))
	f.Add(appendHeartbeat(nil, 2, 3, 4, 5))
	f.Add([]byte{wireMagic, kindMessage})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decode(b)
		if err != nil {
			return
		}
		var again []byte
		switch p.kind {
		case kindMessage:
			again = appendMessage(nil, p.origin, p.stream, p.seq, p.op, p.data)
		case kindHeartbeat:
			again = appendHeartbeat(nil, p.origin, p.stream, p.seq, p.members)
		default:
			t.Fatalf("decode accepted kind %d", p.kind)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, was %x", again, b)
		}
	})
}
