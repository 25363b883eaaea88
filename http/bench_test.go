package http

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// BenchmarkSendFileSmall measures a keep-alive GET of a small cached file,
// client and server in one process (for profiles, not for peer comparisons:
// those live in bench/).
func BenchmarkSendFileSmall(b *testing.B) {
	s, _, _ := startHTTP(b, Config{})
	conn := dialRaw(b, s)
	req := []byte("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.Write(req)
	first := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(first)
	if err != nil {
		b.Fatal(err)
	}
	resp := make([]byte, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		conn.Write(req)
		if _, err := io.ReadFull(conn, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlaintextPipelined sends 16 pipelined plaintext requests per
// write, so the profile is mostly the server's.
func BenchmarkPlaintextPipelined(b *testing.B) {
	s, _, _ := startHTTP(b, Config{})
	conn := dialRaw(b, s)
	one := []byte("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.Write(one)
	first := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(first)
	if err != nil {
		b.Fatal(err)
	}
	req := bytes.Repeat(one, 16)
	resp := make([]byte, 16*n)
	b.ResetTimer()
	for i := 0; i < b.N; i += 16 {
		conn.Write(req)
		if _, err := io.ReadFull(conn, resp); err != nil {
			b.Fatal(err)
		}
	}
}
