// Package netserver runs the event loops: each loop owns one backend (an
// io_uring, or the epoll proactor where io_uring is refused; see package
// backend and Config.Backend), one OS thread, a SO_REUSEPORT listener per address, a table of clients and a
// table of tasks in flight. It accepts connections, reads them with
// multishot recv into provided buffers (no per-connection read buffer),
// writes with one send in flight per client (everything a batch of
// completions wrote to a client coalesced into one send), and dispatches
// every completion to a Handler callback that carries the client number and
// a failed flag.
//
// Every Server method is safe from any goroutine. Called from a callback,
// it goes straight onto the loop's ring; called from elsewhere, it is handed
// to the loop through a queue and an eventfd wake-up. All operations a batch of
// completions produced go to the kernel in one io_uring_enter.
//
// A ClientNum carries a generation: once a client is closed, its number
// stays dead even when the fd and the slot are reused, so a late write fails
// (failed=true) instead of reaching the next client. Every fd opened is
// closed exactly once, after the last operation on it has completed.
//
// Writes to one client leave in call order, whatever mix of RawWrite,
// Send, QueueOp and linked groups issued them. What a client can make the
// server hold is bounded: a client whose output backlog reaches
// Config.MaxQueued is no longer read until it drains (Congested, Drainer),
// and a loop past its share of Config.MaxMemory reads nobody. RawClose
// carries the cause of each close; SetHandler hands a client to another
// Handler (a protocol upgrade); Table keeps a layer's per-client state.
//
// With Config.TLS every accepted connection speaks TLS through crypto/tls
// (tls.go): the handshake runs on a goroutine of its own, at most
// MaxHandshakes at once and within HandshakeTimeout, and the Handler gets
// Accept when it has ended well; from then on the loop opens the records
// it reads and seals what is written, with no goroutine per connection,
// or hands sealing to the kernel (kernel TLS, ktls.go) where it can, so
// that files still leave by splice or sendfile.
//
// A virtual client (a stream, stream.go) is a ClientNum of its parent's
// loop with no fd, for protocols that multiplex one connection (HTTP/2):
// NewStream makes it, every call keyed by a ClientNum works on it, and
// what it writes is offered, in order and up to its next custom Op, to its
// StreamSink instead of a socket; taking bytes completes writes as a send
// would. RawClose and Abort end it (StreamEnd), and closing the parent
// aborts its streams. Streams take client table slots but are not
// connections (Stats.Streams, StreamsOpen), and have their own congestion
// threshold, Config.StreamMaxQueued.
//
// The loop describes operations (package ops) and reads CQEs whichever
// backend runs them; it never asks which one does (Probe tells what a backend has).
//
// What this package must never do: switch on the backend's identity, block a loop (a TLS handshake
// included), write crypto of its own (crypto/tls opens and seals), hold an unbounded amount
// of memory for one client, let a panicking callback
// take the server down (the client is closed, the panic logged and
// counted), exit on EMFILE, or free a buffer the kernel may still use.
package netserver
