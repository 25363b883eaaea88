// Command httpbench compares uringnet's HTTP demo server (example/ in the repository root)
// with net/http (bench/nethttp), fasthttp (bench/fasthttpd) and nginx, using wrk. The demo
// runs twice, as two peers: "uringnet" on its io_uring backend (URINGNET_BACKEND=uring) and
// "uringnet (epoll)" on its epoll backend (URINGNET_BACKEND=epoll); each must say, in its
// /stats.json, that it runs the backend asked for, or it is n/a. "uringnet net/http adapter"
// (peer key "adapter") is net/http's own ServeMux, bench/nethttp's handler for handler,
// served by uringnet's net/http adapter (package stdhttp: example/stdhttpd) on io_uring.
//
//	cd bench && go run ./cmd/httpbench [-duration 3s] [-rounds 3] [-o FILE]
//
// Every server runs pinned to CPU 0 (Go servers with GOMAXPROCS=1, uringnet with -loops 1,
// nginx with one worker, sendfile on, no access log), wrk runs with one thread pinned to
// CPU 1. Scenarios: /plaintext with keep-alive, /plaintext with 16 requests pipelined per
// write, static 4 KiB, 64 KiB and 1 MiB files. Peers alternate run by run (A B C D A B C D
// ...); the table shows medians, server CPU time per request (from /proc/PID/stat, nginx
// workers included) and the ratios uringnet / peer, epoll / peer and adapter / peer. Each
// response is checked once before a peer's first run of a scenario, so a 404 is never
// benchmarked. Then plaintext and the static files again at a fixed offered rate (-fixed:
// server CPU per request; for plaintext, the price of the adapter's handler goroutines against
// the native callbacks), and the idle mode (-idle: a fresh server of each peer, N keep-alive
// connections that made one request each, RSS per connection). With the epoll peer, the
// report ends with issue 9's floors for the epoll backend, and with the adapter peer with
// issue 10's floors for the adapter (PASS or FAIL), read off this run's tables.
//
// Then the HTTPS mode (issue 11; -tls, -tls-peers, -tls-fixed, -tls-idle; "-tls none" skips
// it): with the plain servers stopped, one ECDSA P-256 certificate is generated for the run
// and a second server of each -tls-peers peer (uringnet, the adapter, net/http, nginx by
// default) serves HTTPS with it, TLS 1.3 and AES-128-GCM: /plaintext keep-alive with wrk over
// https, new connections per second with bench/tlsload (a full handshake and one request per
// connection, never resumed: wrk would resume sessions), keep-alive again at a fixed offered
// rate for CPU per request, and RSS per idle TLS connection; the section ends with issue 11's
// floors for the demo (PASS or FAIL).
//
// wrk is installed with apt-get when it is missing and -install is set. A peer that is not
// available (uringnet's demo not written yet, nginx not installed) is reported as n/a; the
// harness never crashes on it. Every server it starts is killed before it exits.
package main
