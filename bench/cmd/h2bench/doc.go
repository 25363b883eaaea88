// Command h2bench compares uringnet's HTTP/2 in cleartext (h2c, by prior knowledge on the
// demo server's HTTP port: example/ in the repository root) with net/http's own HTTP/2
// (bench/nethttp -h2c) and nginx (an h2c listener: "listen ADDR http2;" before nginx
// 1.25.1, "http2 on;" from it, chosen by nginx -v), using h2load (nghttp2-client; installed
// with apt-get when it is missing and -install is set). Issue 15, docs/design/http2.md §8.
// The demo runs twice, as "uringnet" on its io_uring backend and as "uringnet (epoll)" on its
// epoll backend, each checked for its backend as in httpbench.
//
//	cd bench && go run ./cmd/h2bench [-duration 5s] [-rounds 3] [-o FILE]
//
// Every server runs pinned to CPU 0 (Go servers with GOMAXPROCS=1, uringnet with -loops 1
// and -access-log=false, nginx with one worker and no access log), h2load with one thread on
// CPU 1: h2load -t1 -c8 -m100 -D 5 http://127.0.0.1:PORT/plaintext. Each server is checked
// once first (a Go client with prior knowledge gets a 200 and the body over HTTP/2, and a
// short h2load -n run reports h2c and every request a 2xx); one that fails, as the demo does
// before it speaks h2c, is reported as failed with n/a figures. Peers alternate run by run;
// the tables show medians: req/s, h2load's mean and max latency, the server's CPU time per
// request (/proc/PID/stat, nginx's worker included), and uringnet / peer. Then the same load
// at a fixed offered rate (-fixed, h2load --rps per connection: server CPU and context
// switches per request), and the idle mode (-idle: a fresh server of each peer, N h2c
// connections that made one request each with a small x/net/http2 Framer client and stay
// open; RSS per connection). The report ends with issue 15's floors for uringnet (PASS or
// FAIL): req/s ≥ 1.5x net/http h2c's and ≥ nginx's, ≤ 8 KiB RSS per idle h2c connection.
//
// The markdown goes to stdout (and -o FILE) in httpbench's shape, so bench/cmd/report
// includes it as "http2". Every server it starts is killed before it exits.
package main
