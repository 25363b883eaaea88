// Package epoll is a proactor on epoll(7): it takes operations described
// with package ops (ops.Op) and delivers their results as completion
// queue entries (ops.CQE), with io_uring's semantics, for machines where io_uring is refused (Docker's default
// seccomp profile, gVisor, kernel.io_uring_disabled).
//
// Each operation is tried at once with a non-blocking system call, as
// io_uring does; one that would block waits in its fd's queue (reads and
// writes apart, each in submission order) until epoll reports the fd ready.
// Fds are registered once, edge-triggered, for both directions. Multishot
// accept and recv stay queued and post a completion per connection or per
// buffer (with CQEFMore), bounded per turn so one busy fd cannot starve the
// others. Provided buffers (Buffers) live in mmap memory outside the Go
// heap. Linked ops run in order; one that fails (or comes up short, as
// io_uring judges it) cancels the rest with -ECANCELED. Cancellation by
// user data and by fd, shutdown, close and poll are supported; splice and
// timeouts are not (Probe says so, and files go out with sendfile(2) from
// the layer above).
//
// The Poller keeps a little state per fd number: whoever closes an fd
// without an ops.Close op must call Forget first.
//
// Package epoll must never block its caller's thread except in
// SubmitAndWaitTimeout's wait and in operations on regular files (which
// epoll cannot watch), and must never call back into its caller: it only
// posts completions.
package epoll
