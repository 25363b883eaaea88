// Package tasks is the in-flight operation table: every request on an
// io_uring is a task whose id travels through the kernel in user_data and
// comes back with the completion.
//
// An id is a slot index plus a generation. The generation changes each time
// a slot is released, so a completion for a task that already ended can
// never be mistaken for the slot's next task: it is counted as stale (a bug
// to report, which must stay at zero) and ignored. A task holds references
// to every buffer, iovec array and object the kernel may read or write until
// its final completion, so the garbage collector cannot free them. The table
// has a fixed size; when it is full, Acquire fails and the caller waits for
// completions (backpressure) instead of dropping work.
//
// A Table belongs to one event loop and is not safe for concurrent use.
// What this package must never do: call into the kernel, release a task
// more than once, or hand out an id equal to ring.ReservedUserData.
package tasks
