package http

import (
	"bytes"
	"crypto/tls"
	"io"
	nethttp "net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/uringnet/uringnet/internal/ktlstest"
	"github.com/uringnet/uringnet/internal/testcert"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/sendfile"
)

// TestSendFileTLS serves a file of several MiB over HTTPS, each response
// the first of its connection. The response is one transfer whose head goes
// with the file, so it is an op, not a write, that brings the connection's
// first application data: with kernel TLS (where the kernel has it; the VM
// step of scripts/test loads tls.ko) the kernel must be sealing by then,
// and the file is spliced; elsewhere it is sealed in Go.
func TestSendFileTLS(t *testing.T) {
	ktls := ktlstest.Probe() == nil
	if f, err := netserver.ParseFeatures(os.Getenv(netserver.EnvDisable)); err == nil && f&netserver.FeatKTLS != 0 {
		ktls = false
	}
	pair, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	size := 4<<20 + 99
	if testing.Short() {
		size = 2<<20 + 99
	}
	content := make([]byte, size)
	for i := range content {
		content[i] = byte(i*13 + i>>9)
	}
	if err := os.WriteFile(filepath.Join(root, "big.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	// Splice after the head's write; and sendfile(2) with the head inside
	// the transfer (TransferHead), the op first.
	for _, tc := range []struct {
		name string
		sf   sendfile.Config
	}{{"splice", sendfile.Config{}}, {"direct", sendfile.Config{Direct: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("URINGNET_SENDFILE", "")
			s, _, _ := startHTTP(t, Config{Root: root, SendFile: tc.sf, Net: netserver.Config{TLS: pair.ServerConfig()}})
			client := &nethttp.Client{Transport: &nethttp.Transport{
				TLSClientConfig:   pair.ClientConfig(),
				DisableKeepAlives: true,
				TLSNextProto:      map[string]func(string, *tls.Conn) nethttp.RoundTripper{},
			}}
			defer client.CloseIdleConnections()
			conns := 3
			if testing.Short() {
				conns = 2
			}
			for i := range conns {
				resp, err := client.Get("https://" + s.Net().Addr().String() + "/big.bin")
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || resp.TLS == nil || !bytes.Equal(body, content) {
					t.Fatalf("response %d: status %d, %d bytes (equal %v), err %v", i, resp.StatusCode, len(body), bytes.Equal(body, content), err)
				}
			}
			st := s.Stats()
			t.Logf("kernel TLS %v: TLSHandshakes=%d TLSKernelTX=%d TLSKernelTXFailed=%d", ktls, st.TLSHandshakes, st.TLSKernelTX, st.TLSKernelTXFailed)
			if want := map[bool]uint64{true: uint64(conns)}[ktls]; st.TLSKernelTX != want {
				t.Fatalf("kernel TLS on %d of %d connections, want %d", st.TLSKernelTX, conns, want)
			}
		})
	}
}
