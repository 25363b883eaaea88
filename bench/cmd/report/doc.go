// Command report runs every peer comparison in bench/ (echobench, httpbench,
// wsbench, upgradebench, cgibench and h2bench) and writes docs/benchmarks.md with their tables and
// docs/benchmarks.svg, a bar chart of uringnet's throughput as a ratio of
// each peer's (the HTTPS rows of httpbench, issue 11, in a group of their
// own). wsbench runs twice: its echo and broadcast sections ("websocket"),
// then its nats section ("rooms", issue 12: WebSocket rooms across
// instances over NATS, which has floors but no peer, so no chart group).
// upgradebench ("upgrade", issue 13: the demo's SIGHUP upgrade under a
// fixed load, p99 during an upgrade against without one) has floors but
// no peer either. cgibench ("cgi", issue 14: CGI and FastCGI against nginx
// with fcgiwrap and with a Go net/http/fcgi application) has its ratios,
// uringnet req/s over nginx's, in a chart group of its own; so has h2bench ("http2", issue 15:
// HTTP/2 in cleartext against net/http's own HTTP/2 and nginx, with h2load). -benches runs a subset: "-benches upgrade -docs DIR",
// say, runs that section alone (into DIR/benchmarks.md).
// Run it from bench/:
//
//	go run ./cmd/report            # full runs, several minutes
//	go run ./cmd/report -quick     # 1 s runs, 1 round: a smoke test
//	go run ./cmd/report -benches upgrade -docs /tmp/docs  # one section alone
//
// The HTTP comparison runs uringnet twice, on its io_uring and on its epoll
// backend; the chart gets a group of the epoll backend's ratios when the
// HTTP report has them (its "epoll / peer" column).
//
// Each comparison is built and run as its own command, exactly as a person
// would run it, with -o into a temporary file; its markdown report goes into
// docs/benchmarks.md verbatim. Only the part of docs/benchmarks.md between
// the markers <!-- report:begin --> and <!-- report:end --> is replaced, so
// notes written around it survive a rerun. A comparison that fails is
// reported as such in the document and makes the command exit non-zero
// after writing everything else.
//
// What it must never do: invent or carry over numbers. Every figure in the
// chart is read from a table that the committed commands printed in this
// run.
package main
