package netserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uringnet/uringnet/backend"
	"github.com/uringnet/uringnet/ring"
	"golang.org/x/sys/unix"
)

// The scenarios of this file run once per backend, in this process, and
// must give the same observable answer on each (issue 9): RST churn, a
// reader that stops reading (and then resets, or half-closes), running out
// of fds, Shutdown (also while the accepts back off), and the end of
// stream right behind data.

// testBackends are the backends each scenario runs on: Config.Backend and
// the name Server.Backend reports.
var testBackends = []struct{ kind, name string }{
	{"uring", "io_uring"},
	{"epoll", "epoll"},
}

// onBackends runs f once per backend as a subtest named after it. The
// environment's URINGNET_BACKEND is cleared, or it would override
// Config.Backend. The io_uring case is skipped where io_uring is refused;
// the epoll case never is.
func onBackends(t *testing.T, f func(t *testing.T, kind string)) {
	t.Setenv(EnvBackend, "")
	warmNetpoll(t)
	for _, b := range testBackends {
		t.Run(b.kind, func(t *testing.T) {
			if b.kind == "uring" {
				skipWithoutUring(t)
			}
			f(t, b.kind)
		})
	}
}

// warmNetpoll makes the Go runtime create its netpoller (an epoll fd and
// an eventfd, kept for the life of the process) before a test counts fds:
// created by the test's first net call, they would look like a leak.
func warmNetpoll(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// skipWithoutUring skips t when io_uring is refused here (seccomp,
// kernel.io_uring_disabled, no io_uring); any other failure is an error.
func skipWithoutUring(t testing.TB) {
	t.Helper()
	b, err := backend.Open(backend.Uring, backend.Options{Entries: 8})
	var ue *ring.UnavailableError
	switch {
	case errors.As(err, &ue):
		t.Skipf("io_uring refused: %v", err)
	case err != nil:
		t.Fatalf("opening io_uring: %v", err)
	}
	b.Close()
}

// backendName is the name Server.Backend reports for a Config.Backend.
func backendName(kind string) string {
	for _, b := range testBackends {
		if b.kind == kind {
			return b.name
		}
	}
	return kind
}

// startOn starts a server on the backend kind (see startServer) and checks
// that it runs there.
func startOn(t *testing.T, kind string, cfg Config, h Handler) *Server {
	t.Helper()
	cfg.Backend = kind
	s := startServer(t, cfg, h)
	checkBackend(t, s, kind)
	return s
}

func checkBackend(t *testing.T, s *Server, kind string) {
	t.Helper()
	if want := backendName(kind); s.Backend() != want || s.Stats().Backend != want {
		t.Fatalf("Backend() = %q, Stats().Backend = %q; want %q", s.Backend(), s.Stats().Backend, want)
	}
}

// causeRecorder echoes and counts the causes RawClose is given.
type causeRecorder struct {
	echoHandler
	cmu    sync.Mutex
	counts map[string]int
	other  []error // causes outside the expected set
}

func (h *causeRecorder) RawClose(c ClientNum, cause error) {
	var key string
	switch {
	case errors.Is(cause, ErrPeerClosed):
		key = "peer closed"
	case errors.Is(cause, syscall.ECONNRESET):
		key = "ECONNRESET"
	case errors.Is(cause, syscall.EPIPE):
		key = "EPIPE"
	}
	h.cmu.Lock()
	if h.counts == nil {
		h.counts = map[string]int{}
	}
	if key == "" {
		h.other = append(h.other, cause)
	} else {
		h.counts[key]++
	}
	h.cmu.Unlock()
}

// Many clients connect, send, and reset the connection (SO_LINGER 0) at
// random points: before sending, after sending, in the middle of the echo,
// after it. Afterwards nothing is left behind on either backend: no open
// connection, no task, no fd, no stale completion, no panic, and every
// close had a cause a reset or an end of stream explains.
func TestBackendsRSTChurn(t *testing.T) {
	n, maxSize := 1200, 96<<10
	if testing.Short() {
		n = 300
	}
	onBackends(t, func(t *testing.T, kind string) {
		h := &causeRecorder{}
		s := startOn(t, kind, Config{Loops: 2}, h)
		waitFor(t, "both loops armed", func() bool { return s.Stats().TasksInFlight >= 4 }) // accept + wake-up read each
		fds0, tasks0 := countFDs(t), s.Stats().TasksInFlight

		var wg sync.WaitGroup
		var echoed, partial atomic.Int64
		errs := make(chan error, n)
		sem := make(chan struct{}, 32)
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				rng := rand.New(rand.NewPCG(uint64(i), 9)) // the same schedule on both backends
				msg := make([]byte, 1+rng.IntN(maxSize))
				for j := range msg {
					msg[j] = byte(i + j*7)
				}
				c, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					errs <- err
					return
				}
				c.(*net.TCPConn).SetLinger(0) // Close sends RST
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				switch rng.IntN(5) {
				case 0: // reset before sending anything
				case 1: // reset right after sending: the echo is under way
					c.Write(msg[:min(len(msg), 4096)])
				case 2: // reset while still sending
					go c.Write(msg)
					time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
				case 3: // reset in the middle of the echo
					go c.Write(msg)
					k := 1 + rng.IntN(len(msg))
					got := make([]byte, k)
					if _, err := io.ReadFull(c, got); err != nil {
						errs <- fmt.Errorf("client %d: %d of %d bytes: %w", i, k, len(msg), err)
						return
					}
					if !bytes.Equal(got, msg[:k]) {
						errs <- fmt.Errorf("client %d: partial echo differs", i)
						return
					}
					partial.Add(1)
				case 4: // reset after the whole echo
					go c.Write(msg)
					got := make([]byte, len(msg))
					if _, err := io.ReadFull(c, got); err != nil {
						errs <- fmt.Errorf("client %d: echo of %d bytes: %w", i, len(msg), err)
						return
					}
					if !bytes.Equal(got, msg) {
						errs <- fmt.Errorf("client %d: echo differs", i)
						return
					}
					echoed.Add(1)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// A connection reset before the server accepted it is never
		// accepted; every one that was accepted must have been closed.
		waitFor(t, "every connection closed", func() bool {
			st := s.Stats()
			return st.ConnsOpen == 0 && st.Closed == st.Accepted && st.TasksInFlight == tasks0
		})
		waitFor(t, "fds back", func() bool { return countFDs(t) == fds0 })
		st := s.Stats()
		if st.Stale != 0 || st.Panics != 0 || st.Accepted > uint64(n) || st.Accepted < uint64(echoed.Load()+partial.Load()) {
			t.Errorf("after %d connections (%d echoed, %d partly): %v", n, echoed.Load(), partial.Load(), st)
		}
		if st.QueuedBytes != 0 || st.HeldBytes != 0 || st.Congested != 0 || st.OverBudget != 0 {
			t.Errorf("backlog left behind: %v", st)
		}
		h.cmu.Lock()
		defer h.cmu.Unlock()
		total := 0
		for _, k := range h.counts {
			total += k
		}
		if len(h.other) > 0 {
			t.Errorf("%d closes with unexpected causes, first: %v", len(h.other), h.other[0])
		}
		if total+len(h.other) != int(st.Closed) {
			t.Errorf("%d RawClose calls for %d closed clients", total+len(h.other), st.Closed)
		}
		t.Logf("%s: %d accepted of %d, close causes %v", kind, st.Accepted, n, h.counts)
	})
}

// A client that writes much and never reads: on both backends the server
// stops reading it (Congested), its backlog passes MaxQueued by one read at most, the
// input held meanwhile stays bounded, and once the client reads, every
// byte arrives in order.
func TestBackendsSlowReader(t *testing.T) {
	const maxQueued = 64 << 10
	const size = 8 << 20
	payload := make([]byte, size)
	rand.NewChaCha8([32]byte{9}).Read(payload)
	onBackends(t, func(t *testing.T, kind string) {
		h := &drainHandler{}
		s := startOn(t, kind, Config{Loops: 1, MaxQueued: maxQueued}, h)
		conn := dialSmall(t, s)
		werr := make(chan error, 1)
		go func() {
			conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
			_, err := conn.Write(payload)
			werr <- err
		}()
		waitFor(t, "the client congested", func() bool { return s.Stats().Congested == 1 })
		// Sample while the client does not read: the backlog stays bounded.
		var peakQ, peakH uint64
		for i := 0; i < 50; i++ {
			st := s.Stats()
			peakQ, peakH = max(peakQ, st.QueuedBytes), max(peakH, st.HeldBytes)
			time.Sleep(4 * time.Millisecond)
		}
		if limit := uint64(maxQueued + copyBufSize + itemCost); peakQ > limit {
			t.Errorf("backlog peaked at %d bytes, want <= %d", peakQ, limit)
		}
		// What arrives while reads wait is held; bounded by what one
		// receive buffer held when the recv was stopped.
		if limit := uint64(4 << 20); peakH > limit {
			t.Errorf("held input peaked at %d bytes, want <= %d", peakH, limit)
		}
		// Whether it is still congested now depends on the kernel: the
		// server's send buffer grows by itself (tcp_wmem autotuning, more
		// after heavy loopback traffic) and may take the backlog while the
		// client reads nothing. That it was congested is checked below.
		got := readFull(t, conn, size)
		if !bytes.Equal(got, payload) {
			i := 0
			for i < size && got[i] == payload[i] {
				i++
			}
			t.Fatalf("echo differs from byte %d on", i)
		}
		if err := <-werr; err != nil {
			t.Fatalf("write: %v", err)
		}
		waitFor(t, "backlog back to zero", func() bool {
			st := s.Stats()
			return st.QueuedBytes == 0 && st.HeldBytes == 0 && st.Congested == 0
		})
		st := s.Stats()
		if st.Congestions == 0 || h.drained.Load() == 0 || h.sawCong.Load() {
			t.Errorf("congestions=%d drained=%d read-while-congested=%v", st.Congestions, h.drained.Load(), h.sawCong.Load())
		}
		if st.BytesIn != uint64(size) || st.BytesOut != uint64(size) || st.Stale != 0 || st.Panics != 0 {
			t.Errorf("stats %v, want %d bytes each way", st, size)
		}
		t.Logf("%s: backlog peak %d, held peak %d, %d congestions", kind, peakQ, peakH, st.Congestions)
	})
}

// rawClient is a client socket made with socket(2) before the fds run out:
// connecting it needs no new fd. Its reads and writes block, bounded by
// SO_RCVTIMEO/SO_SNDTIMEO.
type rawClient int

func newRawClient(t *testing.T) rawClient {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(20 * time.Second))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	t.Cleanup(func() { unix.Close(fd) })
	return rawClient(fd)
}

