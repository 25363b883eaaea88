package websocket

import (
	"bufio"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/netserver"
)

// TestProtocolErrors sends what RFC 6455 says must fail the connection
// and expects a close frame with the right code, then the TCP close.
func TestProtocolErrors(t *testing.T) {
	e := start(t, Config{MaxMessageSize: 1000, CloseTimeout: 2 * time.Second}, 1)
	unmasked := AppendFrame(nil, OpText, []byte("hi"))
	rsv := func(bit byte) []byte { b := msg(OpText, "hi"); b[0] |= bit; return b }
	bigLen := clientFrame(true, OpBinary, false, nil)
	bigLen[1] = 0x80 | 127
	bigLen = append(bigLen[:2], 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4)
	for _, tc := range []struct {
		name string
		in   []byte
		want CloseCode
	}{
		{"unmasked", unmasked, CloseProtocolError},
		{"rsv1 without deflate", rsv(0x40), CloseProtocolError},
		{"rsv2", rsv(0x20), CloseProtocolError},
		{"rsv3", rsv(0x10), CloseProtocolError},
		{"reserved opcode 3", clientFrame(true, 3, false, nil), CloseProtocolError},
		{"reserved control opcode 0xB", clientFrame(true, 0xB, false, nil), CloseProtocolError},
		{"fragmented ping", clientFrame(false, OpPing, false, nil), CloseProtocolError},
		{"ping over 125", clientFrame(true, OpPing, false, make([]byte, 126)), CloseProtocolError},
		{"continuation first", clientFrame(true, OpContinuation, false, []byte("x")), CloseProtocolError},
		{"new message inside fragments", cat(clientFrame(false, OpText, false, []byte("a")), msg(OpText, "b")), CloseProtocolError},
		{"close with 1 byte", clientFrame(true, OpClose, false, []byte{3}), CloseProtocolError},
		{"close code 1005", closeFrame(CloseNoStatus, ""), CloseProtocolError},
		{"close code 999", closeFrame(999, ""), CloseProtocolError},
		{"close reason not UTF-8", closeFrame(CloseNormal, "\xff"), CloseInvalidPayload},
		{"text not UTF-8", msg(OpText, "ok \xc3\x28"), CloseInvalidPayload},
		{"fragmented text not UTF-8", cat(clientFrame(false, OpText, false, []byte("\xce")), clientFrame(true, OpContinuation, false, []byte("x"))), CloseInvalidPayload},
		{"message over the limit", clientFrame(true, OpBinary, false, make([]byte, 1001)), CloseTooBig},
		{"fragments over the limit", cat(clientFrame(false, OpBinary, false, make([]byte, 600)), clientFrame(true, OpContinuation, false, make([]byte, 600))), CloseTooBig},
		{"64-bit length high bit", bigLen, CloseProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := e.dialRaw("/ws")
			// A valid message first: the connection works until the error.
			rc.Write(msg(OpText, "before"))
			f, err := rc.readFrame()
			if err != nil || string(f.payload) != "before" {
				t.Fatalf("echo before the error: %+v %v", f, err)
			}
			// Byte by byte for half the cases: the decoder works on any split.
			if len(tc.in) < 64 && tc.name[0]%2 == 0 {
				for i := range tc.in {
					rc.Write(tc.in[i : i+1])
				}
			} else {
				rc.Write(tc.in)
			}
			rc.expectClose(t, tc.want)
		})
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	if n := e.ws.Stats().ProtocolErrors; n != 19 {
		t.Errorf("ProtocolErrors = %d, want 19", n)
	}
	e.h.mu.Lock()
	nf := len(e.h.failed)
	e.h.mu.Unlock()
	if nf != 19 {
		t.Errorf("WebSocketRead(failed) for %d connections, want 19", nf)
	}
	e.checkBaseline()
}

// TestProtocolErrorGorilla: a gorilla client sees the close code of a
// too-big message.
func TestProtocolErrorGorilla(t *testing.T) {
	e := start(t, Config{MaxMessageSize: 100}, 1)
	c := e.dialGorilla("/ws", nil)
	c.WriteMessage(gorilla.BinaryMessage, make([]byte, 101))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ReadMessage()
	if !gorilla.IsCloseError(err, gorilla.CloseMessageTooBig) {
		t.Fatalf("got %v, want close 1009", err)
	}
	c.Close()
	e.checkBaseline()
}

