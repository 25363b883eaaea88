// Package ops describes the operations the event loops ask of a backend
// (package backend): an accept, a recv, a send, a linked chain, a cancel.
// An Op says what to do in Go terms (an fd, a buffer, iovecs, flags);
// each backend turns it into what its kernel interface takes: the io_uring
// backend into an SQE, the epoll backend into non-blocking system calls.
// Completions come back as CQEs, io_uring's completion format, whichever
// backend ran the operation.
//
// Op codes are io_uring's opcode numbers and the semantics are io_uring's
// (multishot, provided buffers, links, cancellation), so that one
// description means the same thing on every backend.
//
// Package ops must never do I/O or depend on a backend: it is vocabulary.
package ops
