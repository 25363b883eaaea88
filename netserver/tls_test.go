package netserver

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/uringnet/uringnet/internal/testcert"
)

var (
	certOnce sync.Once
	certPair *testcert.Pair
)

func testCert(t testing.TB) *testcert.Pair {
	t.Helper()
	certOnce.Do(func() {
		p, err := testcert.New()
		if err != nil {
			panic(err)
		}
		certPair = p
	})
	return certPair
}

// startTLS starts an echo server speaking TLS.
func startTLS(t testing.TB, cfg Config) (*Server, *echoHandler, *testcert.Pair) {
	p := testCert(t)
	if cfg.TLS == nil {
		cfg.TLS = p.ServerConfig()
	}
	h := &echoHandler{}
	return startServer(t, cfg, h), h, p
}

func dialTLS(t testing.TB, s *Server, cc *tls.Config) *tls.Conn {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSEcho(t *testing.T) {
	s, _, p := startTLS(t, Config{})
	for _, tc := range []struct {
		name    string
		version uint16
		size    int
	}{
		{"tls13-small", tls.VersionTLS13, 100},
		{"tls12-small", tls.VersionTLS12, 100},
		{"tls13-1MiB", tls.VersionTLS13, 1 << 20},
		{"tls12-1MiB", tls.VersionTLS12, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := p.ClientConfig()
			cc.MinVersion, cc.MaxVersion = tc.version, tc.version
			cc.NextProtos = []string{"h2", "http/1.1"}
			c := dialTLS(t, s, cc)
			st := c.ConnectionState()
			if st.Version != tc.version || st.NegotiatedProtocol != "http/1.1" {
				t.Fatalf("version %x alpn %q", st.Version, st.NegotiatedProtocol)
			}
			msg := make([]byte, tc.size)
			rand.Read(msg)
			errc := make(chan error, 1)
			go func() { _, err := c.Write(msg); errc <- err }()
			got := readFull(t, c, len(msg))
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatal("echo differs")
			}
		})
	}
	st := s.Stats()
	if st.TLSHandshakes < 4 || st.TLSHandshakeErrors != 0 {
		t.Fatalf("stats: %v", st)
	}
}

func TestTLSResumption(t *testing.T) {
	s, _, p := startTLS(t, Config{})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cc := p.ClientConfig()
		cc.MaxVersion = v
		cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		for i := 0; i < 2; i++ {
			c := dialTLS(t, s, cc)
			// TLS 1.3 tickets arrive after the handshake: read an echo first.
			c.Write([]byte("x"))
			readFull(t, c, 1)
			if got := c.ConnectionState().DidResume; got != (i == 1) {
				t.Fatalf("version %x conn %d: DidResume %v", v, i, got)
			}
			c.Close()
		}
	}
	waitFor(t, "resumed counted", func() bool { return s.Stats().TLSResumed == 2 })
}

func TestTLSHandshakeErrors(t *testing.T) {
	s, h, p := startTLS(t, Config{HandshakeTimeout: 300 * time.Millisecond})
	base := countFDs(t)
	cases := []struct {
		name string
		run  func(t *testing.T) error
	}{
		{"garbage", func(t *testing.T) error {
			c := dial(t, s)
			c.Write([]byte("\x00\x01garbage garbage garbage"))
			return expectClosed(c)
		}},
		{"plain-http", func(t *testing.T) error {
			c := dial(t, s)
			c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			b, _ := io.ReadAll(c)
			if !bytes.HasPrefix(b, []byte("HTTP/1.0 400 Bad Request")) {
				return errors.New("no 400: " + string(b))
			}
			return nil
		}},
		{"old-version", func(t *testing.T) error {
			cc := p.ClientConfig()
			cc.MinVersion, cc.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			c, err := tls.Dial("tcp", s.Addr().String(), cc)
			if err == nil {
				c.Close()
				return errors.New("TLS 1.1 handshake succeeded")
			}
			return nil
		}},
		{"untrusted-client-side", func(t *testing.T) error {
			c, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{ServerName: "localhost"})
			if err == nil {
				c.Close()
				return errors.New("handshake with an unknown CA succeeded")
			}
			return nil
		}},
		{"stall-before-hello", func(t *testing.T) error {
			c := dial(t, s)
			return expectClosed(c)
		}},
		{"stall-mid-hello", func(t *testing.T) error {
			c := dial(t, s)
			c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01})
			return expectClosed(c)
		}},
		{"closed-mid-hello", func(t *testing.T) error {
			c := dial(t, s)
			c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01})
			c.Close()
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(t); err != nil {
				t.Fatal(err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := s.Stats()
		if st.TLSHandshaking == 0 && st.ConnsOpen == 0 && st.TLSHandshakeErrors == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handshakes not ended: %v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := s.Stats()
	if st.TLSHandshakeTimeouts != 2 || st.TLSHandshakes != 0 {
		t.Fatalf("stats: %v", st)
	}
	h.mu.Lock()
	n := len(h.closed)
	h.mu.Unlock()
	if n != 0 {
		t.Fatalf("the handler saw %d clients whose handshake failed", n)
	}
	waitFor(t, "fds back", func() bool { return countFDs(t) <= base })
}

// expectClosed reads until the server closes c.
func expectClosed(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return errors.New("not closed within 10 s")
	}
	return nil
}

