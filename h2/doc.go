// Package h2 is a socket-free HTTP/2 (RFC 9113) server-side connection
// engine: bytes from the peer go in with [Conn.Input], in any split; what
// the peer must receive comes out through [Events.Output]; requests,
// bodies and resets come out as the other [Events]; responses go in with
// [Conn.WriteHeaders] and [Conn.WriteData]. It is the engine package
// http runs for each HTTP/2 connection (http/h2*.go); [Conn.Upgrade]
// starts one upgraded from HTTP/1.1 ("Upgrade: h2c").
//
// Frames are parsed and written by golang.org/x/net/http2's Framer and
// header blocks by golang.org/x/net/http2/hpack; this package holds the
// connection and stream state machines (RFC 9113 §5.1), flow control and
// the defences.
//
// # Design
//
//   - Input checks the client preface, then that the first frame is
//     SETTINGS. A pre-scan reads each 9-byte frame header before the
//     payload is buffered: a frame over our MAX_FRAME_SIZE is a
//     FRAME_SIZE_ERROR at once. Only whole frames reach the Framer; a
//     partial one is copied into a buffer of at most 9 + MaxFrameSize
//     bytes. A header block is gathered across CONTINUATION frames (at
//     most MaxHeaderBlock bytes and MaxBlockFrames frames) and decoded
//     whole.
//
//   - The Conns of one event loop share a [Loop]: one Framer (reading one
//     whole frame at a time from a swapped slice, writing into the output
//     of the Conn at hand; replaced after a read error) and one HPACK
//     encoder with a dynamic table of size 0, which never indexes, so its
//     output suits every peer. Frame order (CONTINUATION right after its
//     HEADERS) is checked per Conn, since frames of many connections pass
//     through the Framer. Each Conn keeps its own HPACK decoder. NewConn
//     makes a Conn with a Loop of its own.
//
//   - A header list over MaxHeaderListSize is decoded to its end (the
//     dynamic table stays in step) with emission off, and the engine
//     answers 431 itself; the owner never sees the request.
//
//   - Receive flow control: the owner calls Consumed for the bytes of
//     every Data event; WINDOW_UPDATE goes out when half a window is owed
//     (none for a stream after END_STREAM or while paused by Pause).
//
//   - Send flow control: WriteData writes what the windows allow and says
//     how much; WindowOpened asks for the rest. Priorities are ignored
//     (RFC 9113 §5.3.2; SETTINGS_NO_RFC7540_PRIORITIES=1), except that a
//     self-dependency is a stream error.
//
//   - Defences, each counted in [Stats]: rapid reset, CONTINUATION flood,
//     HPACK bomb, SETTINGS and PING floods, empty-frame floods, too many
//     streams, and zero-window stalls.
//
//   - Timeouts run from Tick: zero-window stalls (StallTimeout), our
//     unacknowledged SETTINGS (SettingsTimeout), a late preface and an
//     unfinished header block (HeaderTimeout), and the wait for the ACK of
//     Shutdown's PING (ShutdownTimeout).
//
//   - Shutdown ends gracefully in two steps (RFC 9113 §6.8): GOAWAY naming
//     2^31-1 and a PING, then, at its ACK, the final GOAWAY naming the last
//     stream processed. Streams the peer sent before it read the first are
//     served, and the socket is not closed under requests still on their
//     way.
//
// Left out: a write scheduler (the owner decides the order of WriteData;
// DATA payloads are copied through the Framer, not framed apart), RFC 8441
// extended CONNECT, and the idle timeout (the owner's, with Streams and
// Shutdown).
//
// # What it must never do
//
// A Conn never blocks, never starts a goroutine, never holds more input
// than one partial frame and one header block within the configured
// bounds (an idle Conn holds neither, nor a large output buffer), and
// never panics on any input: every protocol violation ends as RST_STREAM
// or GOAWAY (FuzzInput checks this, and that the output always parses).
// It keeps no global mutable state; its clock is Config.Now and Tick's
// argument.
package h2
