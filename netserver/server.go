package netserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/uringnet/uringnet/backend"
	"github.com/uringnet/uringnet/eventfd"
	"golang.org/x/sys/unix"
)

// Errors returned by Server methods.
var (
	// ErrServerClosed is returned by Serve after Shutdown or Close.
	ErrServerClosed = errors.New("netserver: server closed")
	// ErrClosed is returned for a client number that is not open.
	ErrClosed = errors.New("netserver: client closed")
	// ErrNotServing is returned by calls that need running loops.
	ErrNotServing = errors.New("netserver: server not serving")
)

// Server runs the event loops. Create it with New, start it with Serve.
type Server struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	loops   []*loop
	addrs   []net.Addr
	conns   atomic.Int64 // open connections, all loops (for MaxConns)
	events  sync.Map     // ClientNum -> *eventfd.EventFD, for EventTrigger from any goroutine
	nextEv  atomic.Uint32
	state   atomic.Int32 // 0 new, 1 serving, 2 stopping, 3 done
	done    chan struct{}
	ready   chan struct{} // closed once every loop serves
	serveMu sync.Mutex
	tickers atomic.Pointer[[]Ticker] // extra tickers (AddTicker), copy on write
	tickMu  sync.Mutex               // serializes AddTicker
	backend backend.Kind             // what the loops run on (Uring or Epoll)
	beName  string                   // its name, as Stats tells it
	tlsCnt  tlsCounters
	noKTLS  atomic.Bool // the kernel refused the "tls" ULP: do not try again
	sockets []socket    // each distinct listening socket once (ListenerFiles)
	lnMu    sync.Mutex  // orders ListenerFiles before the listeners close
	// lnClosing is set (under lnMu) before any loop closes a listener.
	lnClosing bool
	inherited bool // some listeners came from Config.Listeners
}

const (
	stateNew = iota
	stateServing
	stateStopping
	stateDone
)

// New creates a server: it validates the configuration and opens the
// listeners (so Addrs is known before Serve). The rings are set up by Serve,
// each on its loop's own thread.
func New(cfg Config, h Handler) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = NopHandler{}
	}
	s := &Server{cfg: cfg, h: h, log: cfg.Logger, done: make(chan struct{}), ready: make(chan struct{})}
	if err := s.chooseBackend(); err != nil {
		return nil, err
	}
	for i := 0; i < cfg.Loops; i++ {
		l, err := newLoop(s, i)
		if err != nil {
			s.closeLoops()
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	addrs := cfg.Addrs
	if len(cfg.Listeners) > 0 {
		ins, err := inheritListeners(cfg.Listeners)
		if err != nil {
			s.closeLoops()
			return nil, err
		}
		if addrs, err = s.placeInherited(ins, addrs); err != nil {
			s.closeLoops()
			return nil, err
		}
	}
	for _, a := range addrs {
		if err := s.listen(a); err != nil {
			s.closeLoops()
			return nil, err
		}
	}
	return s, nil
}

// listen opens one SO_REUSEPORT listener per loop on addr. With port 0 the
// first listener picks the port and the others bind to it.
func (s *Server) listen(addr string) error {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return fmt.Errorf("netserver: listen %s: %w", addr, err)
	}
	for i, l := range s.loops {
		fd, bound, err := listenFD(ta)
		if err != nil {
			return fmt.Errorf("netserver: listen %s: %w", addr, err)
		}
		if i == 0 {
			s.addrs = append(s.addrs, bound)
			ta = bound
		}
		l.listeners = append(l.listeners, listener{fd: fd})
		s.sockets = append(s.sockets, socket{fd: fd, addr: bound})
	}
	return nil
}

func listenFD(ta *net.TCPAddr) (int, *net.TCPAddr, error) {
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if ip4 := ta.IP.To4(); ip4 != nil || ta.IP == nil {
		a := &unix.SockaddrInet4{Port: ta.Port}
		if ip4 != nil {
			copy(a.Addr[:], ip4)
		}
		sa = a
	} else {
		family = unix.AF_INET6
		a := &unix.SockaddrInet6{Port: ta.Port}
		copy(a.Addr[:], ta.IP.To16())
		sa = a
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, fmt.Errorf("socket: %w", err)
	}
	for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, 1); err != nil {
			unix.Close(fd)
			return -1, nil, fmt.Errorf("setsockopt: %w", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("bind: %w", err)
	}
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("listen: %w", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("getsockname: %w", err)
	}
	bound := tcpAddrOf(got)
	if bound == nil {
		bound = &net.TCPAddr{}
	}
	return fd, bound, nil
}

