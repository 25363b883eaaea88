// Command echoload is the echo benchmark's load generator: N connections each write one
// message, read until the whole echo is back (checked byte for byte), record the round trip
// and repeat, for a fixed time.
//
//	echoload -addr 127.0.0.1:9000 -conns 64 -size 64 -duration 5s
//
// It prints one line, "result conns=... size=... msgs=... secs=... msgs_per_sec=...
// p50_us=... p99_us=... max_us=...", and exits 1 on any error, a wrong echo included. The
// harness runs it pinned to its own CPU (taskset -c 1). It never runs past -duration plus
// -grace.
package main