func (c rawClient) connect(port int) error {
	sa := &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	for {
		// The runtime's preemption signals interrupt blocking calls; an
		// interrupted connect goes on in the kernel.
		switch err := unix.Connect(int(c), sa); err {
		case unix.EINTR, unix.EALREADY:
			time.Sleep(time.Millisecond)
		case unix.EISCONN:
			return nil
		default:
			return err
		}
	}
}

// echo writes msg and reads as many bytes back.
func (c rawClient) echo(msg string) (string, error) {
	for done := 0; done < len(msg); {
		n, err := unix.Write(int(c), []byte(msg[done:]))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		done += n
	}
	buf := make([]byte, len(msg))
	for got := 0; got < len(buf); {
		n, err := unix.Read(int(c), buf[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return string(buf[:got]), err
		}
		if n == 0 {
			return string(buf[:got]), io.ErrUnexpectedEOF
		}
		got += n
	}
	return string(buf), nil
}

// maxFD returns the highest fd number open in this process.
func maxFD(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	hi := 0
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			hi = max(hi, n)
		}
	}
	return hi
}

// fdSqueeze runs a process out of fds: it lowers RLIMIT_NOFILE's soft
// limit (restored at cleanup) and can take every fd left below it.
type fdSqueeze struct {
	t        *testing.T
	old      syscall.Rlimit
	ballast  []int
	restored bool
}

