package http

import (
	"bytes"
	"io"
	"log/slog"
	"testing"

	"github.com/uringnet/uringnet/h2"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Recorder is an h2.Events that keeps the engine's output.
type h2Recorder struct{ out bytes.Buffer }

func (r *h2Recorder) Headers(uint32, []hpack.HeaderField, bool) {}
func (r *h2Recorder) Data(uint32, []byte, bool)                 {}
func (r *h2Recorder) Reset(uint32, http2.ErrCode)               {}
func (r *h2Recorder) WindowOpened(uint32)                       {}
func (r *h2Recorder) Output(b []byte)                           { r.out.Write(b) }
func (r *h2Recorder) Closed(error)                              {}

// openStream returns an engine with stream 1 open (a GET, complete) and
// the translator state for it.
func openStream(t testing.TB, head bool) (*Server, *loopState, *h2stream, *h2Recorder) {
	rec := &h2Recorder{}
	c := h2.NewConn(h2.Config{}, rec)
	var in bytes.Buffer
	in.WriteString(h2.ClientPreface)
	fr := http2.NewFramer(&in, nil)
	fr.WriteSettings()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "x"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
	if err := c.Input(in.Bytes()); err != nil {
		t.Fatal(err)
	}
	rec.out.Reset()
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ls := &loopState{}
	st := &h2stream{hc: &h2conn{s: s, ls: ls, conn: c}, id: 1, headReq: head, reqEnded: true}
	return s, ls, st, rec
}

// FuzzH2Output feeds any handler output, split anywhere, to the
// translator: it never panics, never takes more than it is given, and
// what it writes is a valid frame sequence.
func FuzzH2Output(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nConnection: close\r\n\r\nbody until the end",
		"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\ndropped",
		"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nKeep-Alive: timeout=5\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		f.Add([]byte(seed), uint8(7), false)
	}
	f.Fuzz(func(t *testing.T, out []byte, split uint8, head bool) {
		s, ls, st, rec := openStream(t, head)
		at := 0
		if len(out) > 0 {
			at = int(split) % len(out)
		}
		for _, piece := range [][]byte{out[:at], out[at:]} {
			n, more := s.h2Take(ls, st, piece)
			if n < 0 || n > len(piece) {
				t.Fatalf("took %d of %d", n, len(piece))
			}
			if !more {
				break // the window is used up
			}
		}
		fr := http2.NewFramer(nil, &rec.out)
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		for {
			if _, err := fr.ReadFrame(); err != nil {
				if err != io.EOF {
					t.Fatalf("output does not parse: %v", err)
				}
				return
			}
		}
	})
}