// closeListeners closes the listeners still open once the loops are gone.
func (s *Server) closeListeners() {
	for _, l := range s.loops {
		for i := range l.listeners {
			if ln := &l.listeners[i]; !ln.closed {
				unix.Close(ln.fd)
				ln.closed = true
			}
		}
	}
}

// closeLoops releases what New opened when Serve will never run.
func (s *Server) closeLoops() {
	s.closeListeners()
	for _, l := range s.loops {
		l.wake.Close()
	}
}

// Addrs returns the addresses the server listens on, one per Config.Addrs
// entry, with the ports the kernel chose for ":0".
func (s *Server) Addrs() []net.Addr { return s.addrs }

// Addr returns the first listening address, or nil.
func (s *Server) Addr() net.Addr {
	if len(s.addrs) == 0 {
		return nil
	}
	return s.addrs[0]
}

// Loops returns the number of event loops.
func (s *Server) Loops() int { return len(s.loops) }

// Serve runs the loops until Shutdown or Close, then returns
// ErrServerClosed; called after Shutdown or Close, it returns
// ErrServerClosed at once, as net/http's does. When io_uring cannot be used,
// it returns an error naming the cause and the fix (see
// ring.UnavailableError).
func (s *Server) Serve() error {
	if !s.state.CompareAndSwap(stateNew, stateServing) {
		if s.state.Load() >= stateStopping {
			return ErrServerClosed
		}
		return errors.New("netserver: Serve called twice")
	}
	ready := make(chan error, len(s.loops))
	var wg sync.WaitGroup
	for _, l := range s.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(ready)
		}()
	}
	var firstErr error
	for range s.loops {
		if err := <-ready; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		s.state.Store(stateStopping)
		for _, l := range s.loops {
			l.post(command{op: cmdClose})
		}
	} else {
		close(s.ready)
	}
	wg.Wait()
	s.closeListeners()
	s.state.Store(stateDone)
	close(s.done)
	if firstErr != nil {
		return firstErr
	}
	return ErrServerClosed
}