// squeezeFDs lowers the limit to leave room for a server's own fds and a
// few connections. Lower it before the server starts: io_uring reads
// RLIMIT_NOFILE when it prepares an accept, so a multishot accept armed
// before would go on with the old limit.
func squeezeFDs(t *testing.T) *fdSqueeze {
	f := &fdSqueeze{t: t}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &f.old); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.restore)
	low := f.old
	low.Cur = uint64(maxFD(t) + 1 + 64)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	return f
}

// fill takes every fd left below the limit and returns how many.
func (f *fdSqueeze) fill() int {
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			if err != unix.EMFILE {
				f.t.Fatalf("open: %v", err)
			}
			return len(f.ballast)
		}
		f.ballast = append(f.ballast, fd)
	}
}

// free gives the fds taken by fill back; the limit stays low.
func (f *fdSqueeze) free() {
	for _, fd := range f.ballast {
		unix.Close(fd)
	}
	f.ballast = nil
}

// restore frees the fds and restores the limit.
func (f *fdSqueeze) restore() {
	f.free()
	if !f.restored {
		f.restored = true
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &f.old); err != nil {
			f.t.Errorf("restoring RLIMIT_NOFILE: %v", err)
		}
	}
}

// Running out of fds: with RLIMIT_NOFILE lowered and every fd below it in
// use, the server's accepts fail (AcceptErrors counts, the back-off runs);
// once fds are free it accepts the connections that waited and serves
// them, on both backends.
func TestBackendsEMFILE(t *testing.T) {
	const pending = 8
	onBackends(t, func(t *testing.T, kind string) {
		clients := make([]rawClient, pending)
		for i := range clients {
			clients[i] = newRawClient(t)
		}
		fds := squeezeFDs(t)
		s := startOn(t, kind, Config{Loops: 1}, &echoHandler{})
		first := dial(t, s)
		first.Write([]byte("up"))
		readFull(t, first, 2)
		port := s.Addr().(*net.TCPAddr).Port
		// Counters are published once per loop turn: unbatched, the echo
		// can arrive before the turn that accepted publishes.
		waitFor(t, "the first connection counted", func() bool { return s.Stats().Accepted == 1 })
		before := s.Stats()

		if n := fds.fill(); n < pending {
			t.Fatalf("only %d fds to free", n)
		}
		// The connections complete in the kernel and wait in the backlog:
		// every accept fails with EMFILE.
		for i, c := range clients {
			if err := c.connect(port); err != nil {
				t.Fatalf("connect %d: %v", i, err)
			}
		}
		waitFor(t, "accept errors", func() bool { return s.Stats().AcceptErrors >= before.AcceptErrors+2 })
		if st := s.Stats(); st.Accepted != before.Accepted {
			t.Fatalf("accepted %d connections with no fd free", st.Accepted-before.Accepted)
		}
		// The connection accepted before still works.
		first.Write([]byte("still"))
		readFull(t, first, 5)

		// Free the fds (the limit stays low): the waiting connections are
		// accepted and served once the back-off ends.
		fds.free()
		for i, c := range clients {
			msg := fmt.Sprintf("after EMFILE %d", i)
			if got, err := c.echo(msg); err != nil || got != msg {
				t.Fatalf("client %d: %q, %v", i, got, err)
			}
		}
		fds.restore()
		c := dial(t, s)
		c.Write([]byte("fresh"))
		if got := readFull(t, c, 5); string(got) != "fresh" {
			t.Fatalf("fresh client got %q", got)
		}
		// Counters lag the echo by up to a loop turn (see above).
		waitFor(t, "every connection counted", func() bool { return s.Stats().Accepted >= before.Accepted+pending+1 })
		st := s.Stats()
		if st.Accepted != before.Accepted+pending+1 || st.AcceptErrors == before.AcceptErrors || st.Stale != 0 || st.Panics != 0 {
			t.Errorf("before %v\nafter %v", before, st)
		}
		t.Logf("%s: %d accept errors", kind, st.AcceptErrors-before.AcceptErrors)
	})
}

