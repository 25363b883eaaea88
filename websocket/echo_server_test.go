package websocket

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// echoSizes are the message sizes of the echo tests: the edges of the 7-,
// 16- and 64-bit length forms and large messages.
func echoSizes() []int {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 64 << 10, 1 << 20}
	if !testing.Short() {
		sizes = append(sizes, 16<<20)
	}
	return sizes
}

// payload returns n bytes: printable ASCII for text, random for binary.
func payload(n int, text bool, seed int64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewSource(seed))
	r.Read(b)
	if text {
		for i := range b {
			b[i] = ' ' + b[i]%94
		}
	}
	return b
}

func TestEchoGorilla(t *testing.T) {
	e := start(t, Config{}, 1)
	for _, path := range []string{"/ws", "/write", "/writev"} {
		c := e.dialGorilla(path, nil)
		for i, n := range echoSizes() {
			for _, text := range []bool{true, false} {
				if n == 16<<20 && path != "/ws" && !text {
					continue // one 16 MiB round per path is enough
				}
				mt := gorilla.BinaryMessage
				if text {
					mt = gorilla.TextMessage
				}
				p := payload(n, text, int64(i))
				c.SetWriteDeadline(time.Now().Add(20 * time.Second))
				if err := c.WriteMessage(mt, p); err != nil {
					t.Fatalf("%s: write %d: %v", path, n, err)
				}
				c.SetReadDeadline(time.Now().Add(20 * time.Second))
				gotType, got, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("%s: read %d: %v", path, n, err)
				}
				if gotType != mt || !bytes.Equal(got, p) {
					t.Fatalf("%s: echo of %d bytes (type %d): got %d bytes type %d", path, n, mt, len(got), gotType)
				}
			}
		}
		c.Close()
	}
	waitFor(t, "connections gone", func() bool { return e.ws.Stats().Conns == 0 })
	e.h.mu.Lock()
	writes, failed := e.h.writes, e.h.wfailed
	e.h.mu.Unlock()
	want := 2 * 2 * len(echoSizes()) // /write and /writev, text and binary
	if !testing.Short() {
		want -= 2 // no binary 16 MiB message on those paths
	}
	if writes != want || failed != 0 {
		t.Errorf("write callbacks: %d (%d failed), want %d, none failed", writes, failed, want)
	}
	e.checkBaseline()
}