func TestHandshake(t *testing.T) {
	e := start(t, Config{
		Subprotocols: []string{"chat.v2", "chat.v1"},
		CheckOrigin:  func(origin, host string) bool { return origin == "" || origin == "http://good.example" },
	}, 1)
	valid := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, tc := range []struct {
		name, req string
		status    int
		header    string // a header the response must have, "Name: value"
	}{
		{"ok", valid + "Sec-WebSocket-Version: 13\r\n\r\n", 101, "Sec-Websocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		{"subprotocol", valid + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat.v1, chat.v2\r\n\r\n", 101, "Sec-Websocket-Protocol: chat.v2"},
		{"subprotocol on two lines", valid + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: other\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n", 101, "Sec-Websocket-Protocol: chat.v1"},
		{"version 8", valid + "Sec-WebSocket-Version: 8\r\n\r\n", 426, "Sec-Websocket-Version: 13"},
		{"no version", valid + "\r\n", 426, ""},
		{"bad origin", valid + "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n", 403, ""},
		{"good origin", valid + "Sec-WebSocket-Version: 13\r\nOrigin: http://good.example\r\n\r\n", 101, ""},
		{"no key", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, ""},
		{"bad key", strings.Replace(valid, "dGhlIHNhbXBsZSBub25jZQ==", "short", 1) + "Sec-WebSocket-Version: 13\r\n\r\n", 400, ""},
		{"no upgrade", "GET /ws HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, ""},
		{"POST", strings.Replace(valid, "GET", "POST", 1) + "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", 400, ""},
		{"body", valid + "Sec-WebSocket-Version: 13\r\nContent-Length: 3\r\n\r\nabc", 400, ""},
		{"HTTP/1.0", strings.Replace(valid, "HTTP/1.1", "HTTP/1.0", 1) + "Sec-WebSocket-Version: 13\r\n\r\n", 400, ""},
		// RFC 6455 11.3.1: Sec-WebSocket-Key appears once in a request.
		{"two keys", valid + "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, ""},
		{"same key twice", valid + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			io.WriteString(nc, tc.req)
			nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(nc)
			resp, err := nethttp.ReadResponse(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			if tc.header != "" {
				name, value, _ := strings.Cut(tc.header, ": ")
				if got := resp.Header.Get(name); got != value {
					t.Errorf("%s: %q, want %q", name, got, value)
				}
			}
			if tc.status != 101 {
				if len(body) == 0 || !resp.Close {
					t.Errorf("refusal without a reason or Connection: close: %q %v", body, resp.Header)
				}
				// The connection is closed after the refusal.
				if _, err := r.ReadByte(); err == nil {
					t.Error("connection still open after a refused handshake")
				}
			}
		})
	}
	st := e.ws.Stats()
	if st.Upgrades != 4 || st.Refused != 11 {
		t.Errorf("stats %+v, want 4 upgrades and 11 refusals", st)
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.checkBaseline()
}

// TestUpgradeOffLoopAndUnknownClient covers the calls made where they
// cannot work.
func TestUpgradeOffLoopAndUnknownClient(t *testing.T) {
	e := start(t, Config{}, 1)
	if err := e.ws.Upgrade(nil, 1); err == nil {
		t.Error("Upgrade off the loop: no error")
	}
	bogus := netserver.ClientNum(1) // loop 0, slot 0, generation 1: never opened
	for name, err := range map[string]error{
		"Send":  e.ws.Send(bogus, OpText, nil),
		"Close": e.ws.Close(bogus, CloseNormal, ""),
		"Write": e.ws.Write(bogus, OpText, nil),
	} {
		if err != nil {
			t.Errorf("%s off the loop to an unknown client: %v, want nil (failure reported later)", name, err)
		}
	}
	if err := e.ws.Send(bogus, OpClose, nil); err != ErrOpcode {
		t.Errorf("Send(OpClose): %v", err)
	}
	if err := e.ws.Broadcast([]netserver.ClientNum{bogus}, OpPing, nil); err != ErrOpcode {
		t.Errorf("Broadcast(OpPing): %v", err)
	}
	if err := e.ws.Write(bogus, 0, nil); err != ErrOpcode {
		t.Errorf("Write(op 0): %v", err)
	}
	// An off-loop Write to a client that is gone reports failed=true.
	waitFor(t, "failed write callback", func() bool {
		e.h.mu.Lock()
		defer e.h.mu.Unlock()
		return e.h.wfailed == 1
	})
	// On the loop, the errors come back at once.
	done := make(chan []error, 1)
	e.hs.Net().RunOnLoop(0, func() {
		done <- []error{
			e.ws.Send(bogus, OpText, nil),
			e.ws.Write(bogus, OpText, nil),
			e.ws.Close(bogus, CloseNormal, ""),
		}
	})
	for i, err := range <-done {
		if err != ErrClosed {
			t.Errorf("on-loop call %d: %v, want ErrClosed", i, err)
		}
	}
	if e.ws.MessageType(bogus) != 0 {
		t.Error("MessageType of an unknown client")
	}
	_ = fmt.Sprint(e.ws.Stats())
}

// TestDeflateNotInherited: a connection that did not negotiate
// permessage-deflate rejects RSV1 even when its state is reused from one
// that did.
func TestDeflateNotInherited(t *testing.T) {
	e := start(t, Config{Compression: true}, 1)
	d := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second, EnableCompression: true}
	c := e.dialGorilla("/ws", d)
	c.WriteMessage(gorilla.TextMessage, []byte("compressed"))
	if _, p, err := c.ReadMessage(); err != nil || string(p) != "compressed" {
		t.Fatalf("deflate echo: %q %v", p, err)
	}
	c.Close()
	waitFor(t, "first connection gone", func() bool { return e.ws.Stats().Conns == 0 })
	rc := e.dialRaw("/ws") // no extension offered
	rc.Write(clientFrame(true, OpText, true, []byte("x")))
	rc.expectClose(t, CloseProtocolError)
}

// TestRSV1Reasons: with permessage-deflate negotiated, RSV1 where the
// extension does not allow it is refused with a reason that says where,
// not that deflate is off; without it, the reason says it is off.
func TestRSV1Reasons(t *testing.T) {
	e := start(t, Config{Compression: true, CloseTimeout: 2 * time.Second}, 1)
	for _, tc := range []struct {
		name    string
		deflate bool
		in      []byte
		reason  string
	}{
		{"ping with deflate", true, clientFrame(true, OpPing, true, nil), "RSV1 set on a control frame"},
		{"continuation with deflate", true, cat(clientFrame(false, OpText, true, nil), clientFrame(true, OpContinuation, true, nil)), "RSV1 set on a continuation frame"},
		{"text without deflate", false, clientFrame(true, OpText, true, []byte("x")), "RSV1 set without permessage-deflate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := e.dialRawExt("/ws", tc.deflate)
			rc.Write(tc.in)
			code, reason := rc.readClose(t)
			if code != CloseProtocolError || reason != tc.reason {
				t.Errorf("close %d %q, want %d %q", code, reason, CloseProtocolError, tc.reason)
			}
			rc.expectEOF(t)
		})
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.checkBaseline()
}
