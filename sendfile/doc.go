// Package sendfile moves file bytes to a client socket on the client's
// event loop: two linked IORING_OP_SPLICE operations per step (file ->
// pipe -> socket), with a read+send fallback where splice is not
// supported. A transfer is a netserver.Op, queued in the client's output
// stream with netserver.Server.QueueOp, so it goes out after the bytes
// written before it (the response head) and before those written after.
//
// With Config.Direct (or URINGNET_SENDFILE=direct) a transfer instead
// calls sendfile(2) on the loop thread with the socket in non-blocking
// mode, as nginx does, and waits for POLLOUT through the ring when the
// socket buffer is full; a file whose pages are not cached makes that call
// wait for the disk on the loop, which is why it is off by default.
// Config.DirectCached (URINGNET_SENDFILE=cached) goes direct only when
// mincore says the whole range is in the page cache, and splices otherwise.
// TransferHead and TransferFD send a response head first, in the same
// operation (with Direct, in the same segment as the file's first bytes).
//
// Each loop keeps a small pool of pipes. A pipe carries one chain at a
// time (two chains sharing a pipe corrupted data on Linux 6.1); transfers
// beyond the pool wait for a pipe in order. A pipe that may hold leftover
// bytes (a failed or cancelled step) is closed, never reused.
//
// What this package must never do: block the loop, let two transfers
// share a pipe at once, reuse a pipe with bytes left in it, leak a file
// or pipe descriptor, or call a transfer's callback more than once.
package sendfile
