package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
)

// testKey is the masking key of the frames tests build.
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame returns a masked client frame.
func clientFrame(fin bool, op Opcode, rsv1 bool, payload []byte) []byte {
	b := AppendFrameHeader(nil, fin, op, rsv1, len(payload), &testKey)
	start := len(b)
	b = append(b, payload...)
	Mask(testKey, b[start:], 0)
	return b
}

// msg is a masked single-frame client message.
func msg(op Opcode, payload string) []byte { return clientFrame(true, op, false, []byte(payload)) }

// closeFrame returns a masked client close frame with a code and reason.
func closeFrame(code CloseCode, reason string) []byte {
	p := []byte{byte(code >> 8), byte(code)}
	return clientFrame(true, OpClose, false, append(p, reason...))
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// record is an Event copied so it outlives the decoder call.
type record struct {
	Kind    EventKind
	Op      Opcode
	Payload string
	Code    CloseCode
	Reason  string
}

func (r record) String() string {
	p := r.Payload
	if len(p) > 40 {
		p = fmt.Sprintf("%q...(%d bytes)", p[:40], len(p))
	} else {
		p = fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("{%v %v %s %d %q}", r.Kind, r.Op, p, r.Code, r.Reason)
}

func recordOf(ev Event) record {
	return record{ev.Kind, ev.Op, string(ev.Payload), ev.CloseCode, string(ev.CloseReason)}
}

// feed runs d over the chunks in order and returns every event and the
// first error. It checks the consumption contract on the way.
func feed(d *Decoder, chunks [][]byte) ([]record, error) {
	var out []record
	for _, c := range chunks {
		c = bytes.Clone(c) // Next unmasks in place
		for {
			ev, n, err := d.Next(c)
			if err != nil {
				return out, err
			}
			if n < 0 || n > len(c) {
				panic(fmt.Sprintf("consumed %d of %d", n, len(c)))
			}
			if ev.Kind == EventNone {
				if n != len(c) {
					panic(fmt.Sprintf("no event but consumed %d of %d", n, len(c)))
				}
				break
			}
			out = append(out, recordOf(ev))
			c = c[n:]
		}
	}
	return out, nil
}

// splitRandom cuts b into random pieces.
func splitRandom(b []byte, r *rand.Rand) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := 1 + r.Intn(min(len(b), 1+r.Intn(300)))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// splitBytes cuts b into one-byte pieces.
func splitBytes(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

// errCode returns the close code of a *ProtocolError, 0 for nil, and -1 for
// any other error.
func errCode(err error) int {
	if err == nil {
		return 0
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return int(pe.Code)
	}
	return -1
}