// Shutdown while the accepts back off after EMFILE (no accept armed): the
// listener is closed at once all the same, so a connection attempt is
// refused rather than left in a backlog nobody accepts from while a slow
// client holds the shutdown open.
func TestBackendsShutdownDuringAcceptBackoff(t *testing.T) {
	const size = 4 << 20
	payload := make([]byte, size)
	rand.NewChaCha8([32]byte{5}).Read(payload)
	onBackends(t, func(t *testing.T, kind string) {
		waiting, probe := newRawClient(t), newRawClient(t)
		fds := squeezeFDs(t)
		h := &shutdownHandler{payload: payload, big: make(chan ClientNum, 1), accepted: make(chan ClientNum, 8)}
		s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, Backend: kind, Logger: testLogger(t)}, h)
		if err != nil {
			t.Fatal(err)
		}
		h.s = s
		errc := make(chan error, 1)
		go func() { errc <- s.Serve() }()
		defer s.Close()
		select {
		case <-s.Ready():
		case err := <-errc:
			t.Fatalf("Serve: %v", err)
		}
		checkBackend(t, s, kind)
		port := s.Addr().(*net.TCPAddr).Port

		busy := dialSmall(t, s)
		busy.Write([]byte("send"))
		<-h.big
		idle := dial(t, s)
		idle.Write([]byte("hi"))
		readFull(t, idle, 2)

		fds.fill()
		if err := waiting.connect(port); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "accept errors", func() bool { return s.Stats().AcceptErrors >= 2 })

		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- s.Shutdown(ctx) }()
		idle.SetReadDeadline(time.Now().Add(20 * time.Second))
		if n, err := idle.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("idle client: %d bytes, %v; want EOF", n, err)
		}
		// The only loop has begun to stop: its listener is closed.
		if err := probe.connect(port); err != unix.ECONNREFUSED {
			t.Errorf("connecting during Shutdown: %v, want ECONNREFUSED; %v", err, s.Stats())
		}
		fds.restore()
		if got := readFull(t, busy, size); !bytes.Equal(got, payload) {
			t.Fatal("the busy client's bytes differ")
		}
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
		if st := s.Stats(); st.Accepted != 2 || st.Stale != 0 || st.TasksInFlight != 0 {
			t.Errorf("after Shutdown: %v", st)
		}
	})
}

