// Command upgradebench measures issue 13's floors for the demo server's SIGHUP upgrade
// under load: "p99 latency during an upgrade: at most 2x the p99 without one. Report the
// figure. Time from SIGHUP to the new process serving: report it."
//
//	cd bench && go run ./cmd/upgradebench [-rounds 3] [-duration 20s] [-upgrades 4s,8s,12s,16s]
//	                                      [-rate 20000] [-conns 64] [-baseline 1.5s] [-o FILE]
//
// The demo (example/) and bench/upgradeload are built once with go build. Each round starts a
// fresh demo, pinned to CPU 0 with taskset (its successors inherit the affinity), with -loops 1
// and URINGNET_BACKEND=uring, and bench/upgradeload, pinned to CPU 1, offers -rate requests per
// second of "GET /plaintext" over -conns keep-alive connections, one request at a time each,
// for -duration. At each -upgrades offset the benchmark sends SIGHUP to the serving process,
// polls /healthz on new connections every -poll until it names another pid (the SIGHUP to
// serving time), and waits for the old process to exit (it drains: keep-alive connections
// get "Connection: close" on their next response). It is the processes' subreaper
// (PR_SET_CHILD_SUBREAPER), so the successors, orphaned when their predecessor exits, become
// its children and it reaps them with wait4; at the end it stops the serving one with
// SIGTERM.
//
// "During an upgrade" is every request started between a SIGHUP and the old process's exit;
// "without" every request started in the -baseline before each SIGHUP (from -settle after the
// previous old process exited, and not in the first -warmup). A round's figures pool its
// upgrades: p50, p99 and max of each set, the ratio p99 during / p99 without against the 2x
// floor, and every failed request (a failed dial or write, a connection that ends before a
// complete response: the floor is 0). Latency is from the request's start (the dial when it
// needs a new connection, else the write) to the end of its response; the per-round table
// also gives p99 from the request's scheduled start, which adds the time it waited behind the
// one before on its connection. The report gives the median of the rounds and each round.
//
// -keep DIR keeps each round's requests (DIR/roundN.records, package reqlog's format), the
// upgrades' times and the load's summary (roundN.json) and the demo processes' log
// (roundN.log), to see where in an upgrade the slow requests started.
package main
