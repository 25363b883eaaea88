// Package fastcgi is a FastCGI client (FastCGI 1.0, responder role) for
// uringnet's native HTTP server: a request the HTTP handler hands to
// Client.Serve is sent to a FastCGI application (PHP-FPM, fcgiwrap, a Go
// program on net/http/fcgi) over a unix or TCP socket, and the
// application's answer, a CGI response (RFC 3875 §6) in STDOUT records, is
// streamed back to the HTTP client.
//
// # Connections
//
// The application connections live on the event loops, like the HTTP
// connections: Serve runs on the HTTP client's loop, opens a connection
// with a non-blocking connect there (a TCP connect still in progress
// completes before the first write leaves; a refusal fails the write) and
// adopts it with netserver's PassFD, which on a loop adopts on that loop,
// so the connection's callbacks (routed to the Client with SetHandler) run
// on the same loop as the HTTP client's and need no locks. Records are
// written with RawWrite and read with RawRead, one read armed at a time
// (an idle pooled connection keeps one armed, so an application that
// closes it is noticed at once rather than at the next request).
//
// # One request per connection
//
// Each connection carries one request at a time (request id 1, with
// FCGI_KEEP_CONN), and connections are pooled per loop: at most
// Config.MaxConns per loop, busy or idle, idle ones closed after
// Config.IdleTimeout, requests over the bound waiting (at most
// Config.MaxWaiting per loop, 503 beyond) for the next free one. The
// package does not multiplex requests on a connection: FastCGI has no
// per-request flow control, so on a shared connection a slow HTTP client
// would either stall every other request on it (when the connection stops
// being read) or force unbounded buffering; nginx makes the same choice.
// A connection goes back to the pool only in a known state: after a clean
// END_REQUEST, with the whole request body written and nothing left over.
// A request whose HTTP client left, timed out, or broke the protocol has
// its connection closed, never pooled.
//
// # Flow
//
// The request body arrives through HTTPBody and goes out as STDIN records
// (then an empty one). While more than Config.MaxStdin bytes of it are
// queued toward the application, the HTTP client's body is paused
// (http.Server.PauseBody) until half of them were sent. The other way,
// STDOUT goes through package cgi's Output, shared with the CGI handler:
// a CGI head (Status, Location, Content-Type and the other fields;
// Content-Length kept, else chunked for HTTP/1.1, else the end of the
// connection for HTTP/1.0) and a body written with http.Server.Write.
// While the Output holds more than Config.MaxQueued bytes not yet sent,
// the application connection is not read; it is read again once half
// went out (the Output releases each buffer on its HTTPWrite). The
// parameters are cgi.Env's (Params). STDERR is logged (at most
// Config.StderrRate lines a second) and counted.
//
// A local redirect (a head that is only a Location path, RFC 3875
// §6.2.2) ends the request (its connection is closed, not pooled) and is
// served as a GET through Config.Dispatch, the application's router, on
// the client's loop (cgi.Follow; a 302 without Dispatch). A request
// already redirected Config.MaxRedirects times (http.Request.Redirects)
// gets 502 instead, so a loop through CGI and FastCGI ends too.
//
// # Errors
//
// An application that cannot be reached, closes the connection early or
// sends a bad head gets the HTTP client a 502; one that sends nothing for
// Config.Timeout (while the HTTP client is not the one behind) a 504. Both
// go through http.Server.RespondError, so the server's error pages apply.
// When the response has already begun, the HTTP connection is cut instead.
//
// # What it must never do
//
// It must never block a loop (no blocking connect, read or write), never
// hold more than its bounds (MaxConns, MaxWaiting, MaxStdin, MaxQueued,
// MaxParams, MaxContent per record, cgi.MaxHeadBytes per head), never return a connection
// to the pool in an unknown state, never pass a header from the
// application that would change the framing of the HTTP response
// (Connection, Transfer-Encoding, Content-Length are the server's), and
// never touch a connection from a goroutine other than its loop's.
package fastcgi
