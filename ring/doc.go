// Package ring is a liburing-style binding to Linux io_uring written on
// golang.org/x/sys/unix, without cgo.
//
// It sets rings up (with flag fallback), maps the submission and completion
// queues, hands out submission queue entries (SQEs) with one small Prep helper
// per opcode, submits and waits (optionally with a timeout), iterates
// completion queue entries (CQEs) in batches, probes the kernel's opcodes and
// feature bits, and registers provided-buffer rings.
//
// Memory ordering lives in queue.go and bufring.go only: the SQ tail and CQ
// head are stored with sync/atomic (release), the SQ head and CQ tail are
// loaded with sync/atomic (acquire). Go's atomics are sequentially
// consistent, which is stronger than the kernel's contract requires.
//
// A Ring is not safe for concurrent use: one goroutine, locked to its OS
// thread when the ring was set up with SetupSingleIssuer, owns it.
//
// What this package must never do: know about sockets, clients, HTTP or any
// policy above "put this operation on the ring"; keep Go pointers in
// user_data; allocate on the submit/complete hot path; or point an SQE at
// memory the caller has not promised to keep alive until the final CQE (the
// caller, usually package tasks, owns that promise).
package ring
