package http

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/uringnet/uringnet/h2"
	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2conn is one HTTP/2 connection: the engine, the socket (the parent
// client) and its streams, each a virtual client of netserver with an
// ordinary conn in s.conns. It lives on the parent's loop.
type h2conn struct {
	s       *Server
	ls      *loopState
	c       netserver.ClientNum // the socket
	conn    *h2.Conn
	streams map[uint32]netserver.ClientNum
	lastID  uint32 // the last stream begun: a HEADERS on one at or below it is trailers
	// discard are streams answered before their request body ended: the
	// rest is read and dropped, up to discardMax bytes, then refused with
	// RST_STREAM(NO_ERROR) (RFC 9113 §8.1).
	discard map[uint32]int
	// waiting are streams that stopped taking output while the socket's
	// backlog was over its limit; RawDrained offers them again.
	waiting []netserver.ClientNum
	idle    int64    // unix nanos: when the last stream ended (or the start)
	closing bool     // Closed was reported: the socket closes after its output
	counted h2.Stats // the engine's counters as last added to the server's
}

// count adds to the server's counters what the engine counted since the
// last call: at every tick and at the end, so that they are live.
func (hc *h2conn) count() {
	st := hc.conn.Stats()
	hc.s.h2cnt.add(st, hc.counted)
	hc.counted = st
}

// h2Raw is the Server as the netserver.Handler of HTTP/2 sockets.
type h2Raw Server

// h2Start turns the HTTP/1.1 connection cn into an HTTP/2 one, fed rest
// (the client preface and what followed). It runs on cn's loop, outside
// the connection's input loop.
func (s *Server) h2Start(ls *loopState, cn *conn, rest []byte) {
	c, up := cn.c, cn.h2up
	var data []byte
	if len(rest) > 0 {
		data = append(ls.h2in[:0], rest...)
	}
	hc := s.h2Begin(ls, cn)
	if hc == nil {
		return
	}
	if up != nil {
		if err := hc.conn.Upgrade(up.settings, up.fields); err != nil {
			s.log.Debug("http2: upgrade", "client", c.String(), "err", err)
			hc.conn.GoAway(http2.ErrCodeProtocol)
			return
		}
	} else {
		hc.conn.Start()
	}
	if len(data) > 0 {
		hc.conn.Input(data)
		ls.h2in = data[:0]
	}
}

// h2Begin releases the HTTP/1.1 connection cn and makes the HTTP/2 state
// of its socket in its place; the caller starts the engine.
func (s *Server) h2Begin(ls *loopState, cn *conn) *h2conn {
	c := cn.c
	s.release(ls, cn)
	s.open.Add(1) // release dropped it: the HTTP/2 connection counts instead
	if err := s.ns.SetHandler(c, (*h2Raw)(s)); err != nil {
		s.open.Add(-1)
		return nil
	}
	if ls.h2 == nil {
		ls.h2 = h2.NewLoop()
		ls.h2conns = make(map[netserver.ClientNum]*h2conn)
	}
	hc := &h2conn{s: s, ls: ls, c: c, idle: s.ns.Now(c).UnixNano()}
	hc.conn = ls.h2.NewConn(s.h2cfg, hc)
	ls.h2conns[c] = hc
	s.h2cnt.conns.Add(1)
	s.h2cnt.connsOpen.Add(1)
	return hc
}

// Accept implements netserver.Handler (never called: an HTTP/2 socket
// was accepted as HTTP/1.1).
func (r *h2Raw) Accept(netserver.ClientNum) {}

// RawRead feeds the engine.
func (r *h2Raw) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	s := (*Server)(r)
	ls := &s.loops[c.Loop()]
	if hc := ls.h2conns[c]; hc != nil && !failed {
		hc.conn.Input(data)
	}
}

// RawReadv implements netserver.Handler.
func (r *h2Raw) RawReadv([][]byte, netserver.ClientNum, bool) {}

// RawWrite implements netserver.Handler (the engine's output is copied with Send).
func (r *h2Raw) RawWrite([]byte, netserver.ClientNum, bool) {}

// RawWritev implements netserver.Handler.
func (r *h2Raw) RawWritev([][]byte, netserver.ClientNum, bool) {}

// RawDrained offers the output of the streams that waited for the
// socket's backlog (netserver.Drainer).
func (r *h2Raw) RawDrained(c netserver.ClientNum) {
	s := (*Server)(r)
	hc := s.loops[c.Loop()].h2conns[c]
	if hc == nil {
		return
	}
	w := hc.waiting
	hc.waiting = nil
	for _, sc := range w {
		s.h2Ready(sc)
	}
	if cap(w) <= 64 && hc.waiting == nil {
		hc.waiting = w[:0]
	}
}

// RawClose ends every stream and forgets the connection.
func (r *h2Raw) RawClose(c netserver.ClientNum, cause error) {
	s := (*Server)(r)
	ls := &s.loops[c.Loop()]
	hc := ls.h2conns[c]
	if hc == nil {
		return
	}
	delete(ls.h2conns, c)
	for _, sc := range hc.streams {
		s.ns.Abort(sc)
	}
	hc.count()
	s.h2cnt.connsOpen.Add(-1)
	s.open.Add(-1)
}

// EventTrigger implements netserver.Handler.
func (r *h2Raw) EventTrigger(netserver.ClientNum, uint64) {}

// EventErrorClose implements netserver.Handler.
func (r *h2Raw) EventErrorClose(netserver.ClientNum, uint64) {}

