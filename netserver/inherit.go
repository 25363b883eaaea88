package netserver

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// socket is one distinct listening socket of the server (a loop may hold
// a duplicate of it): what ListenerFiles hands over.
type socket struct {
	fd   int // the first loop's descriptor of it
	addr *net.TCPAddr
}

// inherited is a listening socket given in Config.Listeners, not yet
// placed on the loops.
type inherited struct {
	fd   int // our duplicate
	addr *net.TCPAddr
}

// inheritListeners checks and duplicates the sockets of Config.Listeners
// (the caller keeps its files and may close them once New returns).
func inheritListeners(files []*os.File) ([]inherited, error) {
	var out []inherited
	fail := func(err error) ([]inherited, error) {
		for _, in := range out {
			unix.Close(in.fd)
		}
		return nil, err
	}
	for i, f := range files {
		if f == nil {
			return fail(fmt.Errorf("netserver: listener %d: nil file", i))
		}
		rc, err := f.SyscallConn()
		if err != nil {
			return fail(fmt.Errorf("netserver: listener %d (%s): %w", i, f.Name(), err))
		}
		fd := -1
		var derr error
		// Control, not Fd: Fd would put the file in blocking mode, and
		// the file description is shared with the process it came from.
		if err := rc.Control(func(raw uintptr) {
			fd, derr = unix.FcntlInt(raw, unix.F_DUPFD_CLOEXEC, 0)
		}); err != nil {
			return fail(fmt.Errorf("netserver: listener %d (%s): %w", i, f.Name(), err))
		}
		if derr != nil {
			return fail(fmt.Errorf("netserver: listener %d (%s): dup: %w", i, f.Name(), derr))
		}
		addr, err := listeningTCP(fd)
		if err != nil {
			unix.Close(fd)
			return fail(fmt.Errorf("netserver: listener %d (%s): %w", i, f.Name(), err))
		}
		out = append(out, inherited{fd: fd, addr: addr})
	}
	return out, nil
}

// listeningTCP returns the address of fd if it is a listening TCP socket.
func listeningTCP(fd int) (*net.TCPAddr, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, fmt.Errorf("not a socket: %w", err)
	}
	acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return nil, fmt.Errorf("SO_ACCEPTCONN: %w", err)
	}
	if typ != unix.SOCK_STREAM || acc == 0 {
		return nil, fmt.Errorf("not a listening stream socket")
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	a := tcpAddrOf(sa)
	if a == nil {
		return nil, fmt.Errorf("not a TCP socket (%T)", sa)
	}
	return a, nil
}

// tcpAddrOf converts an AF_INET or AF_INET6 address, else returns nil.
func tcpAddrOf(sa unix.Sockaddr) *net.TCPAddr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	}
	return nil
}

// placeInherited gives the loops the inherited sockets, grouped by
// address: within a group, socket j goes to loop j mod Loops, and a loop
// that got none of the group's sockets gets a duplicate of one, so that
// every loop accepts on every address and every socket is accepted on
// (a socket of a SO_REUSEPORT group that nobody accepts on would strand
// the connections the kernel hashes to it). The Config.Addrs entries an
// inherited socket covers (same IP and port, or same IP and port 0) are
// not bound again; the others are returned.
func (s *Server) placeInherited(ins []inherited, addrs []string) ([]string, error) {
	type group struct {
		addr *net.TCPAddr
		fds  []int
		used bool
	}
	var groups []*group
	for _, in := range ins {
		var g *group
		for _, x := range groups {
			if x.addr.String() == in.addr.String() {
				g = x
			}
		}
		if g == nil {
			g = &group{addr: in.addr}
			groups = append(groups, g)
		}
		g.fds = append(g.fds, in.fd)
	}
	s.inherited = len(ins) > 0
	var rest []string
	place := func(g *group) error {
		g.used = true
		s.addrs = append(s.addrs, g.addr)
		n := len(s.loops)
		got := make([]bool, n)
		for j, fd := range g.fds {
			l := s.loops[j%n]
			l.listeners = append(l.listeners, listener{fd: fd})
			got[j%n] = true
			s.sockets = append(s.sockets, socket{fd: fd, addr: g.addr})
		}
		for i, l := range s.loops {
			if got[i] {
				continue
			}
			fd, err := unix.FcntlInt(uintptr(g.fds[i%len(g.fds)]), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("netserver: listener %s: dup: %w", g.addr, err)
			}
			l.listeners = append(l.listeners, listener{fd: fd})
		}
		return nil
	}
	// Until placed, the groups' descriptors are ours to close on failure.
	closeUnplaced := func() {
		for _, g := range groups {
			if !g.used {
				for _, fd := range g.fds {
					unix.Close(fd)
				}
			}
		}
	}
	for _, a := range addrs {
		ta, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			closeUnplaced()
			return nil, fmt.Errorf("netserver: listen %s: %w", a, err)
		}
		var match *group
		for _, g := range groups {
			if !g.used && sameIP(g.addr.IP, ta.IP) && (ta.Port == 0 || ta.Port == g.addr.Port) {
				match = g
				break
			}
		}
		if match == nil {
			rest = append(rest, a)
			continue
		}
		if err := place(match); err != nil {
			closeUnplaced()
			return nil, err
		}
	}
	for _, g := range groups {
		if !g.used {
			if err := place(g); err != nil {
				closeUnplaced()
				return nil, err
			}
		}
	}
	return rest, nil
}

// sameIP compares addresses, taking every unspecified address as one.
func sameIP(a, b net.IP) bool {
	if len(a) == 0 || a.IsUnspecified() {
		return len(b) == 0 || b.IsUnspecified()
	}
	return a.Equal(b)
}

// ListenerFiles returns a duplicate of each of the server's listening
// sockets (one per socket, not per loop), for another process to take
// over: pass them on as exec.Cmd.ExtraFiles and that process's
// Config.Listeners. Each file is named "tcp:ADDR". The caller closes
// them. The sockets stay the server's too: it accepts on them until
// StopAccepting, Shutdown or Close, after which ListenerFiles fails with
// ErrNotServing (the sockets may be gone).
func (s *Server) ListenerFiles() ([]*os.File, error) {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.lnClosing || s.state.Load() >= stateStopping {
		return nil, ErrNotServing
	}
	for i, l := range s.loops {
		s.RunOnLoop(i, func() { l.watchFor(watchWindow) }) // until the other process is there or gone
	}
	files := make([]*os.File, 0, len(s.sockets))
	for _, so := range s.sockets {
		fd, err := unix.FcntlInt(uintptr(so.fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("netserver: listener %s: dup: %w", so.addr, err)
		}
		files = append(files, os.NewFile(uintptr(fd), "tcp:"+so.addr.String()))
	}
	return files, nil
}

// closingListeners marks the listeners as about to close: ListenerFiles
// fails from then on. It is called before any loop closes one.
func (s *Server) closingListeners() {
	s.lnMu.Lock()
	s.lnClosing = true
	s.lnMu.Unlock()
}
