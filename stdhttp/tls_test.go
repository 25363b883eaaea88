package stdhttp_test

// HTTPS through the adapter: ListenAndServeTLS and TLSConfig, with
// net/http's client, crypto/tls by hand, chi and ServeMux routing,
// Request.TLS, a 64 MiB echo, ServeContent and ServeFile ranges, and a
// hijacked connection speaking through the record layer.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/internal/testcert"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/stdhttp"
)

var tlsPair = sync.OnceValue(func() *testcert.Pair {
	p, err := testcert.New()
	if err != nil {
		panic(err)
	}
	return p
})

// tlsContent is n pseudo-random bytes, the same for the same n.
func tlsContent(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{'s', 't', 'd', 'h', 't', 't', 'p'}).Read(b)
	return b
}

var huge = sync.OnceValue(func() []byte { return tlsContent(64 << 20) })

// tlsHTTPClient returns a client trusting the test CA, offering
// http/1.1, its tls.Config adjusted by tune.
func tlsHTTPClient(t testing.TB, tune func(*tls.Config)) *http.Client {
	cc := tlsPair().ClientConfig()
	cc.NextProtos = []string{"http/1.1"}
	if tune != nil {
		tune(cc)
	}
	tr := &http.Transport{TLSClientConfig: cc}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 3 * time.Minute}
}

// compareReader reads r to its end and compares it with want byte for byte.
func compareReader(r io.Reader, want []byte) error {
	buf := make([]byte, 256<<10)
	off := 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if off+n > len(want) {
				return fmt.Errorf("more than the %d bytes expected", len(want))
			}
			if !bytes.Equal(buf[:n], want[off:off+n]) {
				for i := range n {
					if buf[i] != want[off+i] {
						return fmt.Errorf("byte %d differs", off+i)
					}
				}
			}
			off += n
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", off, err)
		}
	}
	if off != len(want) {
		return fmt.Errorf("%d bytes, want %d", off, len(want))
	}
	return nil
}

// tlsInfo is a handler that describes the request's TLS state.
func tlsInfo(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		io.WriteString(w, "no TLS")
		return
	}
	fmt.Fprintf(w, "version=%#x alpn=%s sni=%s complete=%v resumed=%v proto=%s",
		r.TLS.Version, r.TLS.NegotiatedProtocol, r.TLS.ServerName, r.TLS.HandshakeComplete, r.TLS.DidResume, r.Proto)
}

func getBody(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, string(b)
}

// TestTLSListenAndServeTLS serves with ListenAndServeTLS from PEM files:
// the handler sees Request.TLS with the version and ALPN the client
// got, over TLS 1.2 and 1.3, and resumption is reported to both.
func TestTLSListenAndServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, tlsPair().CertPEM, 0o600)
	os.WriteFile(keyFile, tlsPair().KeyPEM, 0o600)
	mux := http.NewServeMux()
	mux.HandleFunc("/info", tlsInfo)
	s := &stdhttp.Server{Addr: "127.0.0.1:0", Handler: mux}
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServeTLS(certFile, keyFile) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.BoundAddr() == nil {
		select {
		case err := <-served:
			t.Fatalf("ListenAndServeTLS: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("not listening after 10 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	<-s.Ready()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ListenAndServeTLS returned %v", err)
		}
	})
	base := "https://" + s.BoundAddr().String()
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cache := tls.NewLRUClientSessionCache(4)
		for i := range 2 {
			c := tlsHTTPClient(t, func(c *tls.Config) { c.MaxVersion, c.ClientSessionCache = v, cache })
			resp, b := getBody(t, c, base+"/info")
			want := fmt.Sprintf("version=%#x alpn=http/1.1 sni=localhost complete=true resumed=%v proto=HTTP/1.1", v, i == 1)
			if b != want || resp.TLS == nil || resp.TLS.Version != v || resp.TLS.DidResume != (i == 1) {
				t.Fatalf("%#x connection %d: %q, want %q", v, i, b, want)
			}
			c.CloseIdleConnections()
		}
	}
	// Plain HTTP to it gets a 400, as from net/http.
	resp, err := http.Get("http://" + s.BoundAddr().String() + "/info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("plain HTTP: %s", resp.Status)
	}
	if st := s.Uringnet().Stats(); st.TLSResumed != 2 {
		t.Fatalf("stats: %s", st)
	}
}

