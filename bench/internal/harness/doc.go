// Package harness holds the pieces the uringnet benchmarks share: starting servers pinned to a
// CPU and stopping them for sure, reading their CPU time and RSS from /proc, parsing the
// "listening on" and "stats key=value ..." lines the servers print, a latency histogram,
// medians, wrk scripts and results, an nginx configuration, and markdown tables.
//
// It is benchmark plumbing only. It must never be imported by the uringnet library itself,
// never leave a child process running after the caller's cleanup, and never run anything
// without a time limit.
package harness
