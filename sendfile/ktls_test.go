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
	"testing"
	"time"

	"github.com/uringnet/uringnet/internal/ktlstest"
	"github.com/uringnet/uringnet/internal/testcert"
	"github.com/uringnet/uringnet/netserver"
)

// kernelTLS reports whether the kernel seals for TLS clients here, and why
// not.
func kernelTLS() (bool, string) {
	if f, err := netserver.ParseFeatures(os.Getenv(netserver.EnvDisable)); err == nil && f&netserver.FeatKTLS != 0 {
		return false, netserver.EnvDisable + " disables it"
	}
	if err := ktlstest.Probe(); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// TestTransferTLS sends a file of several MiB to TLS clients, byte for
// byte, with each way of sending: with kernel TLS (where the kernel has
// it) the file goes by splice or sendfile(2) and the kernel seals it;
// without, it is read and sealed in Go. The first response of each
// connection is the file (a transfer with its head), so that the op, not
// a write, is what meets the connection's first application data.
func TestTransferTLS(t *testing.T) {
	t.Setenv("URINGNET_SENDFILE", "")
	ktls, why := kernelTLS()
	if !ktls {
		t.Logf("kernel TLS unavailable (%s): records sealed in Go", why)
	}
	pair, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	size := 5<<20 + 333
	if testing.Short() {
		size = 2<<20 + 333 // the VM runs it three times under TCG
	}
	content := make([]byte, size)
	for i := range content {
		content[i] = byte(i*7 + i>>11)
	}
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"splice", Config{}}, {"direct", Config{Direct: true}}, {"read-send", Config{NoSplice: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			h := &fileHandler{snd: New(1, tc.cfg), f: f, size: int64(len(content)), results: make(chan bool, 16)}
			s, err := netserver.New(netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1, TLS: pair.ServerConfig(),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, h)
			if err != nil {
				t.Fatal(err)
			}
			h.srv.Store(s)
			errc := make(chan error, 1)
			go func() { errc <- s.Serve() }()
			defer func() {
				s.Close()
				if err := <-errc; !errors.Is(err, netserver.ErrServerClosed) {
					t.Error(err)
				}
				h.snd.Close()
			}()
			want := append(append([]byte("head:"), content...), ":tail"...)
			reqs := []string{"h", "f", "d"}
			if testing.Short() {
				reqs = reqs[:2] // "d" takes the path of "h"
			}
			for i, req := range reqs {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.Addr().String(), pair.ClientConfig())
				if err != nil {
					t.Fatal(err)
				}
				c.Write([]byte(req))
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				got := make([]byte, len(want))
				n, err := io.ReadFull(c, got)
				if !bytes.Equal(got[:n], want) {
					t.Fatalf("request %d %q: got %d bytes (%v), equal=%v", i, req, n, err, bytes.Equal(got[:n], want))
				}
				if failed := <-h.results; failed {
					t.Fatal("transfer reported failure")
				}
				// Both directions still work after the transfer.
				c.Write([]byte("e"))
				if got := make([]byte, 10); func() bool { _, err := io.ReadFull(c, got); return err != nil }() || string(got) != "head::tail" {
					t.Fatalf("after the transfer: %q", got)
				}
				<-h.results
				c.Close()
			}
			st, nst := h.snd.Stats(), s.Stats()
			t.Logf("kernel TLS %v: sendfile stats %+v; TLSKernelTX=%d TLSKernelTXFailed=%d", ktls, st, nst.TLSKernelTX, nst.TLSKernelTXFailed)
			if ktls {
				if nst.TLSKernelTX != uint64(len(reqs)) || st.Sealed != 0 {
					t.Fatalf("kernel TLS on %d of %d connections, %d transfers sealed in Go", nst.TLSKernelTX, len(reqs), st.Sealed)
				}
				if tc.name == "splice" && st.Fallbacks != 0 {
					t.Fatalf("%d transfers fell back from splice under kernel TLS", st.Fallbacks)
				}
			} else if st.Sealed != uint64(2*len(reqs)) {
				t.Fatalf("%d transfers sealed in Go, want %d", st.Sealed, 2*len(reqs))
			}
		})
	}
}
