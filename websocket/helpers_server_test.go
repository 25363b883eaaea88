package websocket

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// wsHandler is the test server's HTTP and WebSocket handler. Paths:
// /ws echoes with Send, /write with Write (of a copy), /writev with Writev
// (the message in two halves), /sink reads and never answers. A text
// message "close <code> <reason>" makes the server start the close
// handshake.
type wsHandler struct {
	http.NopHTTPHandler
	NopHandler
	hs *http.Server
	ws *Server

	mu       sync.Mutex
	paths    map[netserver.ClientNum]string
	opened   chan netserver.ClientNum // upgraded connections (dropped when full)
	closed   map[netserver.ClientNum]bool
	failed   map[netserver.ClientNum]int
	writes   int // WebSocketWrite/Writev calls
	wfailed  int // ... with failed set
	upErrs   []error
	messages chan string           // /sink: copies of what arrives, when not nil
	room     []netserver.ClientNum // /chat members, copied on write (a broadcast allocates nothing)
}

func (h *wsHandler) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	path := string(req.Path)
	switch path {
	case "/ws", "/write", "/writev", "/sink", "/chat":
	default:
		h.hs.RespondError(c, 404)
		return
	}
	if err := h.ws.Upgrade(req, c); err != nil {
		h.mu.Lock()
		h.upErrs = append(h.upErrs, err)
		h.mu.Unlock()
		return
	}
	h.mu.Lock()
	h.paths[c] = path
	if path == "/chat" {
		h.room = append(h.room[:len(h.room):len(h.room)], c)
	}
	h.mu.Unlock()
	select {
	case h.opened <- c:
	default:
	}
}

func (h *wsHandler) path(c netserver.ClientNum) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.paths[c]
}

func (h *wsHandler) WebSocketRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		h.mu.Lock()
		h.failed[c]++
		h.mu.Unlock()
		return
	}
	op := h.ws.MessageType(c)
	if op == OpText && strings.HasPrefix(string(data), "close ") {
		f := strings.SplitN(string(data), " ", 3)
		code, _ := strconv.Atoi(f[1])
		h.ws.Close(c, CloseCode(code), f[2])
		return
	}
	switch h.path(c) {
	case "/ws":
		h.ws.Send(c, op, data)
	case "/write":
		h.ws.Write(c, op, append([]byte(nil), data...))
	case "/writev":
		b := append([]byte(nil), data...)
		h.ws.Writev(c, op, [][]byte{b[:len(b)/2], nil, b[len(b)/2:]})
	case "/chat":
		h.mu.Lock()
		members := h.room
		h.mu.Unlock()
		if err := h.ws.Broadcast(members, op, data); errors.Is(err, ErrBusy) {
			h.ws.Close(c, 1013, "sending too fast") // Try Again Later
		}
	case "/sink":
		if h.messages != nil {
			h.messages <- string(data)
		}
	}
}

func (h *wsHandler) WebSocketWrite(data []byte, c netserver.ClientNum, failed bool) {
	h.mu.Lock()
	h.writes++
	if failed {
		h.wfailed++
	}
	h.mu.Unlock()
}

func (h *wsHandler) WebSocketWritev(bufs [][]byte, c netserver.ClientNum, failed bool) {
	h.WebSocketWrite(nil, c, failed)
}

func (h *wsHandler) WebSocketClose(c netserver.ClientNum) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed[c] {
		panic(fmt.Sprintf("WebSocketClose(%v) twice", c))
	}
	h.closed[c] = true
	for i, m := range h.room {
		if m == c {
			h.room = append(append([]netserver.ClientNum(nil), h.room[:i]...), h.room[i+1:]...)
			break
		}
	}
}

func (h *wsHandler) isClosed(c netserver.ClientNum) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed[c]
}

