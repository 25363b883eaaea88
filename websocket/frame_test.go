package websocket

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppendFrameHeader(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	tests := []struct {
		name   string
		fin    bool
		op     Opcode
		rsv1   bool
		length int
		mask   *[4]byte
		want   []byte
	}{
		{"empty text", true, OpText, false, 0, nil, []byte{0x81, 0x00}},
		{"125", true, OpBinary, false, 125, nil, []byte{0x82, 125}},
		{"126 uses 16 bits", true, OpBinary, false, 126, nil, []byte{0x82, 126, 0, 126}},
		{"65535 uses 16 bits", false, OpText, false, 65535, nil, []byte{0x01, 126, 0xff, 0xff}},
		{"65536 uses 64 bits", true, OpContinuation, false, 65536, nil, []byte{0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"rsv1", true, OpText, true, 3, nil, []byte{0xc1, 3}},
		{"masked", true, OpPing, false, 5, &key, []byte{0x89, 0x85, 1, 2, 3, 4}},
		{"masked 16", true, OpText, false, 300, &key, []byte{0x81, 0xfe, 0x01, 0x2c, 1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendFrameHeader([]byte("x"), tt.fin, tt.op, tt.rsv1, tt.length, tt.mask)
			if !bytes.Equal(got[1:], tt.want) || got[0] != 'x' {
				t.Errorf("got % x, want x % x", got, tt.want)
			}
			if len(got)-1 != headerLen(got[2]) {
				t.Errorf("headerLen = %d, header is %d bytes", headerLen(got[2]), len(got)-1)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	got := AppendFrame(nil, OpText, []byte("Hello"))
	want := []byte{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'} // RFC 6455 5.7
	if !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
}

func TestAppendCloseFrame(t *testing.T) {
	tests := []struct {
		name   string
		code   CloseCode
		reason string
		want   []byte
	}{
		{"no status", CloseNoStatus, "ignored", []byte{0x88, 0}},
		{"zero", 0, "", []byte{0x88, 0}},
		{"normal", CloseNormal, "", []byte{0x88, 2, 0x03, 0xe8}},
		{"reason", CloseProtocolError, "bad", []byte{0x88, 5, 0x03, 0xea, 'b', 'a', 'd'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendCloseFrame(nil, tt.code, tt.reason); !bytes.Equal(got, tt.want) {
				t.Errorf("got % x, want % x", got, tt.want)
			}
		})
	}

	// A long reason is cut at a rune boundary to fit 125 bytes.
	long := strings.Repeat("é", 100) // 200 bytes
	got := AppendCloseFrame(nil, CloseGoingAway, long)
	if got[1] > MaxControlPayload {
		t.Fatalf("close payload %d bytes, over 125", got[1])
	}
	if reason := got[4:]; !validUTF8(reason) || len(reason) != 122 {
		t.Errorf("reason cut to %d bytes (valid %v), want 122 valid", len(reason), validUTF8(reason))
	}
}

func TestValidCloseCode(t *testing.T) {
	valid := []CloseCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	invalid := []CloseCode{0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}
	for _, c := range valid {
		if !ValidCloseCode(c) {
			t.Errorf("ValidCloseCode(%d) = false, want true", c)
		}
	}
	for _, c := range invalid {
		if ValidCloseCode(c) {
			t.Errorf("ValidCloseCode(%d) = true, want false", c)
		}
	}
}

func TestOpcode(t *testing.T) {
	tests := []struct {
		op                      Opcode
		name                    string
		control, data, reserved bool
	}{
		{OpContinuation, "continuation", false, true, false},
		{OpText, "text", false, true, false},
		{OpBinary, "binary", false, true, false},
		{3, "opcode(3)", false, true, true},
		{OpClose, "close", true, false, false},
		{OpPing, "ping", true, false, false},
		{OpPong, "pong", true, false, false},
		{0xB, "opcode(11)", true, false, true},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.name {
			t.Errorf("String() = %q, want %q", got, tt.name)
		}
		if tt.op.IsControl() != tt.control || tt.op.IsData() != tt.data || tt.op.IsReserved() != tt.reserved {
			t.Errorf("%v: control %v data %v reserved %v", tt.op, tt.op.IsControl(), tt.op.IsData(), tt.op.IsReserved())
		}
	}
}

func TestCloseCodeString(t *testing.T) {
	for c, want := range map[CloseCode]string{
		1000: "1000 (normal)", 1001: "1001 (going away)", 1002: "1002 (protocol error)",
		1003: "1003 (unsupported data)", 1005: "1005 (no status)", 1006: "1006 (abnormal closure)",
		1007: "1007 (invalid payload)", 1008: "1008 (policy violation)", 1009: "1009 (message too big)",
		1010: "1010 (mandatory extension)", 1011: "1011 (internal error)", 4000: "4000",
	} {
		if got := c.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(c), got, want)
		}
	}
	e := &ProtocolError{Code: CloseTooBig, Reason: "big"}
	if got := e.Error(); got != "websocket: protocol error 1009 (message too big): big" {
		t.Errorf("Error() = %q", got)
	}
}
