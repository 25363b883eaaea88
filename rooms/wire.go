package rooms

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/uringnet/uringnet/websocket"
)

// The bus payload of a room message: a 24-byte header, then, for a
// message, the WebSocket message itself. Integers are big-endian.
//
//	0      magic, wireMagic
//	1      kind: kindMessage or kindHeartbeat
//	2      the message's opcode (OpText or OpBinary); 0 in a heartbeat
//	3      0
//	4:12   origin: the publishing Hub's instance id
//	12:16  stream: the origin's numbering of the room; a new stream
//	       starts when the origin forgot an idle room's numbers, and 0
//	       (heartbeats only) means the origin has sent nothing there
//	16:24  seq: the message's number in its stream, from 1; in a
//	       heartbeat, the stream's last number
//	24:    a message's data; a heartbeat's local member count (4 bytes)
const (
	wireMagic     = 0xB5
	kindMessage   = 1
	kindHeartbeat = 2
	headerSize    = 24
)

// packet is one decoded bus payload.
type packet struct {
	kind    byte
	op      websocket.Opcode
	origin  uint64
	stream  uint32
	seq     uint64
	members uint32 // heartbeat
	data    []byte // message: aliases the payload
}

// errMalformed is returned by decode for a payload that is not a room
// message.
var errMalformed = errors.New("rooms: malformed bus payload")

// appendMessage appends the payload of message seq from origin.
func appendMessage(b []byte, origin uint64, stream uint32, seq uint64, op websocket.Opcode, data []byte) []byte {
	b = append(b, wireMagic, kindMessage, byte(op), 0)
	b = binary.BigEndian.AppendUint64(b, origin)
	b = binary.BigEndian.AppendUint32(b, stream)
	b = binary.BigEndian.AppendUint64(b, seq)
	return append(b, data...)
}

// appendHeartbeat appends a heartbeat: origin's stream and last seq, and
// its local member count.
func appendHeartbeat(b []byte, origin uint64, stream uint32, seq uint64, members uint32) []byte {
	b = append(b, wireMagic, kindHeartbeat, 0, 0)
	b = binary.BigEndian.AppendUint64(b, origin)
	b = binary.BigEndian.AppendUint32(b, stream)
	b = binary.BigEndian.AppendUint64(b, seq)
	return binary.BigEndian.AppendUint32(b, members)
}

// decode parses a bus payload. The packet's data aliases b.
func decode(b []byte) (packet, error) {
	if len(b) < headerSize || b[0] != wireMagic || b[3] != 0 {
		return packet{}, errMalformed
	}
	p := packet{
		kind:   b[1],
		op:     websocket.Opcode(b[2]),
		origin: binary.BigEndian.Uint64(b[4:]),
		stream: binary.BigEndian.Uint32(b[12:]),
		seq:    binary.BigEndian.Uint64(b[16:]),
	}
	switch p.kind {
	case kindMessage:
		if p.op != websocket.OpText && p.op != websocket.OpBinary {
			return packet{}, fmt.Errorf("%w: opcode %d", errMalformed, p.op)
		}
		if p.stream == 0 || p.seq == 0 {
			return packet{}, fmt.Errorf("%w: stream or sequence number 0", errMalformed)
		}
		p.data = b[headerSize:]
	case kindHeartbeat:
		if p.op != 0 || len(b) != headerSize+4 || (p.stream == 0) != (p.seq == 0) {
			return packet{}, fmt.Errorf("%w: heartbeat", errMalformed)
		}
		p.members = binary.BigEndian.Uint32(b[headerSize:])
	default:
		return packet{}, fmt.Errorf("%w: kind %d", errMalformed, p.kind)
	}
	return p, nil
}
