package websocket

import (
	"encoding/binary"
)

// DefaultMaxMessageSize is the message size limit of a Decoder whose
// MaxMessageSize is zero or negative. It is large enough for the Autobahn
// testsuite's 16 MiB messages.
const DefaultMaxMessageSize = 16 << 20

// retainLimit is the largest reassembly buffer a Decoder keeps between
// messages; a larger one is dropped when the next message starts.
const retainLimit = 64 << 10

// EventKind tells what a decoder Event holds.
type EventKind uint8

// The kinds of decoder events.
const (
	EventNone    EventKind = iota // no event: more input is needed
	EventMessage                  // a complete text or binary message
	EventPing                     // a ping; answer with a pong carrying Payload
	EventPong                     // a pong
	EventClose                    // a close frame; the decoder takes no more input
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventNone:
		return "none"
	case EventMessage:
		return "message"
	case EventPing:
		return "ping"
	case EventPong:
		return "pong"
	case EventClose:
		return "close"
	}
	return "unknown"
}

// Event is one thing a Decoder found in its input.
//
// Payload (and CloseReason's bytes) may point into the input passed to
// Decoder.Next or into the decoder's own buffers. It is valid until the next
// call to Next or Reset, and only as long as the caller does not modify or
// reuse the input; copy it to keep it longer.
type Event struct {
	Kind EventKind
	// Op is OpText or OpBinary for a message, OpPing, OpPong or OpClose for
	// a control frame.
	Op Opcode
	// Payload is the message (reassembled and decompressed), or the
	// control frame's payload (for a close: the code and the reason).
	Payload []byte
	// CloseCode is the code of a close frame, CloseNoStatus if it had none.
	CloseCode CloseCode
	// CloseReason is the reason of a close frame, valid UTF-8.
	CloseReason []byte
}

type decoderState uint8

const (
	stateHeader  decoderState = iota // reading a frame header
	statePayload                     // reading a frame payload
	stateClosed                      // a close frame was received
)

// Decoder decodes the frames a client sends to a server (RFC 6455 5) from
// input split in any way, reassembles fragmented messages and validates
// everything RFC 6455 requires. The zero value is ready to use with the
// default limits and no extension. A Decoder is not safe for concurrent use;
// there is one per connection.
type Decoder struct {
	// MaxMessageSize limits the size of a message, after reassembly and
	// decompression. A frame header that announces more fails the
	// connection with CloseTooBig at once. Zero or negative means
	// DefaultMaxMessageSize.
	MaxMessageSize int64
	// Decompressor, when not nil, means permessage-deflate was negotiated:
	// RSV1 is then accepted on the first frame of a data message, and such
	// a message is inflated with it. It may be shared by all the decoders
	// of one event loop.
	Decompressor *Decompressor

	state decoderState
	err   error

	hdr    [MaxHeaderSize]byte // a header split across inputs
	hdrLen int

	// The frame being read.
	fin    bool
	op     Opcode
	key    [4]byte
	keyPos int
	length int64 // payload length
	remain int64 // payload bytes not yet read

	// The message being read; msgOp is 0 between messages.
	msgOp         Opcode
	msgCompressed bool
	utf8          UTF8Validator
	buf           []byte // reassembly buffer
	inflated      []byte // decompression buffer

	ctrl    [MaxControlPayload]byte // a control payload split across inputs
	ctrlLen int
}

// Reset makes d ready for a new connection, keeping its settings and
// buffers.
func (d *Decoder) Reset() {
	*d = Decoder{
		MaxMessageSize: d.MaxMessageSize,
		Decompressor:   d.Decompressor,
		buf:            d.buf[:0],
		inflated:       d.inflated[:0],
	}
}

func (d *Decoder) maxSize() int64 {
	if d.MaxMessageSize <= 0 {
		return DefaultMaxMessageSize
	}
	return d.MaxMessageSize
}