// shutdownHandler answers "send" with a large RawWrite and echoes anything
// else; it records writes and close causes.
type shutdownHandler struct {
	echoHandler
	payload  []byte
	big      chan ClientNum
	accepted chan ClientNum
}

func (h *shutdownHandler) Accept(c ClientNum) {
	select {
	case h.accepted <- c:
	default:
	}
}

func (h *shutdownHandler) RawRead(data []byte, c ClientNum, failed bool) {
	if !failed && string(data) == "send" {
		h.s.RawWrite(c, h.payload)
		h.big <- c
		return
	}
	h.echoHandler.RawRead(data, c, failed)
}

// Shutdown with a client in the middle of a large response it does not
// read yet, and an idle one: the idle one gets end of file at once, the
// listeners close, Shutdown waits until the busy one has read every byte
// queued for it, which then gets end of file (not a reset); Shutdown
// returns nil and every loop ends, leaving no fd behind.
func TestBackendsShutdown(t *testing.T) {
	size := 8 << 20
	payload := make([]byte, size)
	rand.NewChaCha8([32]byte{7}).Read(payload)
	onBackends(t, func(t *testing.T, kind string) {
		fds0 := countFDs(t)
		h := &shutdownHandler{payload: payload, big: make(chan ClientNum, 1), accepted: make(chan ClientNum, 64)}
		s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2, Backend: kind, Logger: testLogger(t)}, h)
		if err != nil {
			t.Fatal(err)
		}
		h.s = s
		errc := make(chan error, 1)
		go func() { errc <- s.Serve() }()
		defer func() {
			s.Close() // after a failure; nothing once shut down
			if t.Failed() {
				t.Logf("stats %v", s.Stats())
			}
		}()
		select {
		case <-s.Ready():
		case err := <-errc:
			t.Fatalf("Serve: %v", err)
		}
		checkBackend(t, s, kind)

		busy := dialSmall(t, s)
		busy.Write([]byte("send"))
		var bc ClientNum
		select {
		case bc = <-h.big:
		case <-time.After(20 * time.Second):
			t.Fatal("no request")
		}
		idle := dial(t, s)
		idle.Write([]byte("hi"))
		readFull(t, idle, 2)
		if <-h.accepted != bc {
			t.Fatal("the first client accepted is not the busy one")
		}
		ic := <-h.accepted
		waitFor(t, "the large write queued", func() bool { st := s.Stats(); return st.QueuedBytes > 0 && st.ConnsOpen == 2 })

		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- s.Shutdown(ctx) }()

		idle.SetReadDeadline(time.Now().Add(20 * time.Second))
		if n, err := idle.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("idle client: %d bytes, %v; want EOF", n, err)
		}
		// The listeners close at once: a connection attempt is refused.
		// One that a loop took before it stopped is served and closed; none
		// may wait in a backlog that nobody accepts from any more.
		waitFor(t, "the listeners closed", func() bool {
			c, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
			if err != nil {
				if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) {
					t.Fatalf("connecting during Shutdown: %v, want ECONNREFUSED", err)
				}
				return true
			}
			defer c.Close()
			// A handshake that straddles a listener's close can leave the
			// client connected to a request the kernel dropped (without
			// net.ipv4.tcp_migrate_req): only data it sends is answered,
			// with a reset. A byte also gets an echo from a loop that had
			// not begun to stop; its close follows.
			c.Write([]byte("x"))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("a connection made during Shutdown was neither refused nor closed: %v", s.Stats())
			}
			return false
		})
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned %v with %d bytes still queued", err, s.Stats().QueuedBytes)
		default:
		}
		got := readFull(t, busy, size)
		if !bytes.Equal(got, payload) {
			t.Fatal("the busy client's bytes differ")
		}
		busy.SetReadDeadline(time.Now().Add(20 * time.Second))
		if n, err := busy.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("busy client after its bytes: %d bytes, %v; want EOF", n, err)
		}
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Serve: %v", err)
		}
		for i, l := range s.loops {
			if l.tid.Load() != 0 {
				t.Errorf("loop %d still running", i)
			}
		}
		st := s.Stats()
		if st.ConnsOpen != 0 || st.TasksInFlight != 0 || st.Stale != 0 || st.Panics != 0 || st.BytesOut < uint64(size)+2 {
			t.Errorf("after Shutdown: %v", st)
		}
		if w := h.writeResults(); len(w) != 1 || w[0].failed || w[0].c != bc {
			t.Errorf("write callbacks %+v, want one that succeeded", w)
		}
		// (A probe of the listeners may have reached a loop that had not
		// begun to stop yet: it was served and closed by the peer.)
		for _, c := range []ClientNum{bc, ic} {
			if cause, ok := h.cause(c); !errors.Is(cause, ErrShutdown) {
				t.Errorf("client %v closed (%v) by %v, want ErrShutdown", c, ok, cause)
			}
		}
		busy.Close()
		idle.Close()
		waitFor(t, "fds back", func() bool { return countFDs(t) <= fds0 })
	})
}

