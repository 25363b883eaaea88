package netserver

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// ErrNotOnLoop is returned by the methods that must be called on the
// client's loop (from a callback, a Tick or RunOnLoop) when they are not.
var ErrNotOnLoop = errors.New("netserver: not called on the client's loop")

// RemoteAddr returns the address of c's peer (getpeername(2) on its
// socket): a *net.TCPAddr for TCP, a *net.UnixAddr for a unix socket. Call
// it on c's loop; it costs a system call, so a layer that needs it per
// request keeps it per connection. A stream (NewStream) answers for its
// parent.
func (s *Server) RemoteAddr(c ClientNum) (net.Addr, error) {
	l, err := s.loopOf(c)
	if err != nil {
		return nil, err
	}
	if !l.onLoop() {
		return nil, ErrNotOnLoop
	}
	_, cl := l.peer(c, l.client(c))
	if cl == nil || cl.state != stOpen {
		return nil, fmt.Errorf("netserver: RemoteAddr(%v): %w", c, ErrClosed)
	}
	sa, err := unix.Getpeername(int(cl.fd))
	if err != nil {
		return nil, fmt.Errorf("netserver: getpeername of %v: %w", c, err)
	}
	if a := sockaddrToAddr(sa); a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("netserver: getpeername of %v: unknown address family", c)
}

// sockaddrToAddr converts a socket address: *net.TCPAddr for IPv4 and
// IPv6, *net.UnixAddr for a unix socket, nil otherwise.
func sockaddrToAddr(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		addr := &net.TCPAddr{IP: append(net.IP(nil), a.Addr[:]...), Port: a.Port}
		if a.ZoneId != 0 {
			if ifc, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				addr.Zone = ifc.Name
			}
		}
		return addr
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return nil
}
