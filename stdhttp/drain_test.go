package stdhttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Shutdown drains: an idle keep-alive connection is closed (long before
// its IdleTimeout), a slow handler's response in flight goes out whole and
// closes its connection, and Shutdown returns nil after them.
func TestShutdownDrains(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	const parts = 5
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		for i := range parts {
			io.WriteString(w, strings.Repeat(string(rune('a'+i)), 1000))
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	s := &Server{Handler: mux, IdleTimeout: 10 * time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.Native.Net.Addrs = []string{"127.0.0.1:0"}
	s.Native.Net.Loops = 1
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	defer s.Close()
	<-s.Ready()
	addr := s.BoundAddr().String()

	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		return c, bufio.NewReader(c)
	}
	// The idle one: a keep-alive response, then nothing.
	idle, idleR := dial()
	io.WriteString(idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(idleR, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "hello" || resp.Close {
		t.Fatalf("before the shutdown: %q, close %v", b, resp.Close)
	}
	// The slow one: its handler runs when the shutdown begins.
	slow, slowR := dial()
	io.WriteString(slow, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	for !s.Uringnet().Draining() {
		time.Sleep(time.Millisecond)
	}
	close(release)
	resp, err = http.ReadResponse(slowR, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	want := ""
	for i := range parts {
		want += strings.Repeat(string(rune('a'+i)), 1000)
	}
	if err != nil || string(body) != want {
		t.Fatalf("the slow response: %d bytes, %v; want %d bytes", len(body), err, len(want))
	}
	if !resp.Close {
		t.Error("the slow response did not close its connection")
	}
	for _, r := range []*bufio.Reader{slowR, idleR} {
		if rest, err := io.ReadAll(r); err != nil || len(rest) > 0 {
			t.Errorf("after the last response: %q, %v; want an end of file", rest, err)
		}
	}
	slow.Close()
	idle.Close()
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if c := s.Uringnet().Counters(); c.DrainClosed != 1 || c.IdleTimeouts != 0 {
		t.Errorf("native counters %+v: want the idle connection closed by the drain", c)
	}
}
