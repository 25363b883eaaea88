package sendfile

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uringnet/uringnet/internal/testcert"
	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/sys/unix"
)

// fileHandler sends the file, from the offset and length in the request
// byte, on every read.
type fileHandler struct {
	netserver.NopHandler
	srv     atomic.Pointer[netserver.Server]
	snd     *Sender
	f       *os.File
	size    int64
	results chan bool
}

func (h *fileHandler) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	s := h.srv.Load()
	n := h.size
	switch data[0] {
	case 'e':
		n = 0
	case 'x':
		n = h.size + 1000 // more than the file: fails at EOF
	}
	done := func(failed bool) { h.results <- failed }
	switch data[0] {
	case 'h': // the head inside the transfer
		s.QueueOp(c, h.snd.TransferHead([]byte("head:"), h.f, 0, n, done))
	case 'd': // a bare descriptor, closed in done
		fd, err := unix.Dup(int(h.f.Fd()))
		if err != nil {
			panic(err)
		}
		s.QueueOp(c, h.snd.TransferFD([]byte("head:"), fd, 0, n, func(failed bool) {
			unix.Close(fd)
			done(failed)
		}))
	default:
		s.Send(c, []byte("head:"))
		s.QueueOp(c, h.snd.Transfer(h.f, 0, n, done))
	}
	s.Send(c, []byte(":tail"))
}

func start(t *testing.T, cfg Config) (*fileHandler, *netserver.Server, []byte) {
	t.Helper()
	return startTLS(t, cfg, nil)
}

// startTLS is start with the server speaking TLS when tc is set.
func startTLS(t *testing.T, cfg Config, tc *tls.Config) (*fileHandler, *netserver.Server, []byte) {
	t.Helper()
	content := make([]byte, 2<<20+777)
	for i := range content {
		content[i] = byte(i * 31 >> 3)
	}
	name := filepath.Join(t.TempDir(), "f")
	os.WriteFile(name, content, 0o644)
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	h := &fileHandler{snd: New(1, cfg), f: f, size: int64(len(content)), results: make(chan bool, 16)}
	s, err := netserver.New(netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, TLS: tc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, h)
	if err != nil {
		t.Fatal(err)
	}
	h.srv.Store(s)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
			t.Error(err)
		}
		h.snd.Close()
		f.Close()
		if st := h.snd.Stats(); st.PipesOpen != 0 {
			t.Errorf("pipes open after Close: %+v", st)
		}
	})
	return h, s, content
}

func roundTrip(t *testing.T, s *netserver.Server, req string, want int) []byte {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(req))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, want)
	n, _ := io.ReadFull(c, buf)
	return buf[:n]
}

func TestTransfer(t *testing.T) {
	t.Setenv("URINGNET_SENDFILE", "") // the configurations below, not the environment's
	for _, cfg := range []Config{{}, {NoSplice: true}, {PipeSize: 4096, MaxPipes: 1}, {Direct: true}, {DirectCached: true}} {
		h, s, content := start(t, cfg)
		want := append(append([]byte("head:"), content...), ":tail"...)
		for i, req := range []string{"f", "h", "d", "f"} {
			if got := roundTrip(t, s, req, len(want)); !bytes.Equal(got, want) {
				t.Fatalf("%+v, request %d %q: got %d bytes, equal=%v", cfg, i, req, len(got), bytes.Equal(got, want))
			}
			if failed := <-h.results; failed {
				t.Fatal("transfer reported failure")
			}
		}
		if got := roundTrip(t, s, "e", 10); string(got) != "head::tail" {
			t.Fatalf("empty: %q", got)
		}
		<-h.results
		// Asking for more than the file has fails the transfer and closes.
		got := roundTrip(t, s, "x", len(want)+10)
		if len(got) >= len(want) {
			t.Fatalf("past EOF: %d bytes", len(got))
		}
		if failed := <-h.results; !failed {
			t.Fatal("past EOF reported success")
		}
		// Disconnect mid-transfer: the callback fires once (the kernel may
		// have buffered everything already), and the next transfer is whole.
		c, _ := net.Dial("tcp", s.Addr().String())
		c.Write([]byte("f"))
		io.ReadFull(c, make([]byte, 1000))
		c.Close()
		<-h.results
		if got := roundTrip(t, s, "f", len(want)); !bytes.Equal(got, want) {
			t.Fatalf("after disconnect: %d bytes", len(got))
		}
		<-h.results
		select {
		case r := <-h.results:
			t.Fatalf("extra callback %v", r)
		default:
		}
		if st := h.snd.Stats(); st.Transfers < 5 || (cfg.NoSplice && st.Fallbacks == 0) || (cfg.Direct && st.PipesOpen != 0) ||
			(cfg.DirectCached && st.Resident == 0 && s.Backend() == "io_uring") { // without SPLICE (epoll) every transfer is direct
			t.Fatalf("stats %+v", st)
		}
	}
}

