//go:build !amd64

package netserver

// getg returns 0 where no assembly is provided; onLoop then compares
// thread ids instead.
func getg() uintptr { return 0 }
