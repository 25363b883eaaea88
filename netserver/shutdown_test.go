package netserver

import (
	"io"
	"testing"
	"time"
)

// ShutdownWrite sends what was queued, then end of file; the client can
// still be read from.
func TestShutdownWrite(t *testing.T) {
	accepted := make(chan ClientNum, 1)
	h := &echoHandler{reads: make(chan readResult, 4)}
	s := startServer(t, Config{Loops: 1}, &acceptRecorder{echoHandler: h, ch: accepted})
	h.s = s
	conn := dial(t, s)
	c := <-accepted
	s.Send(c, []byte("last words"))
	if err := s.ShutdownWrite(c); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "last words" {
		t.Fatalf("read %q, %v; want the queued bytes, then EOF", got, err)
	}
	conn.Write([]byte("still reading"))
	if r := <-h.reads; r.failed || r.data != "still reading" {
		t.Fatalf("after the half-close: %+v", r)
	}
}
