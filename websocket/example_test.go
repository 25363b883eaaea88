package websocket_test

import (
	"fmt"

	"github.com/uringnet/uringnet/websocket"
)

// A server decodes what clients send, from input split anywhere, and
// answers with unmasked frames.
func ExampleDecoder() {
	// A client's masked text frame "hello", as it arrives in two reads.
	key := [4]byte{1, 2, 3, 4}
	payload := []byte("hello")
	frame := websocket.AppendFrameHeader(nil, true, websocket.OpText, false, len(payload), &key)
	start := len(frame)
	frame = append(frame, payload...)
	websocket.Mask(key, frame[start:], 0)

	var d websocket.Decoder
	var input []byte
	for _, read := range [][]byte{frame[:4], frame[4:]} {
		input = append(input, read...)
		ev, n, err := d.Next(input)
		input = input[n:]
		if err != nil {
			fmt.Println(err)
			return
		}
		if ev.Kind == websocket.EventMessage {
			fmt.Printf("%v %q\n", ev.Op, ev.Payload)
		}
	}
	// The answer, as the server writes it: not masked.
	fmt.Printf("% x\n", websocket.AppendFrame(nil, websocket.OpText, []byte("hi")))
	// Output:
	// text "hello"
	// 81 02 68 69
}

// The handshake's Sec-WebSocket-Accept, from RFC 6455's own example.
func ExampleAcceptKey() {
	fmt.Println(websocket.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}
