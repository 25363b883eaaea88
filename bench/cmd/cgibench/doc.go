// Command cgibench measures issue 14's floors for CGI and FastCGI in the demo server
// (example/) against nginx:
//
//	cd bench && go run ./cmd/cgibench [-duration 5s] [-rounds 3] [-conns 32]
//	                                  [-scenarios cgi,fcgiwrap,goapp] [-fcgiwrap-children 1] [-o FILE]
//
// Its scenarios:
//
//   - cgi: a hello-world shell script as CGI, the demo with -cgi-dir DIR -cgi-timeout 30s
//     (GET /cgi-bin/hello) against nginx with fcgiwrap running the same script
//     (fastcgi_pass to fcgiwrap's Unix socket). Floor: uringnet req/s ≥ nginx + fcgiwrap.
//   - fcgiwrap: the same script through fcgiwrap for both, the demo with -root ROOT
//     -fastcgi unix:SOCK -fastcgi-pattern .cgi (GET /hello.cgi, SCRIPT_FILENAME the file
//     under the root) against nginx with fastcgi_pass to its own fcgiwrap. Floor: uringnet
//     req/s ≥ nginx + fcgiwrap.
//   - goapp: a Go net/http/fcgi hello world (bench/cmd/fcgiapp), the demo with -fastcgi to it
//     against nginx with fastcgi_pass to another instance of it (an upstream with keepalive
//     and fastcgi_keep_conn on). No floor: req/s reported.
//
// Every server-side process is pinned to CPU 0 with taskset (the demo with GOMAXPROCS=1 and
// -loops 1, and the CGI processes it forks; nginx with one worker; fcgiwrap and the scripts
// it forks; fcgiapp with GOMAXPROCS=1), wrk -t1 to CPU 1. Each scenario starts its two
// setups once, checks each one's response (200, "Hello, World!\n"), then runs wrk against
// them alternately for -rounds rounds of -duration; the table gives medians. "CPU 0 ms/req"
// is CPU 0's busy time during the run (/proc/stat) per request: every server-side process,
// forked scripts included, runs there (fcgiwrap ignores SIGCHLD, so its scripts' CPU time
// never reaches its cutime: the processes' own times would miss it).
//
// A setup that cannot run (no nginx, no fcgiwrap, a demo without the flags) is n/a with its
// reason under the table.
package main
