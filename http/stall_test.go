package http

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// A client that asks for a file far larger than the socket buffers and
// stops reading is cut off after the stall timeout: the transfer ends, the
// connection closes, and nothing leaks (startHTTP checks fds and tasks at
// cleanup). Both the splice path and the read+send fallback.
func TestStalledReaderIsCutOff(t *testing.T) {
	for _, noSplice := range []bool{false, true} {
		s, _, root := startHTTP(t, Config{
			Net:      netserver.Config{IdleTimeout: 300 * time.Millisecond},
			SendFile: sendfileConfig(noSplice),
		})
		huge := make([]byte, 64<<20)
		if err := os.WriteFile(filepath.Join(root, "huge.bin"), huge, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := net.DialTCP("tcp", nil, s.Addr().(*net.TCPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadBuffer(4096)
		c.Write([]byte("GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n"))
		head := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, head); err != nil {
			t.Fatal(err)
		}
		// Never read again: the server's sends stall and the stall timeout
		// must close the connection.
		deadline := time.Now().Add(10 * time.Second)
		for s.Stats().ConnsOpen != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		st := s.Stats()
		if st.ConnsOpen != 0 {
			t.Fatalf("noSplice=%v: stalled connection still open: %s", noSplice, st)
		}
		if st.BytesOut >= uint64(len(huge)) {
			t.Fatalf("noSplice=%v: the whole file went out (%d bytes); the test did not stall", noSplice, st.BytesOut)
		}
	}
}
