package fastcgi

import (
	"errors"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// front is the HTTP handler of the tests: paths under /fcgi/ go to the
// Client, with SCRIPT_FILENAME = scriptDir + the rest of the path.
type front struct {
	http.NopHTTPHandler
	s         *http.Server
	cl        *Client
	scriptDir string
}

func (f *front) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	p := string(req.Path)
	rest, ok := strings.CutPrefix(p, "/fcgi/")
	if !ok {
		f.s.Respond(c, 404, "text/plain", []byte("not here\n"))
		return
	}
	sc := Script{Filename: f.scriptDir + "/" + rest, Name: p, DocumentRoot: f.scriptDir}
	if i := strings.IndexByte(rest, '/'); i >= 0 { // PATH_INFO after the script
		sc = Script{Filename: f.scriptDir + "/" + rest[:i], Name: "/fcgi/" + rest[:i], PathInfo: rest[i:],
			DocumentRoot: f.scriptDir}
	}
	if err := f.cl.Serve(req, c, Params(req, c, f.s.Net(), sc)); err != nil {
		f.s.RespondError(c, 500)
	}
}

func (f *front) HTTPBody(data []byte, c netserver.ClientNum, last bool) { f.cl.HTTPBody(data, c, last) }
func (f *front) HTTPWrite(data []byte, c netserver.ClientNum, failed bool) {
	f.cl.HTTPWrite(data, c, failed)
}
func (f *front) HTTPClose(c netserver.ClientNum) { f.cl.HTTPClose(c) }

func testLog() *slog.Logger {
	if os.Getenv("FASTCGI_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startFront starts an HTTP server on 127.0.0.1:0 sending /fcgi/ to the
// application at cfg.Addr; at cleanup it checks that fds are back where
// they were.
func startFront(t testing.TB, cfg Config, loops int, scriptDir string) (*front, string) {
	t.Helper()
	fds := countFDs(t)
	f := &front{scriptDir: scriptDir}
	s, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: loops,
		Logger: testLog(), TickInterval: 20 * time.Millisecond}, Limits: http.Limits{MaxBodyBytes: 1 << 30}}, f)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	cfg.Logger = testLog()
	if f.cl, err = New(s, cfg); err != nil {
		s.Close()
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	<-s.Ready()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if st := s.Stats(); st.TasksInFlight != 0 || st.Panics != 0 {
			t.Errorf("after close: %s", st)
		}
		deadline := time.Now().Add(5 * time.Second)
		for countFDs(t) > fds && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := countFDs(t); n > fds {
			t.Errorf("fds: %d at start, %d at end", fds, n)
		}
	})
	return f, "http://" + s.Addr().String()
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// newHTTPClient returns a client with its own transport, closed at
// cleanup.
func newHTTPClient(t testing.TB) *nethttp.Client {
	tr := &nethttp.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &nethttp.Client{Transport: tr, Timeout: 60 * time.Second}
}

// countingListener counts the connections accepted.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// waitFor polls cond for up to 30 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
