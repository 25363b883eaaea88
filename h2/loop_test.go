package h2

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// TestLoopShared: Conns sharing a Loop, fed byte by byte in turn with
// header blocks open across CONTINUATION on each, answer exactly as Conns
// on their own, and one failing leaves the others working.
func TestLoopShared(t *testing.T) {
	build := func(bad bool) []byte {
		cl := newClient().start()
		b := cl.block(append(get("/"), "x-a", "1")...)
		cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:3]})
		cl.fr.WriteContinuation(1, false, b[3:6])
		cl.fr.WriteContinuation(1, true, b[6:])
		if bad {
			cl.fr.WriteRawFrame(http2.FrameWindowUpdate, 0, 0, []byte{1, 2}) // FRAME_SIZE_ERROR
		}
		cl.headers(3, false, post("/up")...)
		cl.fr.WriteData(3, true, []byte("body"))
		cl.fr.WritePing(false, [8]byte{'p'})
		return cl.buf.Bytes()
	}
	inputs := [][]byte{build(false), build(true), build(false)}

	respond := func(c *Conn) func(uint32, bool) {
		return func(id uint32, end bool) {
			c.WriteHeaders(id, status("200"), false)
			c.WriteData(id, []byte("hello"), true)
		}
	}
	alone := make([][]string, len(inputs))
	for i, in := range inputs {
		c, r := newConn(Config{})
		r.onHeaders = respond(c)
		feed(c, in, "whole", nil)
		alone[i] = append(frames(t, r.out.Bytes()), r.events...)
	}

	loop := NewLoop()
	conns := make([]*Conn, len(inputs))
	recs := make([]*recorder, len(inputs))
	for i := range inputs {
		recs[i] = &recorder{}
		conns[i] = loop.NewConn(Config{}, recs[i])
		recs[i].conn = conns[i]
		recs[i].onHeaders = respond(conns[i])
	}
	for off := 0; ; off++ {
		more := false
		for i, in := range inputs {
			if off < len(in) {
				conns[i].Input(in[off : off+1])
				more = true
			}
		}
		if !more {
			break
		}
	}
	for i := range inputs {
		got := append(frames(t, recs[i].out.Bytes()), recs[i].events...)
		if !slices.Equal(got, alone[i]) {
			t.Errorf("conn %d on a shared Loop:\n got %q\nwant %q", i, got, alone[i])
		}
	}
	if code(conns[1].Err()) != "FRAME_SIZE_ERROR" || conns[0].Err() != nil || conns[2].Err() != nil {
		t.Fatalf("errors %v %v %v", conns[0].Err(), conns[1].Err(), conns[2].Err())
	}
}

// TestLoopEncoderStateless: a response encoded on a shared Loop decodes
// with a fresh decoder for any connection, first or not.
func TestLoopEncoderStateless(t *testing.T) {
	loop := NewLoop()
	for i := range 3 {
		r := &recorder{}
		c := loop.NewConn(Config{}, r)
		cl := newClient().start()
		cl.headers(1, true, get("/")...)
		c.Input(cl.buf.Bytes())
		c.WriteHeaders(1, status("200", "content-type", "text/plain", "x-n", "v"), true)
		got := frames(t, r.out.Bytes())
		want := "HEADERS 1 end=true :status=200 content-type=text/plain x-n=v"
		if got[len(got)-1] != want {
			t.Fatalf("conn %d: %q", i, got[len(got)-1])
		}
	}
}

// TestIdleHoldsNothing: after a large request and response, an idle Conn
// keeps no stream map, partial frame, header block or large output.
func TestIdleHoldsNothing(t *testing.T) {
	c, r := newConn(Config{})
	r.onHeaders = func(id uint32, end bool) {
		c.WriteHeaders(id, status("200"), false)
		c.WriteData(id, make([]byte, 20000), true)
	}
	cl := newClient().start()
	cl.headers(1, false, append(post("/"), "x-big", strings.Repeat("x", 8000))...)
	cl.fr.WriteData(1, true, make([]byte, 16000))
	b := cl.buf.Bytes()
	c.Input(b[:len(b)-100]) // a partial frame waits...
	c.Input(b[len(b)-100:]) // ...and completes
	if c.streams != nil || c.in != nil || cap(c.block) > 1<<10 || c.out != nil || len(c.fields) != 0 {
		t.Fatalf("idle Conn holds streams %v, in %d, block %d, out %v, fields %d",
			c.streams, cap(c.in), cap(c.block), c.out != nil, len(c.fields))
	}
}