// Next decodes src, which continues the input of the previous calls, and
// returns the first event found and the number of bytes of src consumed.
//
// When ev.Kind is EventNone, all of src has been consumed (consumed ==
// len(src)) and the decoder needs more input; partial frames are kept
// inside the decoder, so the caller never has to hold on to src. Otherwise
// the caller handles ev and calls Next again with src[consumed:], until it
// gets EventNone. After EventClose the decoder discards further input.
//
// Next may modify src: masked payloads are unmasked in place, and a
// single-frame message wholly contained in src is returned as a subslice of
// src. See Event for how long the payload is valid.
//
// A violation of the protocol returns a *ProtocolError whose Code is the
// close code to send; consumed then counts the bytes read up to the
// violation. The error is sticky: every later call returns it again.
func (d *Decoder) Next(src []byte) (ev Event, consumed int, err error) {
	if d.err != nil {
		return Event{}, 0, d.err
	}
	n := 0
	for {
		switch d.state {
		case stateClosed:
			return Event{}, len(src), nil

		case stateHeader:
			var h []byte
			if d.hdrLen == 0 && len(src)-n >= 2 && len(src)-n >= headerLen(src[n+1]) {
				hl := headerLen(src[n+1])
				h = src[n : n+hl]
				n += hl
			} else {
				for d.hdrLen < 2 && n < len(src) {
					d.hdr[d.hdrLen] = src[n]
					d.hdrLen++
					n++
				}
				if d.hdrLen < 2 {
					return Event{}, n, nil
				}
				hl := headerLen(d.hdr[1])
				if d.hdrLen == 2 {
					// Fail fast: the first two bytes decide most rules.
					if err := d.checkStart(d.hdr[0], d.hdr[1]); err != nil {
						return Event{}, n, d.fail(err)
					}
				}
				c := copy(d.hdr[d.hdrLen:hl], src[n:])
				d.hdrLen += c
				n += c
				if d.hdrLen < hl {
					return Event{}, n, nil
				}
				h = d.hdr[:hl]
				d.hdrLen = 0
			}
			if err := d.startFrame(h); err != nil {
				return Event{}, n, d.fail(err)
			}
			d.state = statePayload

		case statePayload:
			avail := int64(len(src) - n)
			if d.op.IsControl() {
				var p []byte
				if d.ctrlLen == 0 && avail >= d.remain {
					// The whole payload is here: unmask it in place.
					p = src[n : n+int(d.remain)]
					Mask(d.key, p, 0)
					n += int(d.remain)
				} else {
					c := int(min(avail, d.remain))
					copy(d.ctrl[d.ctrlLen:], src[n:n+c])
					d.keyPos = Mask(d.key, d.ctrl[d.ctrlLen:d.ctrlLen+c], d.keyPos)
					d.ctrlLen += c
					d.remain -= int64(c)
					n += c
					if d.remain > 0 {
						return Event{}, n, nil
					}
					p = d.ctrl[:d.ctrlLen]
				}
				d.remain = 0
				d.state = stateHeader
				ev, err := d.control(p)
				if err != nil {
					return Event{}, n, d.fail(err)
				}
				return ev, n, nil
			}

			if d.fin && d.op != OpContinuation && d.remain == d.length && avail >= d.remain {
				// Zero-copy: a single-frame message wholly in src.
				p := src[n : n+int(d.remain)]
				Mask(d.key, p, 0)
				n += int(d.remain)
				d.remain = 0
				d.state = stateHeader
				if d.msgOp == OpText && !d.msgCompressed && !validUTF8(p) {
					return Event{}, n, d.fail(errInvalidUTF8())
				}
				ev, err := d.finishMessage(p)
				if err != nil {
					return Event{}, n, d.fail(err)
				}
				return ev, n, nil
			}

			c := int(min(avail, d.remain))
			start := len(d.buf)
			d.buf = append(d.buf, src[n:n+c]...)
			chunk := d.buf[start:]
			d.keyPos = Mask(d.key, chunk, d.keyPos)
			d.remain -= int64(c)
			n += c
			if d.msgOp == OpText && !d.msgCompressed && !d.utf8.Write(chunk) {
				return Event{}, n, d.fail(errInvalidUTF8())
			}
			if d.remain > 0 {
				return Event{}, n, nil
			}
			d.state = stateHeader
			if !d.fin {
				continue
			}
			if d.msgOp == OpText && !d.msgCompressed && !d.utf8.Complete() {
				return Event{}, n, d.fail(errInvalidUTF8())
			}
			ev, err := d.finishMessage(d.buf)
			if err != nil {
				return Event{}, n, d.fail(err)
			}
			return ev, n, nil
		}
	}
}

// errInvalidUTF8 returns the error for a text message that is not UTF-8.
func errInvalidUTF8() error {
	return protocolError(CloseInvalidPayload, "invalid UTF-8 in text message")
}

// fail makes err sticky and returns it.
func (d *Decoder) fail(err error) error {
	d.err = err
	return err
}

// headerLen returns the length of a frame header from its second byte.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&bitMask != 0 {
		n += 4
	}
	return n
}

// partial reports whether d holds part of a message or frame: a data
// message begun and not finished, or a frame header or control frame not
// yet complete.
func (d *Decoder) partial() bool {
	return d.msgOp != 0 || d.hdrLen > 0 || d.state == statePayload
}

