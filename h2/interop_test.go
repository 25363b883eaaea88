package h2

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// echoServer is an owner that answers GET /N with N bytes and POST with
// the request body, pumping DATA as the windows allow. It runs on the
// goroutine that calls Input, as a loop would.
type echoServer struct {
	c       *Conn
	nc      net.Conn
	out     chan []byte       // to the writer goroutine: the pipe has no buffer
	bodies  map[uint32][]byte // request bodies being received
	pending map[uint32][]byte // response bodies not yet written
}

func (e *echoServer) Headers(id uint32, fields []hpack.HeaderField, end bool) {
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

func (e *echoServer) Output(b []byte) { e.out <- bytes.Clone(b) }
func (e *echoServer) Closed(error)    {}

// TestInterop runs x/net's HTTP/2 client against the engine over a pipe:
// concurrent GETs and POSTs with bodies larger than every window.
func TestInterop(t *testing.T) {
	cside, sside := net.Pipe()
	e := &echoServer{nc: sside, out: make(chan []byte, 1<<16), bodies: map[uint32][]byte{}, pending: map[uint32][]byte{}}
	go func() {
		for b := range e.out {
			sside.Write(b)
		}
	}()
	e.c = NewConn(Config{InitialWindow: 20000, ConnWindow: 70000}, e)
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
	tr := &http2.Transport{}
	cc, err := tr.NewClientConn(cside)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			n := i * 25000
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://example.com/%d", n), nil)
			resp, err := cc.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(b) != n || n > 0 && b[n-1] != byte((n-1)*7) {
				errs <- fmt.Errorf("GET %d: %d bytes, %v", n, len(b), err)
			}
		}()
		go func() {
			defer wg.Done()
			body := bytes.Repeat([]byte{byte(i)}, i*30000+1)
			req, _ := http.NewRequest("POST", "http://example.com/echo", bytes.NewReader(body))
			resp, err := cc.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
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
	if s := e.c.Stats(); s.Streams != 40 || s.ProtocolErrors != 0 {
		t.Errorf("stats %+v", s)
	}
}