// env is a running test server.
type env struct {
	t    testing.TB
	hs   *http.Server
	ws   *Server
	h    *wsHandler
	addr string
	base snapshot

	client *nethttp.Client // for plain HTTP requests: DefaultClient, or one trusting the test CA
	scheme string          // http or https
}

// snapshot is what must return to its starting value after a test.
type snapshot struct {
	fds, tasks int
	frames     int64
	conns      int64
}

func (e *env) snap() snapshot {
	st := e.hs.Stats()
	ws := e.ws.Stats()
	return snapshot{fds: countFDs(e.t), tasks: int(st.TasksInFlight), frames: ws.SharedFrames, conns: ws.Conns}
}

// checkBaseline waits until fds, tasks, shared frames and connections are
// back to their values at start.
func (e *env) checkBaseline() {
	e.t.Helper()
	var got snapshot
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = e.snap()
		if got == e.base {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("resources not back to start: got %+v, want %+v (net %s)", got, e.base, e.hs.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs an http.Server with a WebSocket server on 127.0.0.1:0.
func start(t testing.TB, cfg Config, loops int) *env {
	t.Helper()
	return startWith(t, cfg, loops, nil)
}

// startWith is start with the server speaking TLS when tlsCfg is set
// (e.client then trusts it).
func startWith(t testing.TB, cfg Config, loops int, tlsCfg *tls.Config) *env {
	t.Helper()
	h := &wsHandler{
		paths:  map[netserver.ClientNum]string{},
		closed: map[netserver.ClientNum]bool{},
		failed: map[netserver.ClientNum]int{},
		opened: make(chan netserver.ClientNum, 4096),
	}
	hs, err := http.NewServer(http.Config{
		Net:           netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: loops, Logger: testLogger(), TLS: tlsCfg},
		LingerTimeout: 100 * time.Millisecond, // ticks every 25 ms
	}, h)
	if err != nil {
		t.Fatal(err)
	}
	ws := NewServer(hs, cfg, h)
	h.hs, h.ws = hs, ws
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve() }()
	e := &env{t: t, hs: hs, ws: ws, h: h, addr: hs.Addr().String(), client: nethttp.DefaultClient, scheme: "http"}
	if tlsCfg != nil {
		e.client, e.scheme = tlsProbeClient(), "https"
	}
	t.Cleanup(func() {
		hs.Net().Close()
		if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if st := hs.Stats(); st.Stale != 0 || st.Panics != 0 {
			t.Errorf("after Close: %s", st)
		}
		if n := ws.Stats().SharedFrames; n != 0 {
			t.Errorf("after Close: %d shared frames still referenced", n)
		}
	})
	// Wait for the loops: a request answered proves they run.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := e.client.Get(e.scheme + "://" + e.addr + "/none")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.client.CloseIdleConnections()
	// Let the probe connection go.
	time.Sleep(10 * time.Millisecond)
	waitFor(t, "probe connection closed", func() bool { return hs.Stats().ConnsOpen == 0 })
	// The probe reached one loop; every loop has its accept and wake-up
	// reads armed (and published) before the baseline is taken.
	waitFor(t, "every loop armed", func() bool { return hs.Stats().TasksInFlight >= uint64(2*loops) })
	e.base = e.snap()
	return e
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitFor polls cond for up to 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// dialGorilla opens a gorilla/websocket client connection to path.
func (e *env) dialGorilla(path string, d *gorilla.Dialer) *gorilla.Conn {
	e.t.Helper()
	if d == nil {
		d = &gorilla.Dialer{HandshakeTimeout: 10 * time.Second}
	}
	c, resp, err := d.Dial("ws://"+e.addr+path, nil)
	if err != nil {
		e.t.Fatalf("dial %s: %v (%v)", path, err, resp)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a client connection after a handshake done by hand, for
// sending bytes no real client library would.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

// stingyDialer makes connections that the kernel buffers little for: a
// small receive buffer and a small MSS (on loopback the MSS is 64 KiB,
// and the server's send buffer starts at ten segments), so that for a
// client that does not read, the server's own queue fills up soon.
var stingyDialer = &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
	return rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 536)
	})
}}