// TestEchoGorillaFragmented sends messages as many frames (gorilla's
// NextWriter flushes a frame per buffer), with pings in between.
func TestEchoGorillaFragmented(t *testing.T) {
	e := start(t, Config{}, 1)
	d := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second, WriteBufferSize: 512}
	c := e.dialGorilla("/ws", d)
	pongs := make(chan string, 16)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	for _, n := range []int{1, 511, 513, 5000, 200 << 10} {
		p := payload(n, true, int64(n))
		w, err := c.NextWriter(gorilla.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < n; off += 700 {
			w.Write(p[off:min(off+700, n)])
			if off == 0 {
				// A control frame between fragments.
				if err := c.WriteControl(gorilla.PingMessage, []byte("mid"), time.Now().Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		mt, got, err := c.ReadMessage()
		if err != nil || mt != gorilla.TextMessage || !bytes.Equal(got, p) {
			t.Fatalf("fragmented echo of %d: type %d, %d bytes, %v", n, mt, len(got), err)
		}
		select {
		case s := <-pongs:
			if s != "mid" {
				t.Fatalf("pong %q, want \"mid\"", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no pong")
		}
	}
	c.Close()
	e.checkBaseline()
}

func TestEchoCoder(t *testing.T) {
	e := start(t, Config{}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, err := coder.Dial(ctx, "ws://"+e.addr+"/ws", &coder.DialOptions{CompressionMode: coder.CompressionDisabled})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(32 << 20)
	for i, n := range echoSizes() {
		for _, text := range []bool{true, false} {
			typ := coder.MessageBinary
			if text {
				typ = coder.MessageText
			}
			p := payload(n, text, int64(i))
			if i%2 == 0 {
				if err := c.Write(ctx, typ, p); err != nil {
					t.Fatal(err)
				}
			} else {
				// Streamed: one frame per Write call.
				w, err := c.Writer(ctx, typ)
				if err != nil {
					t.Fatal(err)
				}
				for off := 0; off < n; off += 1000 {
					w.Write(p[off:min(off+1000, n)])
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			gotType, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("read %d: %v", n, err)
			}
			if gotType != typ || !bytes.Equal(got, p) {
				t.Fatalf("echo of %d bytes: got %d bytes, type %v want %v", n, len(got), gotType, typ)
			}
		}
	}
	// Ping: coder's Ping waits for the pong, which needs a reader.
	rctx := c.CloseRead(ctx)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	// Client-initiated close: the server echoes the code.
	if err := c.Close(coder.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
	<-rctx.Done()
	e.checkBaseline()
}

func TestCompressionGorillaAndCoder(t *testing.T) {
	e := start(t, Config{Compression: true}, 1)
	d := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second, EnableCompression: true}
	c, resp, err := d.Dial("ws://"+e.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extensions %q: permessage-deflate not negotiated", ext)
	}
	text := []byte(strings.Repeat("compress me, compress me well. ", 2000))
	for i, p := range [][]byte{nil, []byte("x"), text, payload(100<<10, false, 1)} {
		mt := gorilla.TextMessage
		if i == 3 {
			mt = gorilla.BinaryMessage
		}
		if err := c.WriteMessage(mt, p); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, got, err := c.ReadMessage()
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("compressed echo of %d bytes: %d bytes, %v", len(p), len(got), err)
		}
	}
	// The server's messages are compressed: fewer bytes on the wire.
	var counted countConn
	d.NetDial = func(network, addr string) (net.Conn, error) {
		nc, err := net.Dial(network, addr)
		counted.Conn = nc
		return &counted, err
	}
	c2 := e.dialGorilla("/ws", d)
	counted.n.Store(0)
	c2.WriteMessage(gorilla.TextMessage, text)
	if _, got, err := c2.ReadMessage(); err != nil || !bytes.Equal(got, text) {
		t.Fatalf("compressed echo: %v", err)
	}
	if n := counted.n.Load(); n > int64(len(text))/4 {
		t.Errorf("echo of %d compressible bytes took %d bytes on the wire", len(text), n)
	}
	c2.Close()

	for _, mode := range []coder.CompressionMode{coder.CompressionNoContextTakeover, coder.CompressionContextTakeover} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cc, resp, err := coder.Dial(ctx, "ws://"+e.addr+"/write", &coder.DialOptions{CompressionMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		cc.SetReadLimit(1 << 20)
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "client_no_context_takeover") {
			t.Errorf("mode %v: extensions %q", mode, ext)
		}
		for _, p := range [][]byte{text, []byte("small"), text} {
			if err := cc.Write(ctx, coder.MessageText, p); err != nil {
				t.Fatal(err)
			}
			_, got, err := cc.Read(ctx)
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("coder mode %v: echo of %d: %d bytes, %v", mode, len(p), len(got), err)
			}
		}
		cc.Close(coder.StatusNormalClosure, "")
		cancel()
	}
	c.Close()
	e.checkBaseline()
}

func TestCloseHandshake(t *testing.T) {
	e := start(t, Config{CloseTimeout: 300 * time.Millisecond}, 1)

	// Client first: gorilla sends 1000, the server echoes it and closes.
	c := e.dialGorilla("/ws", nil)
	if err := c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(4001, "client bye"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *gorilla.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 {
		t.Fatalf("after client close: %v, want close 4001 echoed", err)
	}
	c.Close()

	// Server first: the server sends 4000, gorilla answers, the server
	// closes the TCP connection.
	c = e.dialGorilla("/ws", nil)
	c.WriteMessage(gorilla.TextMessage, []byte("close 4000 server bye"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = c.ReadMessage()
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "server bye" {
		t.Fatalf("after server close: %v, want close 4000", err)
	}
	// gorilla answered the close; the server now closes TCP.
	if _, _, err := c.NextReader(); err == nil {
		t.Fatal("read after close succeeded")
	}
	c.Close()

	// Server first, peer that never answers: cut off after CloseTimeout.
	rc := e.dialRaw("/ws")
	rc.Write(msg(OpText, "close 1000 going"))
	start := time.Now()
	rc.expectClose(t, CloseNormal)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("connection cut after %v, before the close timeout", d)
	}

	// Data sent after our close frame is still delivered until the peer's
	// close arrives; writes after Close fail.
	rc = e.dialRaw("/ws")
	rc.Write(msg(OpText, "close 1001 bye"))
	f, err := rc.readFrame()
	if err != nil || f.op != OpClose {
		t.Fatalf("want close frame: %v %v", f, err)
	}
	rc.Write(closeFrame(CloseGoingAway, ""))
	rc.expectEOF(t)

	// A close frame without a code is answered without a code.
	rc = e.dialRaw("/ws")
	rc.Write(clientFrame(true, OpClose, false, nil))
	f, err = rc.readFrame()
	if err != nil || f.op != OpClose || len(f.payload) != 0 {
		t.Fatalf("answer to an empty close: %+v %v", f, err)
	}
	rc.expectEOF(t)
	e.checkBaseline()
}

func TestPingPongAndIdle(t *testing.T) {
	e := start(t, Config{IdleTimeout: 300 * time.Millisecond, CloseTimeout: 200 * time.Millisecond}, 1)
	rc := e.dialRaw("/ws")
	// A ping is answered with a pong carrying its payload.
	rc.Write(clientFrame(true, OpPing, false, []byte("hello")))
	f, err := rc.readFrame()
	if err != nil || f.op != OpPong || string(f.payload) != "hello" {
		t.Fatalf("pong: %+v %v", f, err)
	}
	// Silence: the server pings, then closes with 1001.
	f, err = rc.readFrame()
	if err != nil || f.op != OpPing {
		t.Fatalf("idle ping: %+v %v", f, err)
	}
	rc.expectClose(t, CloseGoingAway)

	// A client that answers pings stays.
	c := e.dialGorilla("/ws", nil)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				t.Logf("reader: %v", err)
				return
			}
		}
	}()
	time.Sleep(1200 * time.Millisecond)
	if err := c.WriteMessage(gorilla.TextMessage, []byte("still here")); err != nil {
		t.Fatalf("an answering client was cut: %v", err)
	}
	if e.ws.Stats().Conns != 1 {
		t.Fatalf("conns = %d, want 1", e.ws.Stats().Conns)
	}
	c.Close()
	e.checkBaseline()
}

// countConn counts the bytes read from a connection.
type countConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}
