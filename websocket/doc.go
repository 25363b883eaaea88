// Package websocket implements the WebSocket protocol (RFC 6455): the frame
// codec, an incremental server-side decoder, the opening handshake checks
// and the permessage-deflate extension (RFC 7692) as pure code, and a
// Server that runs WebSocket connections on the io_uring event loops.
//
// The package is modelled on gobwas/ws: the frame codec (frame.go, mask.go,
// utf8.go, decoder.go) is kept apart from the upgrade (handshake.go) and the
// compression extension (deflate.go), and it avoids copies wherever the
// protocol allows. The codec performs no I/O.
//
// # Server
//
// On top of the codec, [Server] (server.go, conn.go, broadcast.go) runs
// WebSocket connections on the event loops of an [http.Server]: Upgrade
// answers the handshake from an HTTPRead callback and detaches the
// connection from HTTP; from then on its frames are decoded and encoded on
// its loop, and a [Handler] gets WebSocketRead (one whole message; its type
// from Server.MessageType), WebSocketWrite, WebSocketWritev and
// WebSocketClose. Server.Send copies, Write and Writev do not (their
// callbacks say when the data is free), Close runs the close handshake with
// a timeout, and Broadcast encodes a message once into a reference-counted
// buffer that every connection's send shares (a frame smaller than
// QueuedWriteCost is copied instead, coalesced with the connection's other
// copies). The shares of other loops are handed over in batches, with no
// allocation per message, and a loop more than MaxHandoverBytes behind gets
// none (Broadcast returns ErrBusy). Pings are answered, idle connections pinged, protocol errors
// answered with their close code, a message that takes longer than
// Config.MessageTimeout to arrive is cut off with 1008, and Shutdown closes
// every connection with 1001 and waits for the close handshakes.
//
// # Slow consumers
//
// Each connection's send queue (what was written and not yet taken by the
// kernel) is counted at its real cost: its bytes plus QueuedWriteCost for
// every write waiting with its own bookkeeping (a shared broadcast frame, a
// Write or a Writev), so a flood of tiny messages counts for the memory it
// holds. The policy separates a reader that is behind in a burst from one
// that does not read:
//
//   - Config.MaxQueuedBytes (1 MiB) is a soft limit. A connection may go
//     over it; while it is over, the kernel must take some of its bytes at
//     least every Config.StallTimeout (10 s), checked on every tick, or it
//     is a slow consumer: closed with 1008 "slow consumer"
//     (Stats.SlowConsumers).
//   - Config.HardQueuedBytes (twice the soft limit) bounds the memory a
//     connection holds: a write that would take it over is not queued and
//     the connection is closed with 1008 "send queue full", or cut off at
//     once when its backlog alone is over it (Stats.QueueOverflows).
//
// A reader that keeps reading makes progress and is never cut off for a
// burst below the hard limit; a client that never reads is closed at the
// latest StallTimeout after its queue passed the soft limit. Writes never
// wait for a connection, so neither ever delays the others.
//
// # Decoding
//
// A [Decoder] consumes the bytes a client sends, split in any way the network
// delivers them, and yields one [Event] per call: a complete data message, a
// ping, a pong or a close. Violations of RFC 6455 are reported as a
// [*ProtocolError] that carries the close code to send before closing the
// connection (1002, 1007 or 1009). The rules follow RFC 6455 strictly, as the
// Autobahn testsuite reads it: client frames must be masked, reserved bits and
// opcodes are rejected, control frames must be final and at most 125 bytes,
// text must be valid UTF-8 (checked incrementally, failing as soon as a byte
// makes the text invalid) and messages are limited in size as soon as a frame
// header announces too much.
//
// The decoder is zero-copy where it can be: an unfragmented message whose
// whole frame is present in the input is unmasked in place and returned as a
// subslice of that input. Fragmented messages and frames split across reads
// are copied into the decoder's own buffer. Either way a returned payload is
// valid only until the next call to the decoder, and only while the caller
// leaves the input untouched.
//
// # Close codes
//
// [ValidCloseCode] accepts 1000-1003, 1007-1011, 1012-1014 and 3000-4999.
// RFC 6455 marks 1012-1014 as reserved, but they have since been registered
// with IANA (Service Restart, Try Again Later, Bad Gateway) and the current
// Autobahn testsuite no longer lists them among the invalid codes, so they
// are accepted. 1004-1006 and 1015 are never valid on the wire.
//
// # Compression
//
// permessage-deflate is off unless [UpgradeOptions].Compression is set. The
// context takeover policy is the simplest correct one: the server always
// answers server_no_context_takeover and client_no_context_takeover, so
// every message is compressed and decompressed on its own with a fresh
// (reset) compressor. A [Compressor] or [Decompressor] therefore holds no
// per-connection state and one of each may be shared by every connection of
// an event loop. Go's compress/flate always uses a 32 KiB window, so offers
// that ask the server to use a smaller window (server_max_window_bits < 15)
// are declined; client_max_window_bits is accepted with any value because a
// 32 KiB window can inflate any smaller one. Decompression is bounded by the
// message size limit, so a small "zip bomb" never allocates without bound.
//
// # What this package must never do
//
// The codec must never perform I/O, start goroutines, keep global mutable
// state or depend on the http and netserver packages (only the Server files
// do). The Server must never block a loop, start goroutines, or let one
// connection's backlog delay another. Nothing may panic on input
// from the network, allocate on the hot path of decoding a complete
// unfragmented message, or hand out a slice that outlives the next call
// without saying so.
package websocket