// h2Tick runs the engine's timers and the idle timeout of loop's HTTP/2
// connections, and during a drain sends them GOAWAY.
func (s *Server) h2Tick(ls *loopState, now time.Time, draining bool) {
	t := now.UnixNano()
	for _, hc := range ls.h2conns {
		hc.conn.Tick(now)
		hc.count()
		if hc.closing || hc.conn.ShuttingDown() {
			continue
		}
		if draining && s.closeDue(hc.c) {
			hc.endDiscards()
			hc.conn.Shutdown()
			continue
		}
		if len(hc.streams) == 0 && s.set.idleTimeout > 0 && t-hc.idle > int64(s.set.idleTimeout) &&
			!s.ns.Sending(hc.c) {
			s.cnt.idleTimeouts.Add(1)
			hc.endDiscards()
			hc.conn.Shutdown()
		}
	}
}

// Output implements h2.Events: the engine's bytes go to the socket.
func (hc *h2conn) Output(b []byte) {
	hc.s.ns.Send(hc.c, b)
}

// Closed implements h2.Events: the socket closes once its output is out.
func (hc *h2conn) Closed(err error) {
	hc.closing = true
	var ce *h2.ConnError
	if errors.As(err, &ce) {
		hc.s.ns.SetCloseCause(hc.c, err)
		hc.s.log.Debug("http2: connection error", "client", hc.c.String(), "err", err)
	}
	for _, sc := range hc.streams {
		hc.s.ns.Abort(sc)
	}
	hc.s.ns.RawClose(hc.c)
}

// WindowOpened implements h2.Events: a stream may write again.
func (hc *h2conn) WindowOpened(id uint32) {
	if sc, ok := hc.streams[id]; ok {
		hc.s.h2Ready(sc)
	}
}

// Reset implements h2.Events: the stream is dead; its handler sees it
// closed (HTTPClose).
func (hc *h2conn) Reset(id uint32, code http2.ErrCode) {
	sc, ok := hc.streams[id]
	if !ok {
		delete(hc.discard, id)
		return
	}
	delete(hc.streams, id)
	hc.s.ns.SetCloseCause(sc, http2.StreamError{StreamID: id, Code: code})
	hc.s.ns.Abort(sc)
}

// Headers implements h2.Events: a new request, or its trailers.
func (hc *h2conn) Headers(id uint32, fields []hpack.HeaderField, end bool) {
	if id <= hc.lastID {
		// Trailers are dropped (the handler API has none for requests);
		// their END_STREAM ends the body.
		if sc, ok := hc.streams[id]; ok {
			if end {
				hc.s.h2Body(hc, sc, nil, true)
			}
		} else if end {
			delete(hc.discard, id)
		}
		return
	}
	hc.lastID = id
	hc.s.h2Request(hc, id, fields, end)
}

// discardMax is the most request body read and dropped after its
// response ended before the stream is refused.
const discardMax = 64 << 10

// discarded counts body bytes for a stream whose response ended.
func (hc *h2conn) discarded(id uint32, n int, end bool) {
	d, ok := hc.discard[id]
	if !ok {
		return
	}
	d += n
	switch {
	case end:
		delete(hc.discard, id)
	case d > discardMax:
		delete(hc.discard, id)
		hc.conn.WriteReset(id, http2.ErrCodeNo)
	default:
		hc.discard[id] = d
	}
}

// endDiscards refuses every stream still being discarded.
func (hc *h2conn) endDiscards() {
	for id := range hc.discard {
		hc.conn.WriteReset(id, http2.ErrCodeNo)
	}
	clear(hc.discard)
}

// Data implements h2.Events: request body bytes.
func (hc *h2conn) Data(id uint32, p []byte, end bool) {
	if sc, ok := hc.streams[id]; ok {
		if hc.s.h2Body(hc, sc, p, end) {
			return // credited as the stream's conn takes it (h2Credit)
		}
	} else {
		hc.discarded(id, len(p), end)
	}
	hc.conn.Consumed(id, len(p))
}

// h2Cleartext reports whether a cleartext connection may turn HTTP/2.
func (s *Server) h2Cleartext() bool {
	return !s.cfg.HTTP2.Disable && !s.cfg.HTTP2.NoCleartext && s.cfg.Net.TLS == nil
}

// isPreface reports whether in starts the client connection preface
// (ok), and whether all of it is there (full).
func isPreface(in []byte) (ok, full bool) {
	n := min(len(in), len(h2.ClientPreface))
	if string(in[:n]) != h2.ClientPreface[:n] {
		return false, false
	}
	return true, n == len(h2.ClientPreface)
}

// notHTTP reports whether in's first line is complete and has three
// tokens, the last of which is no HTTP version in any case ("INVALID
// CONNECTION PREFACE", a mangled HTTP/2 preface, say): the client speaks
// another protocol, and an HTTP/1.1 400 would be garbage to it. Other
// malformed lines get their 400.
func notHTTP(in []byte) bool {
	i := bytes.IndexByte(in, '\n')
	if i < 0 {
		return false
	}
	f := bytes.Fields(in[:i])
	return len(f) == 3 && !bytes.HasPrefix(bytes.ToUpper(f[2]), []byte("HTTP/"))
}

// h2GoAway starts the graceful end of every HTTP/2 connection and waits,
// within ctx, until they have ended: their streams finished, and their
// clients read the first GOAWAY (or ShutdownTimeout passed), so that a
// request on its way is not lost on a closed socket (Shutdown's graceful
// part).
func (s *Server) h2GoAway(ctx context.Context) {
	if s.h2cnt.connsOpen.Load() == 0 {
		return
	}
	for i := range s.loops {
		s.ns.RunOnLoop(i, func() {
			for _, hc := range s.loops[i].h2conns {
				hc.endDiscards()
				hc.conn.Shutdown()
			}
		})
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for s.h2cnt.connsOpen.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-s.ended:
			return
		case <-t.C:
		}
	}
}
