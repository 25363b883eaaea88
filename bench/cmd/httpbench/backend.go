package main

import (
	"strings"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// demoPeer returns the table name and the environment of a uringnet demo peer. The peer
// "uringnet" runs the io_uring backend (URINGNET_BACKEND=uring, so that it fails rather than
// falls back to epoll), "epoll" the epoll backend, and a variant ("uringnet:NAME") its own
// environment after URINGNET_BACKEND=uring, so that it may pick another backend.
func demoPeer(key string, variants []variant) (name string, env []string) {
	env = []string{harness.BackendEnv + "=uring"}
	if key == "epoll" {
		return "uringnet (epoll)", []string{harness.BackendEnv + "=epoll"}
	}
	vname, ok := strings.CutPrefix(key, "uringnet:")
	if !ok {
		return "uringnet", env
	}
	for _, v := range variants {
		if v.name == vname {
			env = append(env, v.env...)
		}
	}
	return "uringnet (" + vname + ")", env
}

// backendOf returns the backend that env selects (the last URINGNET_BACKEND wins, as in
// os/exec): harness.UringBackend, harness.EpollBackend, or "" for auto and anything unknown.
func backendOf(env []string) string {
	want := ""
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k == harness.BackendEnv {
			want = harness.NormBackend(v)
		}
	}
	return want
}

// backendNote is the report's sentences on which backend each uringnet peer runs, and what
// the epoll and adapter columns compare; "" without uringnet peers.
func backendNote(peers []*peer) string {
	var uring, epoll, adapter bool
	for _, p := range peers {
		uring = uring || (p.backend == harness.UringBackend && p.key != "adapter")
		epoll = epoll || p.key == "epoll"
		adapter = adapter || p.key == "adapter"
	}
	var s string
	if uring {
		s += " \"uringnet\" is the demo server on its io_uring backend (" + harness.BackendEnv + "=uring)."
	}
	if adapter {
		s += " \"" + adapterName + "\" is net/http's peer, bench/nethttp's ServeMux handler for handler, served by " +
			"uringnet's net/http adapter (package stdhttp, example/stdhttpd) on the io_uring backend (" + harness.BackendEnv +
			"=uring): uringnet parses and writes, the handlers run on goroutines; \"adapter / peer\" is its throughput " +
			"as a ratio of each server's, and \"CPU/req adapter / peer\" its CPU per request as a ratio of theirs."
	}
	if epoll {
		s += " \"uringnet (epoll)\" is the same demo server on its epoll backend (" + harness.BackendEnv + "=epoll: " +
			"non-blocking system calls when epoll says an fd is ready, files with sendfile(2)), a peer of its own, " +
			"alternated with the others; \"epoll / peer\" is its throughput as a ratio of each server's, and " +
			"\"CPU/req epoll / peer\" its CPU per request as a ratio of theirs (below 1 is cheaper)."
	}
	return s
}
