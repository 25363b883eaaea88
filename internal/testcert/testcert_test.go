package testcert

import (
	"crypto/tls"
	"net"
	"testing"
)

func TestHandshake(t *testing.T) {
	for _, hosts := range [][]string{nil, {"example.test", "10.0.0.1"}} {
		p, err := New(hosts...)
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		name := "localhost"
		if hosts != nil {
			name = hosts[0]
		}
		cc := p.ClientConfig()
		cc.ServerName = name
		errc := make(chan error, 1)
		go func() { errc <- tls.Server(a, p.ServerConfig()).Handshake() }()
		if err := tls.Client(b, cc).Handshake(); err != nil {
			t.Fatalf("hosts %v: client: %v", hosts, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("hosts %v: server: %v", hosts, err)
		}
		a.Close()
		b.Close()
	}
}
