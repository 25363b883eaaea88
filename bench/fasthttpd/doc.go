// Command fasthttpd is the fasthttp peer of the HTTP benchmark, with the same routes as
// nethttp: /plaintext, /json, and files under -root (fasthttp.FS, no compression).
//
//	fasthttpd -addr 127.0.0.1:8082 -root DIR
//
// It prints "listening on ADDR" when ready and, on SIGINT or SIGTERM, one
// "stats accepted=N requests=N" line, then exits 0. Default fasthttp settings otherwise.
package main