// checkStart applies the rules that the first two header bytes decide.
func (d *Decoder) checkStart(b0, b1 byte) error {
	op := Opcode(b0 & 0xF)
	if op.IsReserved() {
		return protocolError(CloseProtocolError, "reserved opcode "+op.String())
	}
	if b0&(bitRsv2|bitRsv3) != 0 {
		return protocolError(CloseProtocolError, "RSV2 or RSV3 set without an extension")
	}
	if b0&bitRsv1 != 0 {
		switch {
		case d.Decompressor == nil:
			return protocolError(CloseProtocolError, "RSV1 set without permessage-deflate")
		case op.IsControl():
			return protocolError(CloseProtocolError, "RSV1 set on a control frame")
		case op == OpContinuation:
			return protocolError(CloseProtocolError, "RSV1 set on a continuation frame")
		}
	}
	if b1&bitMask == 0 {
		return protocolError(CloseProtocolError, "client frame not masked")
	}
	if op.IsControl() {
		if b0&bitFin == 0 {
			return protocolError(CloseProtocolError, "fragmented control frame")
		}
		if b1&0x7F > MaxControlPayload {
			return protocolError(CloseProtocolError, "control frame payload over 125 bytes")
		}
		return nil
	}
	if op == OpContinuation && d.msgOp == 0 {
		return protocolError(CloseProtocolError, "continuation frame without a message to continue")
	}
	if op != OpContinuation && d.msgOp != 0 {
		return protocolError(CloseProtocolError, "new data frame inside a fragmented message")
	}
	return nil
}

// startFrame validates a complete header h and sets up the frame.
func (d *Decoder) startFrame(h []byte) error {
	b0, b1 := h[0], h[1]
	if err := d.checkStart(b0, b1); err != nil {
		return err
	}
	var length int64
	var k []byte
	switch l := b1 & 0x7F; l {
	case 126:
		length = int64(binary.BigEndian.Uint16(h[2:]))
		k = h[4:8]
	case 127:
		u := binary.BigEndian.Uint64(h[2:])
		if u>>63 != 0 {
			return protocolError(CloseProtocolError, "64-bit payload length with the high bit set")
		}
		length = int64(u)
		k = h[10:14]
	default:
		length = int64(l)
		k = h[2:6]
	}
	op := Opcode(b0 & 0xF)
	if op.IsData() {
		if op != OpContinuation {
			d.startMessage(op, b0&bitRsv1 != 0)
		}
		if length > d.maxSize()-int64(len(d.buf)) {
			return protocolError(CloseTooBig, "message over the size limit")
		}
	} else {
		d.ctrlLen = 0
	}
	d.fin = b0&bitFin != 0
	d.op = op
	copy(d.key[:], k)
	d.keyPos = 0
	d.length = length
	d.remain = length
	return nil
}

// startMessage begins a new data message.
func (d *Decoder) startMessage(op Opcode, compressed bool) {
	d.msgOp = op
	d.msgCompressed = compressed
	d.utf8.Reset()
	if cap(d.buf) > retainLimit {
		d.buf = nil
	}
	d.buf = d.buf[:0]
}

// finishMessage completes the message whose (compressed) payload is p.
func (d *Decoder) finishMessage(p []byte) (Event, error) {
	op := d.msgOp
	d.msgOp = 0
	if d.msgCompressed {
		if cap(d.inflated) > retainLimit {
			d.inflated = nil
		}
		out, err := d.Decompressor.Append(d.inflated[:0], p, d.maxSize())
		if err != nil {
			return Event{}, err
		}
		d.inflated = out
		p = out
		if op == OpText && !validUTF8(p) {
			return Event{}, errInvalidUTF8()
		}
	}
	return Event{Kind: EventMessage, Op: op, Payload: p}, nil
}

// control handles the complete, unmasked payload p of a control frame.
func (d *Decoder) control(p []byte) (Event, error) {
	switch d.op {
	case OpPing:
		return Event{Kind: EventPing, Op: OpPing, Payload: p}, nil
	case OpPong:
		return Event{Kind: EventPong, Op: OpPong, Payload: p}, nil
	}
	// OpClose.
	ev := Event{Kind: EventClose, Op: OpClose, Payload: p, CloseCode: CloseNoStatus}
	switch {
	case len(p) == 1:
		return Event{}, protocolError(CloseProtocolError, "close frame with a 1-byte payload")
	case len(p) >= 2:
		ev.CloseCode = CloseCode(binary.BigEndian.Uint16(p))
		if !ValidCloseCode(ev.CloseCode) {
			return Event{}, protocolError(CloseProtocolError, "invalid close code "+ev.CloseCode.String())
		}
		ev.CloseReason = p[2:]
		if !validUTF8(ev.CloseReason) {
			return Event{}, protocolError(CloseInvalidPayload, "invalid UTF-8 in close reason")
		}
	}
	d.state = stateClosed
	return ev, nil
}
