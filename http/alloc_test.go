package http

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// A keep-alive plaintext request and its response should cost the server no
// heap allocation: the request is parsed in place in the provided buffer and
// the response is built in a per-loop scratch buffer.
func TestPlaintextKeepAliveAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a non-race, non-short run")
	}
	s, _, _ := startHTTP(t, Config{})
	conn := dialRaw(t, s)
	req := []byte("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
	// Learn the response length once.
	conn.Write(req)
	first := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(first)
	if err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, n)
	roundTrip := func() {
		conn.Write(req)
		if _, err := io.ReadFull(conn, resp); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ { // warm pools
		roundTrip()
	}
	const rounds = 2000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < rounds; i++ {
		roundTrip()
	}
	runtime.ReadMemStats(&after)
	perReq := float64(after.Mallocs-before.Mallocs) / rounds
	t.Logf("%.3f allocations per request (client and server together)", perReq)
	if perReq > 0.5 {
		t.Fatalf("%.2f allocations per keep-alive plaintext request", perReq)
	}
}

func dialRaw(t testing.TB, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
