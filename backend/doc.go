// Package backend is the seam between the event loops (package netserver)
// and the kernel interface that runs their operations.
//
// A Backend takes operations described with package ops (ops.Op, filled
// with its Prep methods) and delivers their results as completion queue
// entries (ops.CQE, io_uring's format), with io_uring's semantics: multishot accept and recv, provided buffers, linked chains
// (in order; the rest cancelled when one fails), cancellation by user data
// or by fd. Two backends implement it: io_uring itself (package ring) and
// an epoll proactor (package epoll) that runs each operation with a
// non-blocking system call when its fd is ready. Open picks one: "auto"
// uses io_uring when io_uring_setup succeeds and falls back to epoll when
// io_uring is refused (ENOSYS, EPERM, kernel.io_uring_disabled, ENOMEM).
//
// A third backend (kqueue, say) is one new package that implements the same
// operation set on ops.Op, one adapter file here and one case in Open.
//
// Package backend must never be imported above netserver: the layers above
// (http, websocket, sendfile) see only netserver, and must never learn which
// backend runs. What differs between backends is told through Probe (which
// operations a backend has), never through its name.
package backend
