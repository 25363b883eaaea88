// Package ktlstest tells tests whether the kernel does TLS (kTLS): the
// "tls" upper-layer protocol of CONFIG_TLS or tls.ko.
package ktlstest

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Probe reports why the kernel cannot take the "tls" upper-layer protocol
// on a TCP socket, or nil when it can. It tries, on a loopback connection,
// so that a kernel that loads tls.ko on demand counts too. The error names
// the kernel and its tcp_available_ulp.
func Probe() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	sc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.SOL_TCP, unix.TCP_ULP, "tls")
	}); err != nil {
		return err
	}
	if serr == nil {
		return nil
	}
	ulp, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_available_ulp")
	var u unix.Utsname
	unix.Uname(&u)
	return fmt.Errorf("kernel TLS unavailable on %s: setsockopt(TCP_ULP, \"tls\"): %w (tcp_available_ulp: %q); "+
		"it needs CONFIG_TLS or tls.ko loaded (scripts/test's vm step loads it)",
		unix.ByteSliceToString(u.Release[:]), serr, strings.TrimSpace(string(ulp)))
}
