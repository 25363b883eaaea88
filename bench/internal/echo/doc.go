// Package echo holds both ends of the echo benchmark: the load (connections that each send
// a message, wait for the whole echo, check it byte for byte and record the round trip),
// the idle-connection opener, and a goroutine-per-connection net echo server used as the
// peer the uringnet echo server is compared with.
//
// It must never hide a wrong echo (every byte is checked) and never run without a time
// limit: every connection carries a deadline.
package echo
