// Command nethttp is the net/http peer of the HTTP benchmark: /plaintext answers
// "Hello, World!" as text/plain, /json answers {"message":"Hello, World!"}, every other path
// is a file under -root (http.FileServer).
//
//	nethttp -addr 127.0.0.1:8081 -root DIR [-tls-cert FILE -tls-key FILE | -h2c]
//
// With -tls-cert and -tls-key it serves HTTPS as ListenAndServeTLS does (http.Server's
// ServeTLS, so HTTP/2 too for clients that ask for it by ALPN), TLS 1.3 only, and its stats
// line adds resumed=N: the requests made on resumed TLS sessions.
//
// With -h2c (the peer of bench/cmd/h2bench) plain HTTP is HTTP/1.1 and HTTP/2 in cleartext
// by prior knowledge on the same port: http.Server.Protocols with SetHTTP1 and
// SetUnencryptedHTTP2, net/http's own HTTP/2 server, which golang.org/x/net/http2/h2c also wraps.
//
// It prints "listening on ADDR" when ready and, on SIGINT or SIGTERM, one
// "stats accepted=N requests=N" line, then exits 0. Plain net/http, no tuning: a yardstick.
package main
