package websocket

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/netserver"
)

// TestMessageTimeout: a message whose fragments (or bytes) trickle in, each
// resetting the idle timer, is cut off after MessageTimeout with 1008; a
// client that sends whole messages at the same pace is not.
func TestMessageTimeout(t *testing.T) {
	const limit = 300 * time.Millisecond
	e := start(t, Config{MessageTimeout: limit, IdleTimeout: 10 * time.Second, CloseTimeout: 2 * time.Second}, 1)
	frame := clientFrame(true, OpBinary, false, make([]byte, 100))
	for _, tc := range []struct {
		name    string
		first   []byte             // sent at once
		next    func(i int) []byte // sent every 20 ms after it
		timeout bool               // the server must cut the message off
	}{
		{"fragments trickle", clientFrame(false, OpText, false, []byte("a")),
			func(int) []byte { return clientFrame(false, OpContinuation, false, []byte("b")) }, true},
		{"frame bytes trickle", frame[:10],
			func(i int) []byte { return frame[10+i%50 : 11+i%50] }, true},
		{"whole messages", msg(OpText, "m"),
			func(int) []byte { return msg(OpText, "m") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := e.dialRaw("/ws")
			rc.Write(tc.first)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					if _, err := rc.Write(tc.next(i)); err != nil {
						return
					}
				}
			}()
			defer func() { close(stop); <-done }()
			t0 := time.Now()
			if !tc.timeout {
				// Echoes keep coming for three times the limit.
				for time.Since(t0) < 3*limit {
					f, err := rc.readFrame()
					if err != nil || f.op != OpText || string(f.payload) != "m" {
						t.Fatalf("echo: %+v %v", f, err)
					}
				}
				return
			}
			code, reason := rc.readClose(t)
			if code != ClosePolicyViolation || reason != "message timeout" {
				t.Fatalf("close %d %q, want 1008 \"message timeout\"", code, reason)
			}
			if d := time.Since(t0); d < limit*8/10 {
				t.Errorf("cut off after %v, before the limit %v", d, limit)
			}
		})
	}
	if n := e.ws.Stats().Timeouts; n != 2 {
		t.Errorf("Timeouts = %d, want 2", n)
	}
	waitFor(t, "connections gone", func() bool {
		return e.ws.Stats().Conns <= 1 // the "whole messages" client may still close
	})
}

// TestMessageTimeoutOff: a negative MessageTimeout lets a message take as
// long as it likes.
func TestMessageTimeoutOff(t *testing.T) {
	e := start(t, Config{MessageTimeout: -1, IdleTimeout: 10 * time.Second}, 1)
	rc := e.dialRaw("/ws")
	rc.Write(clientFrame(false, OpText, false, []byte("a")))
	for i := 0; i < 20; i++ {
		time.Sleep(20 * time.Millisecond)
		rc.Write(clientFrame(false, OpContinuation, false, []byte("b")))
	}
	rc.Write(clientFrame(true, OpContinuation, false, []byte("c")))
	f, err := rc.readFrame()
	if err != nil || string(f.payload) != "a"+strings.Repeat("b", 20)+"c" {
		t.Fatalf("echo: %q %v", f.payload, err)
	}
	if n := e.ws.Stats().Timeouts; n != 0 {
		t.Errorf("Timeouts = %d, want 0", n)
	}
}

