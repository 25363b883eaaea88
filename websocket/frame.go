package websocket

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Opcode is the 4-bit operation code of a WebSocket frame (RFC 6455 5.2).
type Opcode byte

// The opcodes defined by RFC 6455. All other values are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong or a
// reserved control opcode 0xB-0xF).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsData reports whether op is a data opcode (continuation, text, binary or
// a reserved data opcode 0x3-0x7).
func (op Opcode) IsData() bool { return op&0x8 == 0 }

// IsReserved reports whether op is one of the opcodes RFC 6455 reserves for
// future use (0x3-0x7 and 0xB-0xF).
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name, or its number for reserved opcodes.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode(" + strconv.Itoa(int(op)) + ")"
}

// CloseCode is the status code carried by a close frame (RFC 6455 7.4).
type CloseCode uint16

// The close codes defined by RFC 6455 7.4.1.
const (
	CloseNormal             CloseCode = 1000
	CloseGoingAway          CloseCode = 1001
	CloseProtocolError      CloseCode = 1002
	CloseUnsupportedData    CloseCode = 1003
	CloseNoStatus           CloseCode = 1005 // never sent: no code was present
	CloseAbnormal           CloseCode = 1006 // never sent: closed without a close frame
	CloseInvalidPayload     CloseCode = 1007
	ClosePolicyViolation    CloseCode = 1008
	CloseTooBig             CloseCode = 1009
	CloseMandatoryExtension CloseCode = 1010
	CloseInternalError      CloseCode = 1011
)

// ValidCloseCode reports whether code may appear in a close frame received
// from a peer (RFC 6455 7.4). Valid are 1000-1003, 1007-1011, the
// IANA-registered 1012-1014 and the application ranges 3000-4999. Codes
// below 1000, 1004-1006, 1015 and 1016-2999 are invalid; see the package
// documentation for the choice on 1012-1014.
func ValidCloseCode(code CloseCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// MaxHeaderSize is the largest possible frame header: 2 bytes, a 64-bit
// extended length and a 4-byte masking key.
const MaxHeaderSize = 14

// Bits of the first two header bytes.
const (
	bitFin  = 0x80
	bitRsv1 = 0x40
	bitRsv2 = 0x20
	bitRsv3 = 0x10
	bitMask = 0x80
)

// AppendFrameHeader appends a frame header to dst and returns the extended
// slice. The payload length is encoded in the minimal form (7, 16 or 64
// bits). rsv1 marks the first frame of a compressed message. When mask is
// not nil the header carries the masking key (as a client must send it); the
// caller masks the payload itself with [Mask]. length must not be negative.
func AppendFrameHeader(dst []byte, fin bool, op Opcode, rsv1 bool, length int, mask *[4]byte) []byte {
	b0 := byte(op & 0xF)
	if fin {
		b0 |= bitFin
	}
	if rsv1 {
		b0 |= bitRsv1
	}
	var b1 byte
	if mask != nil {
		b1 = bitMask
	}
	switch {
	case length <= 125:
		dst = append(dst, b0, b1|byte(length))
	case length <= 0xFFFF:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(length))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(length))
	}
	if mask != nil {
		dst = append(dst, mask[:]...)
	}
	return dst
}

// AppendFrame appends a complete, final, unmasked frame (as a server sends
// it) carrying payload to dst and returns the extended slice.
func AppendFrame(dst []byte, op Opcode, payload []byte) []byte {
	dst = AppendFrameHeader(dst, true, op, false, len(payload), nil)
	return append(dst, payload...)
}

// AppendCloseFrame appends an unmasked close frame to dst and returns the
// extended slice. A zero code or [CloseNoStatus] produces an empty close
// payload (no code, no reason), as RFC 6455 forbids sending 1005. The reason
// is cut at a UTF-8 boundary so that the payload fits the 125 bytes a
// control frame may carry.
func AppendCloseFrame(dst []byte, code CloseCode, reason string) []byte {
	if code == 0 || code == CloseNoStatus {
		return AppendFrameHeader(dst, true, OpClose, false, 0, nil)
	}
	if len(reason) > MaxControlPayload-2 {
		cut := MaxControlPayload - 2
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	dst = AppendFrameHeader(dst, true, OpClose, false, 2+len(reason), nil)
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// String returns the code's number and, for codes RFC 6455 defines, its
// name, as in "1002 (protocol error)".
func (c CloseCode) String() string {
	s := strconv.Itoa(int(c))
	switch c {
	case CloseNormal:
		return s + " (normal)"
	case CloseGoingAway:
		return s + " (going away)"
	case CloseProtocolError:
		return s + " (protocol error)"
	case CloseUnsupportedData:
		return s + " (unsupported data)"
	case CloseNoStatus:
		return s + " (no status)"
	case CloseAbnormal:
		return s + " (abnormal closure)"
	case CloseInvalidPayload:
		return s + " (invalid payload)"
	case ClosePolicyViolation:
		return s + " (policy violation)"
	case CloseTooBig:
		return s + " (message too big)"
	case CloseMandatoryExtension:
		return s + " (mandatory extension)"
	case CloseInternalError:
		return s + " (internal error)"
	}
	return s
}
