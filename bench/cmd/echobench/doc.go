// Command echobench compares uringnet's echo server (example/echo in the repository root)
// with a goroutine-per-connection net echo server (bench/netecho).
//
//	cd bench && go run ./cmd/echobench [-duration 5s] [-rounds 3] [-idle 10000] [-o FILE]
//
// It builds both servers and the load generator (bench/echoload), then for each message size
// runs the series uringnet, net and uringnet with URINGNET_DISABLE=batch in turn (A B C A B C
// ...), each run against a fresh server started with taskset -c 0 and GOMAXPROCS=1 (uringnet
// with -loops 1) while echoload runs with taskset -c 1. It prints a markdown table of medians:
// messages/s, p50 and p99 round trip, io_uring_enter calls per message (from the server's
// final stats line), server CPU time per message (from /proc/PID/stat), RSS, and the ratios
// to net. The idle mode then opens -idle connections to each server and reports the RSS they
// cost per connection.
//
// uringnet's series run its io_uring backend (URINGNET_BACKEND=uring). The series epoll
// (not run by default: -series uringnet,net,nobatch,cref,epoll) is the same server on its
// epoll backend (URINGNET_BACKEND=epoll); a series whose final stats line names another
// backend, or, for epoll, none, fails.
//
// A server that cannot be built or started is reported as n/a; the harness does not stop.
// Every process it starts is killed before it exits, on error and on Ctrl-C too.
package main
