package netserver

// getg returns the address of the running goroutine's runtime descriptor:
// stable for the goroutine's life and unique among live goroutines, so a
// loop can tell "this is my goroutine" without a syscall.
//
//go:noescape
func getg() uintptr
