// Command netecho is the baseline echo server for the benchmarks: one goroutine per
// connection on package net, echoing every byte.
//
//	netecho -addr 127.0.0.1:9001
//
// Like uringnet's example/echo it prints "listening on ADDR" when ready and, on SIGINT or
// SIGTERM, stops and prints one "stats accepted=N closed=N bytes_in=N bytes_out=N" line, then
// exits 0. It must never be tuned beyond what a plain net program does: it is the yardstick.
package main
