package h2

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// echoServer is an owner that answers GET /N with N bytes and POST with
// the request body, pumping DATA as the windows allow. It runs on the
// goroutine that calls Input, as a loop would.
type echoServer struct {
	c        *Conn
	nc       net.Conn
	out      chan []byte       // to the writer goroutine: the pipe has no buffer
	bodies   map[uint32][]byte // request bodies being received
	pending  map[uint32][]byte // response bodies not yet written
	trailers []string          // x-sum of request trailers
	closed   chan error
}

func (e *echoServer) Headers(id uint32, fields []hpack.HeaderField, end bool) {
	if body, ok := e.bodies[id]; ok { // trailers
		e.trailers = append(e.trailers, fieldValue(fields, "x-sum"))
		e.respond(id, body)
		delete(e.bodies, id)
		return
	}
	if fieldValue(fields, ":path") == "/shutdown" {
		e.respond(id, []byte("bye"))
		e.c.Shutdown()
		return
	}
	if fieldValue(fields, ":method") == "POST" {
		e.bodies[id] = []byte{}
		if end {
			e.respond(id, nil)
		}
		return
	}
	n, _ := strconv.Atoi(fieldValue(fields, ":path")[1:])
	body := make([]byte, n)
	for i := range body {
		body[i] = byte(i * 7)
	}
	e.respond(id, body)
}

func (e *echoServer) Data(id uint32, p []byte, end bool) {
	e.bodies[id] = append(e.bodies[id], p...)
	e.c.Consumed(id, len(p))
	if end {
		e.respond(id, e.bodies[id])
		delete(e.bodies, id)
	}
}

func (e *echoServer) respond(id uint32, body []byte) {
	e.c.WriteHeaders(id, status("200", "content-length", strconv.Itoa(len(body))), len(body) == 0)
	if len(body) > 0 {
		e.pending[id] = body
		e.WindowOpened(id)
	}
}

func (e *echoServer) Reset(id uint32, code http2.ErrCode) { delete(e.pending, id) }

func (e *echoServer) WindowOpened(id uint32) {
	rest := e.pending[id]
	n, err := e.c.WriteData(id, rest, true)
	if err != nil || n == len(rest) {
		delete(e.pending, id)
		return
	}
	e.pending[id] = rest[n:]
}

func (e *echoServer) Output(b []byte)  { e.out <- bytes.Clone(b) }
func (e *echoServer) Closed(err error) { e.closed <- err }

// startEcho runs an echoServer on a goroutine, as a loop would, and
// returns x/net's client connected to it over a pipe, and a channel closed
// when the server's loop ends.
func startEcho(t *testing.T, cfg Config) (*echoServer, *http2.ClientConn, chan struct{}) {
	cside, sside := net.Pipe()
	e := &echoServer{nc: sside, out: make(chan []byte, 1<<16), bodies: map[uint32][]byte{},
		pending: map[uint32][]byte{}, closed: make(chan error, 1)}
	go func() {
		for b := range e.out {
			sside.Write(b)
		}
	}()
	e.c = NewConn(cfg, e)
	done := make(chan struct{})
	go func() { // the loop
		defer close(done)
		buf := make([]byte, 3000)
		for {
			n, err := sside.Read(buf)
			if err != nil {
				return
			}
			if err := e.c.Input(buf[:n]); err != nil {
				t.Errorf("Input: %v", err)
				sside.Close()
				return
			}
		}
	}()
	tr := &http2.Transport{StrictMaxConcurrentStreams: true} // wait for a slot, do not fail
	cc, err := tr.NewClientConn(cside)
	if err != nil {
		t.Fatal(err)
	}
	return e, cc, done
}

// TestInterop runs x/net's HTTP/2 client against the engine: concurrent
// GETs and POSTs with bodies larger than every window, more streams than
// MAX_CONCURRENT_STREAMS allows at once.
// roundTrip sends req on cc and reads the whole response body.
func roundTrip(cc *http2.ClientConn, req *http.Request) ([]byte, error) {
	resp, err := cc.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestInterop(t *testing.T) {
	e, cc, done := startEcho(t, Config{InitialWindow: 20000, ConnWindow: 70000, MaxConcurrentStreams: 5})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			n := i * 25000
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://example.com/%d", n), nil)
			b, err := roundTrip(cc, req)
			if err != nil || len(b) != n || n > 0 && b[n-1] != byte((n-1)*7) {
				errs <- fmt.Errorf("GET %d: %d bytes, %v", n, len(b), err)
			}
		}()
		go func() {
			defer wg.Done()
			body := bytes.Repeat([]byte{byte(i)}, i*30000+1)
			req, _ := http.NewRequest("POST", "http://example.com/echo", bytes.NewReader(body))
			b, err := roundTrip(cc, req)
			if err != nil || !bytes.Equal(b, body) {
				errs <- fmt.Errorf("POST %d: %d bytes back, %v", len(body), len(b), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cc.Close()
	<-done
	close(e.out)
	if s := e.c.Stats(); s.Streams != 40 || s.ProtocolErrors != 0 || s.RefusedStreams != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestInteropTrailersShutdown: request trailers reach the owner; Shutdown
// lets the stream in flight finish, then the connection ends cleanly.
func TestInteropTrailersShutdown(t *testing.T) {
	e, cc, done := startEcho(t, Config{})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://example.com/echo", pr)
	req.Trailer = http.Header{"X-Sum": nil}
	go func() {
		pw.Write([]byte("abc"))
		req.Trailer.Set("X-Sum", "3")
		pw.Close()
	}()
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "abc" || len(e.trailers) != 1 || e.trailers[0] != "3" {
		t.Fatalf("body %q, trailers %q", b, e.trailers)
	}

	req, _ = http.NewRequest("GET", "http://example.com/shutdown", nil)
	resp, err = cc.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "bye" {
		t.Fatalf("body %q", b)
	}
	req, _ = http.NewRequest("GET", "http://example.com/late", nil)
	if _, err := cc.RoundTrip(req); err == nil {
		t.Fatal("a request after GOAWAY succeeded")
	}
	// The client, idle after the GOAWAY, closes the connection before its
	// ACK of Shutdown's PING gets through: the loop ends, and the engine
	// ends the shutdown at ShutdownTimeout.
	cc.Close()
	<-done
	e.c.Tick(time.Now().Add(DefaultShutdownTimeout + time.Second))
	if err := <-e.closed; err != nil {
		t.Fatalf("Closed(%v)", err)
	}
	close(e.out)
}

// TestInteropCancel: requests the client cancels mid-body reach the owner
// as Reset events, within the rapid-reset cap, and the connection goes on.
func TestInteropCancel(t *testing.T) {
	e, cc, done := startEcho(t, Config{})
	for range 5 {
		// Larger than the client's 4 MiB stream window: the response
		// waits for window when the client cancels.
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.com/4500000", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadFull(resp.Body, make([]byte, 1000))
		cancel()
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", "http://example.com/5", nil)
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 5 {
		t.Fatalf("%d bytes after the cancellations", len(b))
	}
	cc.Close()
	<-done
	close(e.out)
	if s := e.c.Stats(); s.ResetsReceived != 5 || s.RapidResets != 0 || e.c.Err() != nil {
		t.Fatalf("stats %+v, Err %v", s, e.c.Err())
	}
}