// TestTLSListenAndServeTLSConfig: ListenAndServeTLS("", "") with the
// certificates in TLSConfig, which gets NextProtos http/1.1; and files
// that do not exist are an error.
func TestTLSListenAndServeTLSConfig(t *testing.T) {
	s := &stdhttp.Server{Addr: "127.0.0.1:0", Handler: http.HandlerFunc(tlsInfo),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{tlsPair().Cert}}}
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServeTLS("", "") }()
	deadline := time.Now().Add(10 * time.Second)
	for s.BoundAddr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("not listening after 10 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	<-s.Ready()
	defer func() {
		s.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ListenAndServeTLS returned %v", err)
		}
	}()
	resp, b := getBody(t, tlsHTTPClient(t, nil), "https://"+s.BoundAddr().String()+"/")
	if !strings.HasPrefix(b, "version=0x304 alpn=http/1.1 sni=localhost complete=true") || resp.TLS.NegotiatedProtocol != "http/1.1" {
		t.Fatalf("%q", b)
	}

	s2 := &stdhttp.Server{Addr: "127.0.0.1:0", Handler: http.HandlerFunc(tlsInfo)}
	dir := t.TempDir()
	if err := s2.ListenAndServeTLS(filepath.Join(dir, "none.pem"), filepath.Join(dir, "none.key")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing files: %v", err)
	}
	if s2.BoundAddr() != nil {
		t.Fatal("listening after a failed ListenAndServeTLS")
	}
}

// TestTLSListenAndServeTLSAfterListen: ListenAndServeTLS after Listen
// (or Ready, which listens) would serve what Listen set up; without a
// TLSConfig then that is plain HTTP on the port meant for HTTPS. It must
// fail instead.
func TestTLSListenAndServeTLSAfterListen(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, tlsPair().CertPEM, 0o600)
	os.WriteFile(keyFile, tlsPair().KeyPEM, 0o600)
	s := &stdhttp.Server{Addr: "127.0.0.1:0", Handler: http.HandlerFunc(tlsInfo)}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServeTLS(certFile, keyFile) }()
	select {
	case err := <-served:
		if err == nil || errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("ListenAndServeTLS after Listen: %v", err)
		}
	case <-time.After(2 * time.Second):
		resp, err := http.Get("http://" + s.BoundAddr().String() + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("ListenAndServeTLS after Listen serves plain HTTP: %q", b)
		}
		t.Fatalf("ListenAndServeTLS after Listen still runs: %v", err)
	}
}

// startTLSThird is startThird with the test pair's TLSConfig and a client
// trusting it.
func startTLSThird(t *testing.T, h http.Handler) *thirdServer {
	ts := startThird(t, h, func(s *stdhttp.Server) {
		s.TLSConfig = tlsPair().ServerConfig()
		s.Native.Limits.MaxBodyBytes = 128 << 20
	})
	ts.client = tlsHTTPClient(t, nil)
	return ts
}

func (ts *thirdServer) tlsURL(target string) string { return "https://" + ts.addr + target }