// TestSlowConsumer: a client that stops reading while its send queue is
// over MaxQueuedBytes is closed with 1008 "slow consumer" after
// StallTimeout, though its queue is far from HardQueuedBytes; it sees the
// close frame behind its backlog if it reads again.
func TestSlowConsumer(t *testing.T) {
	const soft = 64 << 10
	e := start(t, Config{MaxQueuedBytes: soft, HardQueuedBytes: 64 << 20, StallTimeout: 300 * time.Millisecond,
		CloseTimeout: 10 * time.Second}, 1)
	rc := e.dialRawWith("/sink", bufDialer(4<<10))
	c := <-e.h.opened
	// Fill the server's queue over the soft limit, whatever the kernel
	// buffers: measure the queue rather than count on the kernel.
	chunk := make([]byte, 16<<10)
	sent := 0
	for e.queued(c) <= soft {
		if sent > 64<<20 {
			t.Fatalf("%d bytes sent and the queue is still at %d", sent, e.queued(c))
		}
		if err := e.ws.Send(c, OpBinary, chunk); err != nil {
			t.Fatalf("send after %d bytes: %v", sent, err)
		}
		sent += len(chunk)
	}
	waitFor(t, "slow consumer closed", func() bool { return e.ws.Stats().SlowConsumers == 1 })
	errc := make(chan error, 1)
	e.hs.Net().RunOnLoop(c.Loop(), func() { errc <- e.ws.Send(c, OpBinary, chunk) })
	if err := <-errc; !errors.Is(err, ErrClosing) {
		t.Errorf("send after the close: %v, want ErrClosing", err)
	}
	if st := e.ws.Stats(); st.QueueOverflows != 0 {
		t.Errorf("stats %+v: the hard limit was not reached", st)
	}
	// The client reads again: the backlog, then the close frame.
	n := 0
	for {
		f, err := rc.readFrame()
		if err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
		if f.op == OpClose {
			if code := CloseCode(uint16(f.payload[0])<<8 | uint16(f.payload[1])); code != ClosePolicyViolation || string(f.payload[2:]) != "slow consumer" {
				t.Fatalf("close %d %q", code, f.payload[2:])
			}
			break
		}
		n++
	}
	if n != sent/len(chunk) {
		t.Errorf("%d messages before the close, want %d", n, sent/len(chunk))
	}
	rc.Write(closeFrame(ClosePolicyViolation, ""))
	rc.expectEOF(t)
	e.checkBaseline()
}

// queued returns the bytes c has not sent yet, read on its loop (-1 when
// it is gone).
func (e *env) queued(c netserver.ClientNum) int {
	out := make(chan int, 1)
	if err := e.hs.Net().RunOnLoop(c.Loop(), func() { out <- e.hs.Net().Queued(c) }); err != nil {
		return -1
	}
	return <-out
}

// TestShutdown: Shutdown sends every connection a 1001 close and waits
// for the close handshakes; a peer that never answers makes it wait until
// its context ends; a connection upgraded afterwards is closed too.
func TestShutdown(t *testing.T) {
	e := start(t, Config{CloseTimeout: 10 * time.Second}, 2)
	var cs []*gorilla.Conn
	for i := 0; i < 4; i++ {
		cs = append(cs, e.dialGorilla("/ws", nil))
	}
	silent := e.dialRaw("/sink") // never answers the close
	waitFor(t, "upgrades", func() bool { return e.ws.Stats().Conns == 5 })
	// gorilla answers a close frame when it reads one.
	closed := make(chan error, len(cs))
	for _, c := range cs {
		go func() {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			closed <- err
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := e.ws.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a silent peer: %v, want the deadline", err)
	}
	for range cs {
		var ce *gorilla.CloseError
		if err := <-closed; !errors.As(err, &ce) || ce.Code != gorilla.CloseGoingAway || ce.Text != "server shutting down" {
			t.Errorf("client got %v, want close 1001", err)
		}
	}
	if code, reason := silent.readClose(t); code != CloseGoingAway || reason != "server shutting down" {
		t.Errorf("silent client got close %d %q", code, reason)
	}
	// A connection upgraded after Shutdown began is closed at once.
	late := e.dialRaw("/ws")
	if code, _ := late.readClose(t); code != CloseGoingAway {
		t.Errorf("late client got close %d", code)
	}
	late.Write(closeFrame(CloseGoingAway, ""))
	late.expectEOF(t)
	// Once the silent peer answers, Shutdown completes.
	silent.Write(closeFrame(CloseGoingAway, ""))
	silent.expectEOF(t)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := e.ws.Shutdown(ctx2); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	for _, c := range cs {
		c.Close()
	}
	e.checkBaseline()
}
