// Package stdhttp runs net/http handlers on uringnet's event loops: any
// [net/http.Handler] (ServeMux, chi, gorilla/mux, promhttp, pprof) serves
// through uringnet's HTTP server, behind its strict parser.
//
// [Server] is the common case, shaped like net/http's Server;
// [ListenAndServe] is the one-liner. [Handler] is the same adapter as an
// [http.HTTPHandler], for a native server that serves some routes with
// net/http handlers (the demo's /metrics).
//
// What runs where: the loops parse requests, read bodies and write
// responses; each handler runs on a goroutine of its own, so a handler
// that blocks (a database call, a time.Sleep) holds up nothing else. At
// most MaxHandlers run at once; a request over the bound waits, and its
// connection is not read meanwhile (backpressure, not an unbounded
// queue). Pipelined requests on one connection are answered in order:
// the next is parsed only once the response to the one before has ended.
//
// Request bodies stream from the loop to the handler through a bounded
// buffer; a full buffer pauses reading from the client (and the body
// timeout, which counts only time spent waiting for the client). A response
// that fits in 2 KiB and ends with the handler goes out in one write with
// a Content-Length, as net/http sends it; a larger or flushed one is
// chunked (HTTP/1.1) or ended by closing the connection (HTTP/1.0), and the
// handler's writes wait while a previous piece is still on its way, so a
// slow client holds at most two pieces per response. io.Copy from an
// *os.File into the ResponseWriter (http.ServeFile, http.FileServer) goes
// out by the sendfile package's splice path.
//
// Differences from net/http's own server:
//   - Requests net/http tolerates but RFC 9112 lets a server refuse (bare
//     LF line ends, obsolete line folding, whitespace before a colon,
//     Content-Length with Transfer-Encoding) get 400 from uringnet's
//     parser before any handler runs.
//   - A timeout left zero means uringnet's default, not "none"; negative
//     means none.
//   - A handler that panics before writing gets a 500 (net/http closes
//     the connection without a response); after writing, the connection
//     is closed, as net/http does. http.ErrAbortHandler closes it
//     quietly.
//   - Request trailers are not delivered (Request.Trailer stays nil).
//
// What this package must never do: run a handler on a loop, block a loop,
// or hold more for a client than its bounds (one body buffer, two response
// pieces, one waiting request per connection).
package stdhttp