// TestTLSAdapter runs net/http handlers over TLS: Request.TLS, ServeMux
// and chi routing, a 64 MiB echo, ServeContent and ServeFile with ranges,
// a flushed response.
func TestTLSAdapter(t *testing.T) {
	content := tlsContent(3<<20 + 17)
	dir := t.TempDir()
	fileContent := tlsContent(8<<20 + 5)
	if err := os.WriteFile(filepath.Join(dir, "file.bin"), fileContent, 0o644); err != nil {
		t.Fatal(err)
	}
	modTime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

	r := chi.NewRouter()
	r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %s tls=%v", chi.URLParam(r, "id"), r.TLS != nil)
	})
	mux := http.NewServeMux()
	mux.Handle("/users/", r)
	mux.HandleFunc("/info", tlsInfo)
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(w, r.Body); err != nil {
			t.Errorf("echo: %v", err)
		}
	})
	mux.HandleFunc("/content", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "content.bin", modTime, bytes.NewReader(content))
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, "file.bin"))
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		for i := range 5 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	ts := startTLSThird(t, mux)

	for _, c := range []httpCase{
		{name: "chi", target: "/users/42", status: 200, want: "user 42 tls=true", wantBody: true},
		{name: "mux 404", target: "/nope", status: 404},
		{name: "mux 405", method: "PUT", target: "/echo", status: 405},
		{name: "flush", target: "/flush", status: 200, want: "part 0\npart 1\npart 2\npart 3\npart 4\n", wantBody: true},
		{name: "info", target: "/info", status: 200,
			want: "version=0x304 alpn=http/1.1 sni=localhost complete=true resumed=false proto=HTTP/1.1", wantBody: true},
	} {
		t.Run(c.name, func(t *testing.T) { ts.checkTLS(t, c) })
	}

	t.Run("echo 64MiB", func(t *testing.T) {
		data := huge()
		resp, err := ts.client.Post(ts.tlsURL("/echo"), "application/octet-stream", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		if err := compareReader(resp.Body, data); err != nil {
			t.Fatal(err)
		}
	})

	for _, f := range []struct {
		path    string
		content []byte
	}{{"/content", content}, {"/file", fileContent}} {
		t.Run(f.path[1:], func(t *testing.T) {
			n := len(f.content)
			resp, err := ts.client.Get(ts.tlsURL(f.path))
			if err != nil {
				t.Fatal(err)
			}
			err = compareReader(resp.Body, f.content)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("whole: %s %v", resp.Status, err)
			}
			for _, rg := range [][2]int{{0, 0}, {10, 99}, {n / 3, n/3 + 1<<20}, {n - 5, n - 1}} {
				req, _ := http.NewRequest("GET", ts.tlsURL(f.path), nil)
				req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", rg[0], rg[1]))
				resp, err := ts.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				wantCR := fmt.Sprintf("bytes %d-%d/%d", rg[0], rg[1], n)
				if err != nil || resp.StatusCode != 206 || resp.Header.Get("Content-Range") != wantCR || !bytes.Equal(body, f.content[rg[0]:rg[1]+1]) {
					t.Fatalf("range %v: %s %q %d bytes %v", rg, resp.Status, resp.Header.Get("Content-Range"), len(body), err)
				}
			}
			// Several ranges: multipart/byteranges.
			ranges := [][2]int{{0, 9}, {1000, 1999}, {n - 10, n - 1}}
			req, _ := http.NewRequest("GET", ts.tlsURL(f.path), nil)
			req.Header.Set("Range", "bytes=0-9,1000-1999,"+fmt.Sprintf("%d-%d", n-10, n-1))
			resp, err = ts.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 206 {
				t.Fatalf("ranges: %s %v", resp.Status, err)
			}
			mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if err != nil || mt != "multipart/byteranges" {
				t.Fatalf("ranges: Content-Type %q", resp.Header.Get("Content-Type"))
			}
			mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
			for i, rg := range ranges {
				p, err := mr.NextPart()
				if err != nil {
					t.Fatalf("part %d: %v", i, err)
				}
				b, _ := io.ReadAll(p)
				if !bytes.Equal(b, f.content[rg[0]:rg[1]+1]) || p.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", rg[0], rg[1], n) {
					t.Fatalf("part %d: %q, %d bytes", i, p.Header.Get("Content-Range"), len(b))
				}
			}
		})
	}
	if st := ts.s.Uringnet().Stats(); st.TLSHandshakeErrors != 0 || st.TLSRecordErrors != 0 {
		t.Fatalf("stats: %s", st)
	}
}

// checkTLS is check with the https URL of c.target.
func (ts *thirdServer) checkTLS(t *testing.T, c httpCase) {
	t.Helper()
	// check asks for "http://" + addr + target: the transport makes it https.
	tr := ts.client.Transport.(*http.Transport)
	client := &http.Client{Transport: schemeRewriter{tr}, Timeout: ts.client.Timeout}
	old := ts.client
	ts.client = client
	defer func() { ts.client = old }()
	ts.check(t, c)
}

// schemeRewriter sends http:// requests as https://.
type schemeRewriter struct{ rt http.RoundTripper }

func (s schemeRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = "https"
	return s.rt.RoundTrip(r)
}

// TestTLSHijack hijacks a TLS connection: the net.Conn the handler gets
// reads and writes plaintext through the record layer, both ways, small
// lines and a 1 MiB message.
func TestTLSHijack(t *testing.T) {
	big := tlsContent(1 << 20)
	mux := http.NewServeMux()
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Error(w, "no TLS", 500)
			return
		}
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: lines\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				t.Errorf("hijacked read: %v", err)
				return
			}
			switch line = strings.TrimSuffix(line, "\n"); line {
			case "bye":
				io.WriteString(c, "bye\n")
				return
			case "big":
				// 1 MiB both ways: read it whole, send it back.
				buf := make([]byte, len(big))
				if _, err := io.ReadFull(brw, buf); err != nil {
					t.Errorf("hijacked big read: %v", err)
					return
				}
				if _, err := c.Write(buf); err != nil {
					t.Errorf("hijacked big write: %v", err)
					return
				}
			default:
				if _, err := io.WriteString(c, strings.ToUpper(line)+"\n"); err != nil {
					t.Errorf("hijacked write: %v", err)
					return
				}
			}
		}
	})
	ts := startTLSThird(t, mux)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cc := tlsPair().ClientConfig()
		cc.MaxVersion = v
		c, err := tls.Dial("tcp", ts.addr, cc)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		// The first line comes with the request, in the same record.
		io.WriteString(c, "GET /hijack HTTP/1.1\r\nHost: x\r\nUpgrade: lines\r\nConnection: Upgrade\r\n\r\nearly\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("%#x: %v %v", v, resp, err)
		}
		if got, err := br.ReadString('\n'); got != "EARLY\n" {
			t.Fatalf("%#x: the line sent with the request: %q %v", v, got, err)
		}
		for _, w := range []string{"hello", "over", "tls"} {
			io.WriteString(c, w+"\n")
			got, err := br.ReadString('\n')
			if err != nil || got != strings.ToUpper(w)+"\n" {
				t.Fatalf("%#x: %q %v", v, got, err)
			}
		}
		io.WriteString(c, "big\n")
		werr := make(chan error, 1)
		go func() { _, err := c.Write(big); werr <- err }()
		if err := compareReader(io.LimitReader(br, int64(len(big))), big); err != nil {
			t.Fatalf("%#x: big: %v", v, err)
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "bye\n")
		if got, err := br.ReadString('\n'); got != "bye\n" {
			t.Fatalf("%#x: bye: %q %v", v, got, err)
		}
		// The handler closed the connection: the client reads its end.
		if rest, err := io.ReadAll(br); len(rest) != 0 || (err != nil && !isEOFish(err)) {
			t.Fatalf("%#x: after bye: %q %v", v, rest, err)
		}
		c.Close()
	}
	if st := ts.s.Uringnet().Stats(); st.TLSRecordErrors != 0 || st.TLSHandshakes != 2 {
		t.Fatalf("stats: %s", st)
	}
	if n := ts.s.Counters().Hijacked; n != 2 {
		t.Fatalf("hijacked %d", n)
	}
}

