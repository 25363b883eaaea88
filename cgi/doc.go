// Package cgi runs CGI/1.1 scripts (RFC 3875) for uringnet's HTTP server
// (package http), with the scripts' pipes on the server's event loops:
// the request body is written to a script's stdin, and its stdout and
// stderr are read, by the loop of the request's connection (netserver's
// PassFD, RawWrite, RawRead, and SetHandler to route the pipes'
// callbacks here).
//
// # Use
//
// Make a Handler with New once the http.Server exists. From the
// application's HTTPRead, call Serve for the requests Match accepts; for
// the clients Handles reports, forward HTTPBody, HTTPWrite and
// HTTPWritev; forward every HTTPClose.
//
// # Shared pieces
//
// Env builds the RFC 3875 environment and Output turns a script's
// response (a CGI stdout, or a FastCGI FCGI_STDOUT stream) into the HTTP
// response: head translation, Status, Location (local redirects are
// reported, client redirects get 302), chunked framing when the length is
// unknown on HTTP/1.1 (the connection closes after the body on HTTP/1.0),
// non-parsed-header pass-through, and 502 for a bad head. Output copies
// no body bytes: the buffers written stay the source's until released,
// which is the backpressure toward a client that does not read.
//
// # Choices
//
//   - Request bodies: CGI needs CONTENT_LENGTH, so a chunked request body
//     is refused with 411 Length Required (as Apache and nginx do) rather
//     than streamed with no length. A body of known length is streamed to
//     stdin as it arrives, never collected: past Config.MaxStdinQueued
//     bytes waiting for the script, the body is paused (PauseBody) until
//     the script took half of them.
//   - Spawning happens on the loop, in Serve. Go's os.StartProcess uses
//     clone(CLONE_VFORK|CLONE_VM): the loop's thread waits only until the
//     child has called execve (tens to a few hundred microseconds, no page
//     tables copied), at most once per request and MaxConcurrent at once.
//     Spawning on another goroutine would save that pause but would need
//     the pipes adopted later on the loop through RunOnLoop, and a client
//     that goes away in between handled on two goroutines; the pause is
//     cheaper than that machinery.
//   - Reaping: one goroutine per running script (so at most
//     MaxConcurrent), blocked in waitid. It first waits with WNOWAIT: the
//     exited leader stays a zombie, so its pid, the group id, cannot be
//     reused, and whatever the script left running in its group is
//     killed (SIGKILL to the group); then it reaps (os.Process, which uses
//     a pidfd on Linux) and tells the loop with RunOnLoop.
//   - A response ends (its last chunk, the keep-alive connection's next
//     request) once stdout reached EOF and the script was reaped, not at
//     EOF alone: the next request of a client then always finds its
//     script's MaxConcurrent slot free again. A script that closes stdout
//     and lingers holds its response until it exits or Timeout kills it.
//   - Every script is the leader of a process group of its own (Setpgid):
//     a timeout, a client that goes away, or a failed output kill the
//     whole group, children in the background included.
//
// # What it must never do
//
// Block an event loop (beyond the spawn above); serve a file outside
// Config.Dir (paths follow http.Server.SendFile's rules, through an
// os.Root); leave a zombie, a process, a pipe or a goroutine behind once a
// script's request is over; hold more than bounded memory per script
// (two stdout buffers, one stderr buffer and line, MaxStdinQueued of
// body, the head up to MaxHeadBytes); run more than MaxConcurrent
// scripts, or one longer than Timeout; or pass the Proxy request header
// to a script (httpoxy).
package cgi