// A client that stops reading, is congested, and then resets the
// connection: the server notices on both backends (its recv is not armed,
// so the pending send is what fails), closes the client with a reset
// cause, and leaves nothing behind.
func TestBackendsResetWhileCongested(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		h := &causeRecorder{}
		s := startOn(t, kind, Config{Loops: 1, MaxQueued: 64 << 10}, h)
		waitFor(t, "the loop armed", func() bool { return s.Stats().TasksInFlight >= 2 })
		fds0, tasks0 := countFDs(t), s.Stats().TasksInFlight
		conn := dialSmall(t, s)
		go func() {
			conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
			conn.Write(make([]byte, 8<<20))
		}()
		waitFor(t, "the client congested", func() bool { return s.Stats().Congested == 1 })
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
		waitFor(t, "the client closed", func() bool {
			st := s.Stats()
			return st.ConnsOpen == 0 && st.Closed == 1 && st.TasksInFlight == tasks0
		})
		waitFor(t, "fds back", func() bool { return countFDs(t) <= fds0 })
		st := s.Stats()
		if st.Congested != 0 || st.QueuedBytes != 0 || st.HeldBytes != 0 || st.Stale != 0 || st.Panics != 0 {
			t.Errorf("after the reset: %v", st)
		}
		h.cmu.Lock()
		defer h.cmu.Unlock()
		if len(h.other) != 0 || h.counts["ECONNRESET"]+h.counts["EPIPE"] != 1 {
			t.Errorf("close causes %v, others %v; want one reset", h.counts, h.other)
		}
	})
}