// bufDialer returns a dialer whose connections have SO_SNDBUF and
// SO_RCVBUF set to size before connecting, so that what the kernel buffers
// for them does not depend on autotuning or cached TCP metrics.
func bufDialer(size int) *net.Dialer {
	return &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, size)
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
		})
	}}
}

// dialRaw opens a connection and completes the handshake for path.
func (e *env) dialRaw(path string) *rawConn {
	return e.dialRawWith(path, &net.Dialer{})
}

// dialRawWith is dialRaw with a dialer.
func (e *env) dialRawWith(path string, d *net.Dialer) *rawConn {
	e.t.Helper()
	return e.dialRawOpts(path, d, false)
}

// dialRawExt is dialRaw offering permessage-deflate when deflate is set
// (which the server must then accept).
func (e *env) dialRawExt(path string, deflate bool) *rawConn {
	e.t.Helper()
	return e.dialRawOpts(path, &net.Dialer{}, deflate)
}

func (e *env) dialRawOpts(path string, d *net.Dialer, deflate bool) *rawConn {
	e.t.Helper()
	nc, err := d.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { nc.Close() })
	rc := &rawConn{Conn: nc, r: bufio.NewReader(nc)}
	ext := ""
	if deflate {
		ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, e.addr, ext)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := nethttp.ReadResponse(rc.r, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		e.t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
	}
	if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != deflate {
		e.t.Fatalf("handshake: deflate %v, want %v (%v)", got, deflate, resp.Header)
	}
	return rc
}

// serverFrame is a frame read from the server.
type serverFrame struct {
	fin     bool
	rsv     byte
	op      Opcode
	payload []byte
}

// readFrame reads one server frame (which must not be masked).
func (rc *rawConn) readFrame() (serverFrame, error) {
	rc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(rc.r, h[:]); err != nil {
		return serverFrame{}, err
	}
	if h[1]&0x80 != 0 {
		return serverFrame{}, errors.New("server frame masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(rc.r, b[:]); err != nil {
			return serverFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(rc.r, b[:]); err != nil {
			return serverFrame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(rc.r, p); err != nil {
		return serverFrame{}, err
	}
	return serverFrame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70, op: Opcode(h[0] & 0xF), payload: p}, nil
}

// readClose reads frames until a close frame and returns its code (0 when
// it has none) and reason.
func (rc *rawConn) readClose(t testing.TB) (CloseCode, string) {
	t.Helper()
	for {
		f, err := rc.readFrame()
		if err != nil {
			t.Fatalf("waiting for a close frame: %v", err)
		}
		if f.op != OpClose {
			continue
		}
		if len(f.payload) < 2 {
			return 0, ""
		}
		return CloseCode(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:])
	}
}

// expectClose reads frames until a close frame, checks its code, and then
// expects the server to end the TCP stream.
func (rc *rawConn) expectClose(t testing.TB, want CloseCode) {
	t.Helper()
	for {
		f, err := rc.readFrame()
		if err != nil {
			t.Fatalf("waiting for close %d: %v", want, err)
		}
		if f.op != OpClose {
			continue
		}
		if len(f.payload) < 2 {
			t.Fatalf("close frame without a code, want %d", want)
		}
		if got := CloseCode(binary.BigEndian.Uint16(f.payload)); got != want {
			t.Fatalf("close code %v (%q), want %v", got, f.payload[2:], want)
		}
		break
	}
	rc.expectEOF(t)
}

// expectEOF expects the server to end the TCP stream (FIN or reset), and
// closes the client's end.
func (rc *rawConn) expectEOF(t testing.TB) {
	t.Helper()
	rc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, rc.r)
	if err != nil && !isReset(err) {
		t.Fatalf("after close: %v (%d bytes)", err, n)
	}
	rc.Close()
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}