// Ready returns a channel that is closed once every loop has set up its
// ring and serves its listeners: the moment to announce the server (print
// "listening", notify systemd). It is never closed when Serve fails (for
// example because io_uring is refused), so wait for it together with
// Serve's result:
//
//	errc := make(chan error, 1)
//	go func() { errc <- s.Serve() }()
//	select {
//	case <-s.Ready():
//		log.Print("listening on ", s.Addr())
//	case err := <-errc:
//		log.Fatal(err)
//	}
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Shutdown stops accepting, lets writes in flight finish, closes every
// client and waits for the loops to end. When ctx ends first, the remaining
// clients are closed at once and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.state.CompareAndSwap(stateNew, stateDone) {
		s.closeLoops()
		close(s.done)
		return nil
	}
	s.closingListeners()
	if s.state.CompareAndSwap(stateServing, stateStopping) {
		for _, l := range s.loops {
			l.post(command{op: cmdShutdown})
		}
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close closes every client at once, failing writes not yet done, and
// waits for the loops to end.
func (s *Server) Close() error {
	if s.state.CompareAndSwap(stateNew, stateDone) {
		s.closeLoops()
		close(s.done)
		return nil
	}
	s.closingListeners()
	s.state.CompareAndSwap(stateServing, stateStopping)
	for _, l := range s.loops {
		l.post(command{op: cmdClose})
	}
	<-s.done
	return nil
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	st := Stats{Backend: s.beName}
	for _, l := range s.loops {
		l.pub.addTo(&st)
	}
	s.tlsCnt.addTo(&st)
	return st
}

// loopOf returns the loop a client number belongs to.
func (s *Server) loopOf(c ClientNum) (*loop, error) {
	if i := c.Loop(); i < len(s.loops) && c.Gen() != 0 {
		return s.loops[i], nil
	}
	return nil, ErrClosed
}

// do runs f on c's loop: at once when called on that loop, else through
// the loop's queue.
func (s *Server) do(c ClientNum, cmd command) error {
	l, err := s.loopOf(c)
	if err != nil {
		return err
	}
	if l.onLoop() {
		return l.exec(&cmd, true)
	}
	return s.post(l, cmd)
}

// post hands cmd to loop l from another goroutine.
func (s *Server) post(l *loop, cmd command) error {
	if s.state.Load() >= stateDone {
		return ErrNotServing
	}
	l.post(cmd)
	return nil
}

// RawWrite writes data to c. data must not change until the RawWrite
// callback, which fires once when every byte was written (short writes are
// resumed) or the write failed. Writes to one client go out in call order.
// On c's loop a closed client returns ErrClosed; from another goroutine the
// failure arrives as the callback with failed=true.
func (s *Server) RawWrite(c ClientNum, data []byte) error {
	return s.do(c, command{op: cmdWrite, c: c, data: data})
}

// RawWritev writes bufs to c as one operation; the RawWritev callback fires
// once.
func (s *Server) RawWritev(c ClientNum, bufs [][]byte) error {
	return s.do(c, command{op: cmdWritev, c: c, bufs: bufs})
}

// Send copies data into c's output buffer; it goes out with the loop's next
// flush, coalesced with the client's other writes. No callback fires; if
// the write fails, the client is closed. data may be reused at once.
func (s *Server) Send(c ClientNum, data []byte) error {
	l, err := s.loopOf(c)
	if err != nil {
		return err
	}
	if l.onLoop() { // one gettid per call: this is the hot path of most servers
		cmd := command{op: cmdSend, c: c, data: data}
		return l.exec(&cmd, true)
	}
	return s.post(l, command{op: cmdSend, c: c, data: append([]byte(nil), data...)})
}

// RawRead reads once from c into buf; the RawRead callback gets buf
// trimmed to the bytes read (empty at end of file). Accepted connections
// are read automatically; RawRead is for adopted fds.
func (s *Server) RawRead(c ClientNum, buf []byte) error {
	return s.do(c, command{op: cmdRead, c: c, data: buf})
}

// RawReadv reads once from c into bufs; the RawReadv callback gets bufs
// trimmed to the bytes read.
func (s *Server) RawReadv(c ClientNum, bufs [][]byte) error {
	return s.do(c, command{op: cmdReadv, c: c, bufs: bufs})
}

// RawClose closes c once the writes already asked for are done. The
// RawClose callback fires when it is closed.
func (s *Server) RawClose(c ClientNum) error {
	return s.do(c, command{op: cmdCloseClient, c: c})
}

// Abort closes c at once, failing writes not yet done.
func (s *Server) Abort(c ClientNum) error {
	return s.do(c, command{op: cmdAbort, c: c})
}

// pickLoop returns the loop new adopted fds and events go to: the caller's
// own loop when called from one, else the next loop in turn.
func (s *Server) pickLoop() *loop {
	for _, l := range s.loops {
		if l.onLoop() {
			return l
		}
	}
	return s.loops[int(s.nextEv.Add(1))%len(s.loops)]
}

// adopt registers a new client on a loop and returns its number.
func (s *Server) adopt(cmd command) (ClientNum, error) {
	l := s.pickLoop()
	if l.onLoop() {
		err := l.exec(&cmd, true)
		return cmd.result, err
	}
	if s.state.Load() != stateServing {
		return 0, ErrNotServing
	}
	cmd.res = make(chan adoptResult, 1)
	l.post(cmd)
	select {
	case r := <-cmd.res:
		return r.c, r.err
	case <-s.done:
		return 0, ErrNotServing
	}
}

// PassFD adopts fd, which the caller opened, and returns a client number
// for it. The server closes fd when the client is closed. Adopted fds are
// not read automatically: use RawRead.
func (s *Server) PassFD(fd int) (ClientNum, error) {
	if fd < 0 {
		return 0, fmt.Errorf("netserver: PassFD(%d): bad fd", fd)
	}
	return s.adopt(command{op: cmdPassFD, fd: fd})
}

// EventOpen opens a custom event (an eventfd) and returns its client
// number. Arm it with EventPrepare, fire it with EventTrigger.
func (s *Server) EventOpen() (ClientNum, error) {
	ev, err := eventfd.Open(false)
	if err != nil {
		return 0, err
	}
	c, err := s.adopt(command{op: cmdEventOpen, ev: ev})
	if err != nil {
		ev.Close()
		return 0, err
	}
	return c, nil
}

// EventPrepare sets the info the EventTrigger callback receives for c and
// arms the event. Each trigger after that produces one callback.
func (s *Server) EventPrepare(c ClientNum, info uint64) error {
	return s.do(c, command{op: cmdEventPrepare, c: c, info: info})
}

// EventTrigger triggers event c. It is safe from any goroutine and never
// blocks.
func (s *Server) EventTrigger(c ClientNum) error {
	v, ok := s.events.Load(c)
	if !ok {
		return ErrClosed
	}
	if err := v.(*eventfd.EventFD).Trigger(); err != nil {
		if errors.Is(err, eventfd.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("netserver: trigger %v: %w", c, err)
	}
	return nil
}

// EventClose closes event c. From another goroutine the close is queued:
// a trigger that returned nil before the loop runs it may or may not
// produce a callback; once it has run, EventTrigger returns ErrClosed.
func (s *Server) EventClose(c ClientNum) error {
	return s.do(c, command{op: cmdAbort, c: c})
}