// A client sends much more than MaxQueued, half-closes, and only then
// reads: on both backends the end of stream is seen after the input held
// while congested, every byte is echoed in order, and the server closes
// the connection once its writes are out (EOF, cause ErrPeerClosed).
func TestBackendsHalfCloseWhileCongested(t *testing.T) {
	const size = 4 << 20
	payload := make([]byte, size)
	rand.NewChaCha8([32]byte{3}).Read(payload)
	onBackends(t, func(t *testing.T, kind string) {
		h := &causeRecorder{}
		s := startOn(t, kind, Config{Loops: 1, MaxQueued: 64 << 10}, h)
		conn := dialSmall(t, s)
		werr := make(chan error, 1)
		go func() {
			conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
			_, err := conn.Write(payload)
			if err == nil {
				err = conn.(*net.TCPConn).CloseWrite()
			}
			werr <- err
		}()
		waitFor(t, "the client congested", func() bool { return s.Stats().Congested == 1 })
		conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		got, err := io.ReadAll(conn)
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("read %d of %d bytes (equal %v), then %v", len(got), size, bytes.Equal(got, payload), err)
		}
		if err := <-werr; err != nil {
			t.Fatalf("write: %v", err)
		}
		waitFor(t, "the client closed", func() bool { return s.Stats().ConnsOpen == 0 })
		h.cmu.Lock()
		defer h.cmu.Unlock()
		if len(h.other) != 0 || h.counts["peer closed"] != 1 {
			t.Errorf("close causes %v, others %v; want one ErrPeerClosed", h.counts, h.other)
		}
		if st := s.Stats(); st.Congestions == 0 || st.Stale != 0 || st.QueuedBytes != 0 || st.HeldBytes != 0 {
			t.Errorf("stats %v", st)
		}
	})
}

// Data followed at once by the end of stream, in sizes around multiples of
// the provided buffers (16 KiB): on both backends every byte is echoed, the
// end of stream is seen after it, and the server closes with ErrPeerClosed.
func TestBackendsEOFAfterData(t *testing.T) {
	sizes := []int{1, 100, 16<<10 - 1, 16 << 10, 16<<10 + 1, 32 << 10, 128 << 10, 128<<10 + 1, 1 << 20}
	const rounds = 8
	onBackends(t, func(t *testing.T, kind string) {
		h := &causeRecorder{}
		s := startOn(t, kind, Config{Loops: 2}, h)
		var wg sync.WaitGroup
		errs := make(chan error, len(sizes)*rounds)
		for r := 0; r < rounds; r++ {
			for _, n := range sizes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					msg := make([]byte, n)
					for i := range msg {
						msg[i] = byte(i*31 + n + r)
					}
					c, err := net.Dial("tcp", s.Addr().String())
					if err != nil {
						errs <- err
						return
					}
					defer c.Close()
					c.SetDeadline(time.Now().Add(30 * time.Second))
					go func() {
						c.Write(msg)
						c.(*net.TCPConn).CloseWrite()
					}()
					got, err := io.ReadAll(c)
					if err != nil || !bytes.Equal(got, msg) {
						errs <- fmt.Errorf("%d bytes then EOF: got %d (equal %v), %v", n, len(got), bytes.Equal(got, msg), err)
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		waitFor(t, "every client closed", func() bool { return s.Stats().ConnsOpen == 0 })
		h.cmu.Lock()
		defer h.cmu.Unlock()
		if len(h.other) != 0 || h.counts["peer closed"] != len(sizes)*rounds {
			t.Errorf("close causes %v, others %v; want %d ErrPeerClosed", h.counts, h.other, len(sizes)*rounds)
		}
	})
}