func isEOFish(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset") || (errors.As(err, &ne) && !ne.Timeout())
}

// TestTLSGorillaUpgrader runs gorilla/websocket's Upgrader (through
// Hijack) over TLS: wss:// echo of text and 1 MiB binary messages, with
// and without permessage-deflate.
func TestTLSGorillaUpgrader(t *testing.T) {
	big := tlsContent(1 << 20)
	for _, compression := range []bool{false, true} {
		t.Run(fmt.Sprint("compression=", compression), func(t *testing.T) {
			done := make(chan error, 1)
			m := http.NewServeMux()
			m.Handle("/ws", wsEcho(&websocket.Upgrader{EnableCompression: compression}, done))
			ts := startTLSThird(t, m)
			d := &websocket.Dialer{HandshakeTimeout: 10 * time.Second, EnableCompression: compression, TLSClientConfig: tlsPair().ClientConfig()}
			c, resp, err := d.Dial("wss://"+ts.addr+"/ws", nil)
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			for _, msg := range []struct {
				typ  int
				data []byte
			}{
				{websocket.TextMessage, []byte("hello over wss")},
				{websocket.BinaryMessage, big},
				{websocket.TextMessage, bytes.Repeat([]byte("é∑😀"), 10000)},
			} {
				if err := c.WriteMessage(msg.typ, msg.data); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.ReadMessage()
				if err != nil || typ != msg.typ || !bytes.Equal(got, msg.data) {
					t.Fatalf("echo of %d bytes: type %d, %d bytes, %v", len(msg.data), typ, len(got), err)
				}
			}
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
			select {
			case err := <-done:
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != 1000 {
					t.Fatalf("the handler ended with %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the handler did not see the close")
			}
		})
	}
}

// TestTLSTakeOver hands TLS requests back to the native server: Respond
// and SendFile from the loop, through the record layer.
func TestTLSTakeOver(t *testing.T) {
	dir := t.TempDir()
	content := tlsContent(2<<20 + 3)
	os.WriteFile(filepath.Join(dir, "f.bin"), content, 0o644)
	// The server, for the handlers (set before any request; an atomic
	// for the race detector, which does not see the request's socket).
	var native atomic.Pointer[uhttp.Server]
	m := http.NewServeMux()
	m.HandleFunc("/native", func(w http.ResponseWriter, r *http.Request) {
		err := stdhttp.TakeOver(w, func(req *uhttp.Request, c netserver.ClientNum) {
			native.Load().Respond(c, 200, "text/plain", []byte("native over tls"))
		})
		if err != nil {
			t.Error(err)
		}
	})
	m.HandleFunc("/native-file", func(w http.ResponseWriter, r *http.Request) {
		err := stdhttp.TakeOver(w, func(req *uhttp.Request, c netserver.ClientNum) {
			native.Load().SendFile(req, c, "/f.bin")
		})
		if err != nil {
			t.Error(err)
		}
	})
	ts := startThird(t, m, func(s *stdhttp.Server) {
		s.TLSConfig = tlsPair().ServerConfig()
		s.Native.Root = dir
	})
	native.Store(ts.s.Uringnet())
	ts.client = tlsHTTPClient(t, nil)
	for range 2 {
		if _, b := getBody(t, ts.client, ts.tlsURL("/native")); b != "native over tls" {
			t.Fatalf("native: %q", b)
		}
		resp, err := ts.client.Get(ts.tlsURL("/native-file"))
		if err != nil {
			t.Fatal(err)
		}
		err = compareReader(resp.Body, content)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("native file: %s %v", resp.Status, err)
		}
	}
}