// TestTransferTLS sends files to TLS clients: without kernel TLS (this
// host's kernel has none; FeatKTLS is switched off to be sure) every chunk
// is read, sealed and sent, in order with the writes around it.
func TestTransferTLS(t *testing.T) {
	t.Setenv("URINGNET_SENDFILE", "")
	t.Setenv("URINGNET_DISABLE", "ktls")
	p, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{{}, {Direct: true}} {
		h, s, content := startTLS(t, cfg, p.ServerConfig())
		want := append(append([]byte("head:"), content...), ":tail"...)
		for _, req := range []string{"f", "h", "d", "e"} {
			c, err := tls.Dial("tcp", s.Addr().String(), p.ClientConfig())
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(req))
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			w := want
			if req == "e" {
				w = []byte("head::tail")
			}
			got := make([]byte, len(w))
			n, err := io.ReadFull(c, got)
			c.Close()
			if !bytes.Equal(got[:n], w) {
				t.Fatalf("%+v %q: got %d of %d bytes (%v), equal=%v", cfg, req, n, len(w), err, bytes.Equal(got[:n], w))
			}
			if failed := <-h.results; failed {
				t.Fatal("transfer reported failure")
			}
		}
		if st := h.snd.Stats(); st.Sealed != 4 {
			t.Fatalf("stats %+v", st)
		}
	}
}

func TestWaitingForPipeAndCancel(t *testing.T) {
	h, s, content := start(t, Config{PipeSize: 4096, MaxPipes: 1})
	want := append(append([]byte("head:"), content...), ":tail"...)
	done := make(chan []byte, 3)
	for i := 0; i < 3; i++ {
		go func() { done <- roundTrip(t, s, "f", len(want)) }()
	}
	for i := 0; i < 3; i++ {
		if got := <-done; !bytes.Equal(got, want) {
			t.Fatalf("concurrent %d: %d bytes", i, len(got))
		}
		if failed := <-h.results; failed {
			t.Fatal("failed")
		}
	}
	var called int
	tr := h.snd.Transfer(h.f, 0, 10, func(failed bool) {
		if failed {
			called++
		}
	})
	tr.Cancel(0)
	if called != 1 {
		t.Fatalf("Cancel called done %d times", called)
	}
	New(1, Config{}).Close()
}

// TestEnvMode: URINGNET_SENDFILE overrides Config.Direct, and NoSplice wins over both.
func TestEnvMode(t *testing.T) {
	t.Setenv("URINGNET_SENDFILE", "direct")
	if !New(1, Config{}).Direct() || New(1, Config{NoSplice: true}).Direct() {
		t.Error("URINGNET_SENDFILE=direct")
	}
	t.Setenv("URINGNET_SENDFILE", "splice")
	if New(1, Config{Direct: true}).Direct() {
		t.Error("URINGNET_SENDFILE=splice")
	}
	t.Setenv("URINGNET_SENDFILE", "")
	if !New(1, Config{Direct: true}).Direct() || New(1, Config{}).Direct() {
		t.Error("Config.Direct")
	}
}

// TestResident: a file just written is in the page cache; a bad descriptor is not.
func TestResident(t *testing.T) {
	name := filepath.Join(t.TempDir(), "r")
	if err := os.WriteFile(name, make([]byte, 3<<20+5), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vec []byte
	if !resident(int(f.Fd()), 5000, 2<<20, &vec) || !resident(int(f.Fd()), 0, 0, &vec) {
		t.Error("a file just written is not resident")
	}
	if resident(-1, 0, 10, &vec) {
		t.Error("a bad descriptor is resident")
	}
	t.Setenv("URINGNET_SENDFILE", "cached")
	if s := New(1, Config{Direct: true}); s.Direct() || !s.MayDirect() {
		t.Error("URINGNET_SENDFILE=cached")
	}
}