func TestTLSRecordCutMidway(t *testing.T) {
	s, h, p := startTLS(t, Config{})
	c := dialTLS(t, s, p.ClientConfig())
	c.Write([]byte("hello"))
	readFull(t, c, 5)
	// A record header promising more than follows, then the end.
	raw := c.NetConn()
	raw.Write([]byte{0x17, 0x03, 0x03, 0x01, 0x00, 1, 2, 3})
	raw.(*net.TCPConn).CloseWrite()
	waitFor(t, "record error counted", func() bool { return s.Stats().TLSRecordErrors == 1 })
	waitFor(t, "closed", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.closed) == 1
	})
}

func TestTLSManyHandshakes(t *testing.T) {
	s, _, p := startTLS(t, Config{MaxHandshakes: 8})
	base := countFDs(t)
	var wg sync.WaitGroup
	errc := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := tls.Dial("tcp", s.Addr().String(), p.ClientConfig())
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			c.Write([]byte("ping"))
			b := make([]byte, 4)
			if _, err := io.ReadFull(c, b); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	waitFor(t, "closed", func() bool { return s.Stats().ConnsOpen == 0 })
	waitFor(t, "fds back", func() bool { return countFDs(t) <= base })
	if st := s.Stats(); st.TLSHandshakes != 200 || st.TLSHandshaking != 0 {
		t.Fatalf("stats: %v", st)
	}
}

func TestTLSUnknownServerName(t *testing.T) {
	p := testCert(t)
	cfg := &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName != "localhost" {
			return nil, errors.New("unknown server name " + hello.ServerName)
		}
		if hello.Conn.RemoteAddr().(*net.TCPAddr).Port == 0 {
			return nil, errors.New("no remote address")
		}
		return &p.Cert, nil
	}}
	s, _, _ := startTLS(t, Config{TLS: cfg})
	cc := p.ClientConfig()
	c := dialTLS(t, s, cc)
	c.Write([]byte("ok"))
	readFull(t, c, 2)
	cc = p.ClientConfig()
	cc.ServerName = "elsewhere.test"
	cc.InsecureSkipVerify = true
	if c, err := tls.Dial("tcp", s.Addr().String(), cc); err == nil {
		c.Close()
		t.Fatal("handshake for an unknown name succeeded")
	}
	waitFor(t, "error counted", func() bool { return s.Stats().TLSHandshakeErrors == 1 })
}

// TestTLSWritesInOrder mixes Send, RawWrite and RawWritev of every size on
// a TLS client: the plaintext arrives whole and in call order, each write
// callback fires once, and a client that does not read holds the server
// to its backlog bound.
func TestTLSWritesInOrder(t *testing.T) {
	h := &echoHandler{}
	var want []byte
	h.onRead = func(data []byte, c ClientNum) bool {
		if string(data) != "go" {
			return true
		}
		want = want[:0]
		for i := 0; i < 40; i++ {
			b := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i*i*97)
			switch i % 3 {
			case 0:
				h.s.Send(c, b)
			case 1:
				h.s.RawWrite(c, b)
			default:
				h.s.RawWritev(c, [][]byte{b[:len(b)/2], nil, b[len(b)/2:]})
			}
			want = append(want, b...)
		}
		return true
	}
	p := testCert(t)
	s := startServer(t, Config{TLS: p.ServerConfig(), MaxQueued: 64 << 10}, h)
	c := dialTLS(t, s, p.ClientConfig())
	c.Write([]byte("go"))
	waitFor(t, "congested", func() bool { return s.Stats().Congestions > 0 })
	got := readFull(t, c, len(want))
	if !bytes.Equal(got, want) {
		t.Fatal("plaintext differs")
	}
	waitFor(t, "callbacks", func() bool { return len(h.writeResults()) == 26 })
	for _, r := range h.writeResults() {
		if r.failed {
			t.Fatal("a write failed")
		}
	}
}

// TestTLSPauseRead pauses a TLS client: its records wait, then are opened
// in order once reading resumes.
func TestTLSPauseRead(t *testing.T) {
	h := &echoHandler{reads: make(chan readResult, 64)}
	p := testCert(t)
	s := startServer(t, Config{TLS: p.ServerConfig()}, h)
	c := dialTLS(t, s, p.ClientConfig())
	c.Write([]byte("first"))
	r := <-h.reads
	if r.data != "first" {
		t.Fatalf("read %q", r.data)
	}
	if err := s.RunOnLoop(r.c.Loop(), func() { s.PauseRead(r.c) }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	msg := bytes.Repeat([]byte("0123456789"), 20000)
	go c.Write(msg)
	select {
	case r := <-h.reads:
		t.Fatalf("read %d bytes while paused", len(r.data))
	case <-time.After(100 * time.Millisecond):
	}
	s.ResumeRead(r.c)
	var got []byte
	for len(got) < len(msg) {
		select {
		case r := <-h.reads:
			got = append(got, r.data...)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d bytes", len(got), len(msg))
		}
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("plaintext differs")
	}
}
