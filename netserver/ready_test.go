package netserver

import (
	"errors"
	"testing"
	"time"
)

// Ready is closed once the loops serve: a client can then connect and be
// answered, and EventOpen works without retrying.
func TestReady(t *testing.T) {
	h := &echoHandler{}
	s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2, Logger: testLogger(t)}, h)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	select {
	case <-s.Ready():
		t.Fatal("Ready before Serve")
	default:
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready after 20 s")
	}
	ev, err := s.EventOpen()
	if err != nil {
		t.Fatalf("EventOpen once ready: %v", err)
	}
	s.EventClose(ev)
	conn := dial(t, s)
	conn.Write([]byte("hi"))
	if got := string(readFull(t, conn, 2)); got != "hi" {
		t.Fatalf("echo %q", got)
	}
	s.Close()
	if err := <-errc; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}
