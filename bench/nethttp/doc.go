// Command nethttp is the net/http peer of the HTTP benchmark: /plaintext answers
// "Hello, World!" as text/plain, /json answers {"message":"Hello, World!"}, every other path
// is a file under -root (http.FileServer).
//
//	nethttp -addr 127.0.0.1:8081 -root DIR
//
// It prints "listening on ADDR" when ready and, on SIGINT or SIGTERM, one
// "stats accepted=N requests=N" line, then exits 0. Plain net/http, no tuning: a yardstick.
package main
