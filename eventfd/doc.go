// Package eventfd wraps Linux eventfd(2) for the event loops: custom events
// that any goroutine can trigger and a loop reads through its ring, and the
// loop's own wake-up when other goroutines hand it work.
//
// An EventFD opened in semaphore mode turns every Trigger into one read of
// the value 1, so no trigger is merged with another; a plain EventFD merges
// triggers into one read of their sum, which is what a wake-up wants.
// Trigger is safe from any goroutine, and never writes to an fd after Close
// (the fd number could already belong to someone else).
//
// What this package must never do: block a loop (the fd is non-blocking),
// or know about rings, clients or callbacks.
package eventfd
