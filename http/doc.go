// Package http implements the HTTP/1.1 side of uringnet: an incremental,
// allocation-free request parser, chunked body decoding, and helpers that
// append responses (status line, headers, Date, chunked framing, error pages)
// to caller-owned byte slices.
//
// The parser is usable on its own, the way net/textproto is: [Parse] takes the
// bytes received so far and either reports that more input is needed, returns
// a parsed request head whose fields reference the input buffer, or returns an
// [*Error] carrying the status code the server must answer with. It gives the
// same answer however the input was split across reads, so an event loop can
// call it after every read.
//
// The parser is strict, as an internet-facing server must be to defend
// against request smuggling (RFC 9110, RFC 9112):
//
//   - Lines end with CRLF only. A bare LF or a bare CR anywhere in the head is
//     rejected with 400. RFC 9112 §2.2 allows a server to accept a bare LF;
//     this package chooses not to, because disagreement between hops on line
//     endings is a classic smuggling vector.
//   - Obsolete line folding, whitespace between a field name and its colon,
//     and control characters in field values are rejected with 400.
//   - Content-Length must be digits only; repeated identical values are
//     collapsed, differing ones are rejected. Transfer-Encoding together with
//     Content-Length is rejected, and chunked must be the final (and only
//     supported) transfer coding.
//
// What this package must never do: block, perform network I/O, copy request
// bytes it can reference instead, allocate on the parsing hot path, or accept
// an ambiguous message framing. (ErrorPages.Load reads a file and is meant for
// configuration time only.)
package http
