package http

// HTTPS: the native server with netserver.Config.TLS, talking to real
// clients (net/http's Transport, crypto/tls by hand, curl): files through
// every path (the cache, memSend, sendfile's sealed transfer), large
// bodies both ways, ranges, pipelining, versions, ALPN, resumption.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uringnet/uringnet/internal/testcert"
	"github.com/uringnet/uringnet/netserver"
)

var testPair = sync.OnceValue(func() *testcert.Pair {
	p, err := testcert.New()
	if err != nil {
		panic(err)
	}
	return p
})

// hugeContent is the 64 MiB file served and uploaded over TLS; 16 MiB
// under -short (the epoll, fallback and old-kernel VM runs, where QEMU's
// emulated CPU encrypts slowly), still far more than the socket buffers.
var hugeContent = sync.OnceValue(func() []byte {
	n := 64 << 20
	if testing.Short() {
		n = 16 << 20
	}
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{'u', 'r', 'i', 'n', 'g', 'n', 'e', 't'}).Read(b)
	return b
})

// midContent is a file the cache holds and memSend sends (from
// memSendFrom bytes up).
var midContent = func() []byte {
	b := make([]byte, 40<<10+3)
	for i := range b {
		b[i] = byte(i*13 + i>>9)
	}
	return b
}()

// bodyHash hashes a /sha256 request's body.
type bodyHash struct {
	h hash.Hash
	n int64
}

// startHash starts hashing c's body (/sha256): the answer is "<bytes> <sha256 hex>".
func (h *testHandler) startHash(c netserver.ClientNum, req *Request) {
	if req.Body == BodyNone {
		h.s.Respond(c, 200, "text/plain", fmt.Appendf(nil, "0 %x", sha256.Sum256(nil)))
		return
	}
	h.mu.Lock()
	if h.hashes == nil {
		h.hashes = map[netserver.ClientNum]*bodyHash{}
	}
	h.hashes[c] = &bodyHash{h: sha256.New()}
	h.mu.Unlock()
}

// hashBody takes a piece of a /sha256 body; it reports false for the other requests.
func (h *testHandler) hashBody(data []byte, c netserver.ClientNum, last bool) bool {
	h.mu.Lock()
	bh := h.hashes[c]
	if bh != nil && last {
		delete(h.hashes, c)
	}
	h.mu.Unlock()
	if bh == nil {
		return false
	}
	bh.h.Write(data)
	bh.n += int64(len(data))
	if last {
		h.s.Respond(c, 200, "text/plain", fmt.Appendf(nil, "%d %x", bh.n, bh.h.Sum(nil)))
	}
	return true
}

// startHTTPS is startHTTP speaking TLS (the test pair's server config
// unless cfg sets one), with mid.bin and huge.bin in the root.
func startHTTPS(t testing.TB, cfg Config) (*Server, *testHandler, string) {
	t.Helper()
	if cfg.Net.TLS == nil {
		cfg.Net.TLS = testPair().ServerConfig()
	}
	s, h, root := startHTTP(t, cfg)
	for name, data := range map[string][]byte{"mid.bin": midContent, "huge.bin": hugeContent()} {
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s, h, root
}

// tlsClient returns a net/http client trusting the test CA, its
// tls.Config first adjusted by tune; its idle connections are closed at
// cleanup (before the server's checks).
func tlsClient(t testing.TB, tune func(*tls.Config)) (*nethttp.Client, *nethttp.Transport) {
	cc := testPair().ClientConfig()
	cc.NextProtos = []string{"http/1.1"}
	if tune != nil {
		tune(cc)
	}
	tr := &nethttp.Transport{TLSClientConfig: cc}
	t.Cleanup(tr.CloseIdleConnections)
	return &nethttp.Client{Transport: tr, Timeout: 3 * time.Minute}, tr
}

func httpsURL(s *Server, path string) string { return "https://" + s.Addr().String() + path }

// readCompare reads r to its end and compares it with want byte for byte,
// without holding what it read.
func readCompare(r io.Reader, want []byte) error {
	buf := make([]byte, 256<<10)
	off := 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if off+n > len(want) {
				return fmt.Errorf("more than the %d bytes expected", len(want))
			}
			if got := buf[:n]; !bytes.Equal(got, want[off:off+n]) {
				for i := range got {
					if got[i] != want[off+i] {
						return fmt.Errorf("byte %d differs: %#x, want %#x", off+i, got[i], want[off+i])
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

// getCompare GETs u and checks status 200 and the body byte for byte.
func getCompare(t *testing.T, client *nethttp.Client, u string, want []byte) *nethttp.Response {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if resp.TLS == nil {
		t.Fatalf("GET %s: not over TLS", u)
	}
	if err := readCompare(resp.Body, want); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp
}

// tlsVariants runs f with the server's records sealed in Go (kernel TLS
// disabled), and with the defaults (kernel TLS where the kernel has it).
func tlsVariants(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Run("sealed", func(t *testing.T) { f(t, Config{Net: netserver.Config{Disable: netserver.FeatKTLS}}) })
	t.Run("default", func(t *testing.T) { f(t, Config{}) })
}

// TestTLSGetFiles GETs a small response, files from the cache (one write,
// and memSend), sendfile's transfer (3 MiB) and a 64 MiB file (16 MiB under -short), byte for
// byte, over TLS 1.3 and 1.2.
func TestTLSGetFiles(t *testing.T) {
	tlsVariants(t, func(t *testing.T, cfg Config) {
		s, _, _ := startHTTPS(t, cfg)
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			client, tr := tlsClient(t, func(c *tls.Config) { c.MinVersion, c.MaxVersion = v, v })
			resp := getCompare(t, client, httpsURL(s, "/plaintext"), helloBody)
			if resp.TLS.Version != v || resp.TLS.NegotiatedProtocol != "http/1.1" {
				t.Fatalf("version %#x alpn %q, want %#x http/1.1", resp.TLS.Version, resp.TLS.NegotiatedProtocol, v)
			}
			for range 2 { // the second time from the cache
				getCompare(t, client, httpsURL(s, "/small.txt"), []byte("hello small file\n"))
				getCompare(t, client, httpsURL(s, "/mid.bin"), midContent)
			}
			getCompare(t, client, httpsURL(s, "/big.bin"), bigContent)
			getCompare(t, client, httpsURL(s, "/huge.bin"), hugeContent())
			// HEAD of the large file: the head alone.
			resp, body := get(t, client, newReq(t, "HEAD", httpsURL(s, "/huge.bin"), nil))
			if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(hugeContent())) {
				t.Fatalf("HEAD huge: %d %d %d", resp.StatusCode, len(body), resp.ContentLength)
			}
			// The connection is still good after the big ones.
			getCompare(t, client, httpsURL(s, "/plaintext"), helloBody)
			tr.CloseIdleConnections()
		}
		st := s.Stats()
		if st.TLSHandshakes != 2 || st.TLSHandshakeErrors != 0 || st.TLSRecordErrors != 0 {
			t.Fatalf("stats: %s", st)
		}
		if cs := s.Cache().Stats(); cs.Hits < 2 {
			t.Errorf("cache stats %+v: small files not served from the cache", cs)
		}
		if st.TLSKernelTX == 0 {
			// Sealed in Go: big.bin and huge.bin, twice, went through the sealed transfer.
			if ss := s.sender.Stats(); ss.Sealed < 4 {
				t.Errorf("sendfile stats %+v: want 4 sealed transfers", ss)
			}
		}
		t.Logf("kernel TLS TX: %d connections; sendfile %+v", st.TLSKernelTX, s.sender.Stats())
	})
}

// TestTLSUpload sends 64 MiB bodies (16 MiB under -short) (Content-Length and chunked) to a
// handler that hashes what it gets.
func TestTLSUpload(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{Limits: Limits{MaxBodyBytes: 128 << 20}})
	client, _ := tlsClient(t, nil)
	data := hugeContent()
	want := fmt.Sprintf("%d %x", len(data), sha256.Sum256(data))
	// A request first, so that the handshake has ended on the server
	// before the body comes (see TestTLSBodyWithFinished).
	getCompare(t, client, httpsURL(s, "/plaintext"), helloBody)
	for _, chunked := range []bool{false, true} {
		var r io.Reader = bytes.NewReader(data)
		if chunked {
			r = io.MultiReader(r) // no length: chunked
		}
		resp, body := get(t, client, newReq(t, "POST", httpsURL(s, "/sha256"), r))
		if resp.StatusCode != 200 || string(body) != want {
			t.Fatalf("chunked=%v: %d %q, want %q", chunked, resp.StatusCode, body, want)
		}
	}
	// A small echo on the same connection afterwards.
	resp, body := get(t, client, newReq(t, "POST", httpsURL(s, "/echo"), strings.NewReader("after the upload")))
	if resp.StatusCode != 200 || string(body) != "after the upload" {
		t.Fatalf("echo: %d %q", resp.StatusCode, body)
	}
	if st := s.Stats(); st.TLSHandshakes != 1 {
		t.Fatalf("%d handshakes for one keep-alive connection: %s", st.TLSHandshakes, st)
	}
}

// checkMultipart checks a multipart/byteranges body against content.
func checkMultipart(t *testing.T, resp *nethttp.Response, body, content []byte, ranges [][2]int) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	if int64(len(body)) != resp.ContentLength {
		t.Fatalf("multipart body %d bytes, Content-Length %d", len(body), resp.ContentLength)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for i, r := range ranges {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		wantCR := fmt.Sprintf("bytes %d-%d/%d", r[0], r[1], len(content))
		if cr := p.Header.Get("Content-Range"); cr != wantCR {
			t.Fatalf("part %d: Content-Range %q, want %q", i, cr, wantCR)
		}
		if err := readCompare(p, content[r[0]:r[1]+1]); err != nil {
			t.Fatalf("part %d (%s): %v", i, wantCR, err)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("after the parts: %v", err)
	}
}

// TestTLSRanges asks for one range and several of files served from the
// cache, by memSend, and by sendfile's transfer.
func TestTLSRanges(t *testing.T) {
	tlsVariants(t, func(t *testing.T, cfg Config) {
		s, _, _ := startHTTPS(t, cfg)
		client, _ := tlsClient(t, nil)
		for _, f := range []struct {
			path    string
			content []byte
		}{
			{"/digits.txt", []byte("0123456789abcdefghij")},
			{"/mid.bin", midContent},
			{"/big.bin", bigContent},
			{"/huge.bin", hugeContent()},
		} {
			n := len(f.content)
			rounds, single := 2, [][2]int{{2, 5}, {0, n - 1}, {n / 3, n - 2}, {n - 1, n - 1}} // twice: the second time from the cache
			if n > len(bigContent) {
				rounds, single = 1, [][2]int{{2, 5}, {n / 3, n/3 + 3<<20}, {n - 1, n - 1}}
			}
			for range rounds {
				// One range.
				for _, r := range single {
					resp, body := get(t, client, newReq(t, "GET", httpsURL(s, f.path), nil, "Range", fmt.Sprintf("bytes=%d-%d", r[0], r[1])))
					wantCR := fmt.Sprintf("bytes %d-%d/%d", r[0], r[1], n)
					if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != wantCR || !bytes.Equal(body, f.content[r[0]:r[1]+1]) {
						t.Fatalf("%s %v: %d %q, %d bytes", f.path, r, resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
					}
				}
				// A suffix.
				resp, body := get(t, client, newReq(t, "GET", httpsURL(s, f.path), nil, "Range", "bytes=-7"))
				if resp.StatusCode != 206 || !bytes.Equal(body, f.content[n-7:]) {
					t.Fatalf("%s suffix: %d, %d bytes", f.path, resp.StatusCode, len(body))
				}
				// Several ranges.
				ranges := [][2]int{{0, 1}, {5, 6}, {n / 2, n/2 + min(n/4, 1<<20)}, {n - 3, n - 1}}
				var spec []string
				for _, r := range ranges {
					spec = append(spec, fmt.Sprintf("%d-%d", r[0], r[1]))
				}
				resp, body = get(t, client, newReq(t, "GET", httpsURL(s, f.path), nil, "Range", "bytes="+strings.Join(spec, ",")))
				if resp.StatusCode != 206 {
					t.Fatalf("%s ranges: %d", f.path, resp.StatusCode)
				}
				checkMultipart(t, resp, body, f.content, ranges)
				// Unsatisfiable.
				resp, _ = get(t, client, newReq(t, "GET", httpsURL(s, f.path), nil, "Range", fmt.Sprintf("bytes=%d-", n+10)))
				if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
					t.Fatalf("%s 416: %d %q", f.path, resp.StatusCode, resp.Header.Get("Content-Range"))
				}
			}
		}
		if st := s.Stats(); st.TLSHandshakes != 1 || st.TLSRecordErrors != 0 {
			t.Fatalf("stats: %s", st)
		}
	})
}

// dialTLS opens a crypto/tls connection to s.
func dialTLS(t testing.TB, s *Server, cc *tls.Config) *tls.Conn {
	t.Helper()
	if cc == nil {
		cc = testPair().ClientConfig()
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", s.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestTLSPipelining writes many requests in one TLS write (of every kind:
// plain responses, asynchronous ones, bodies, files from the cache, by
// memSend and by sendfile, ranges) and reads the answers in order.
func TestTLSPipelining(t *testing.T) {
	tlsVariants(t, func(t *testing.T, cfg Config) {
		s, _, _ := startHTTPS(t, cfg)
		type exp struct {
			status int
			body   []byte
		}
		var b strings.Builder
		var want []exp
		const n = 120
		for i := range n {
			switch i % 10 {
			case 0:
				b.WriteString("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
				want = append(want, exp{200, helloBody})
			case 1:
				fmt.Fprintf(&b, "GET /async?%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
				want = append(want, exp{200, fmt.Appendf(nil, "async %d", i)})
			case 2:
				b.WriteString("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
				want = append(want, exp{200, []byte("abc")})
			case 3:
				b.WriteString("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
				want = append(want, exp{200, []byte("hello small file\n")})
			case 4:
				b.WriteString("GET /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n")
				want = append(want, exp{200, midContent})
			case 5:
				b.WriteString("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
				want = append(want, exp{200, bigContent})
			case 6:
				b.WriteString("GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-1999\r\n\r\n")
				want = append(want, exp{206, bigContent[1000:2000]})
			case 7:
				b.WriteString("GET /mid.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-20099\r\n\r\n")
				want = append(want, exp{206, midContent[100:20100]})
			case 8:
				b.WriteString("POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
				want = append(want, exp{200, fmt.Appendf(nil, "5 %x", sha256.Sum256([]byte("hello")))})
			case 9:
				b.WriteString("GET /write HTTP/1.1\r\nHost: x\r\n\r\n")
				want = append(want, exp{200, []byte("write")})
			}
		}
		b.WriteString("GET /digits.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		want = append(want, exp{200, []byte("0123456789abcdefghij")})

		c := dialTLS(t, s, nil)
		c.SetDeadline(time.Now().Add(2 * time.Minute))
		werr := make(chan error, 1)
		go func() { _, err := c.Write([]byte(b.String())); werr <- err }() // one TLS write
		br := bufio.NewReader(c)
		for i, w := range want {
			resp, err := nethttp.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("response %d: %v", i, err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != w.status || !bytes.Equal(body, w.body) {
				t.Fatalf("response %d: %d, %d bytes (%v), want %d, %d bytes", i, resp.StatusCode, len(body), err, w.status, len(w.body))
			}
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		if rest, err := io.ReadAll(br); len(rest) != 0 || err != nil {
			t.Fatalf("after the last response: %q, %v", rest, err)
		}
	})
}

// TestTLSVersionsALPN handshakes with TLS 1.2 and 1.3 by hand, offering
// h2 and http/1.1 (http/1.1 is chosen), and with no ALPN at all.
func TestTLSVersionsALPN(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{})
	for _, tc := range []struct {
		version uint16
		protos  []string
		want    string
	}{
		{tls.VersionTLS13, []string{"h2", "http/1.1"}, "h2"},
		{tls.VersionTLS12, []string{"h2", "http/1.1"}, "h2"},
		{tls.VersionTLS13, []string{"http/1.1"}, "http/1.1"},
		{tls.VersionTLS12, []string{"http/1.1"}, "http/1.1"},
		{tls.VersionTLS13, nil, ""},
		{tls.VersionTLS12, nil, ""},
	} {
		cc := testPair().ClientConfig()
		cc.MinVersion, cc.MaxVersion, cc.NextProtos = tc.version, tc.version, tc.protos
		c := dialTLS(t, s, cc)
		st := c.ConnectionState()
		if st.Version != tc.version || st.NegotiatedProtocol != tc.want || !st.HandshakeComplete {
			t.Fatalf("%#x %v: version %#x, alpn %q", tc.version, tc.protos, st.Version, st.NegotiatedProtocol)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if tc.want == "h2" {
			// The server's preface: a SETTINGS frame (type 4) on stream 0.
			var h [9]byte
			if _, err := io.ReadFull(c, h[:]); err != nil || h[3] != 4 {
				t.Fatalf("%#x h2: preface % x, %v", tc.version, h, err)
			}
			c.Close()
			continue
		}
		io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := nethttp.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || string(body) != string(helloBody) {
			t.Fatalf("%#x: %q %v", tc.version, body, err)
		}
		c.Close()
	}
	// A client that speaks only TLS 1.1 is refused.
	cc := testPair().ClientConfig()
	cc.MinVersion, cc.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if c, err := tls.Dial("tcp", s.Addr().String(), cc); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	// Plain HTTP to the TLS port gets net/http's 400.
	if out := raw(t, s, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 10*time.Second); !strings.HasPrefix(out, "HTTP/1.0 400 Bad Request") {
		t.Fatalf("plain HTTP: %q", out)
	}
	waitFor(t, "handshakes counted", func() bool {
		st := s.Stats()
		return st.TLSHandshakes == 6 && st.TLSHandshakeErrors == 2 && st.TLSHandshaking == 0
	}, s)
}

// waitFor polls cond for up to 20 s.
func waitFor(t testing.TB, what string, cond func() bool, s *Server) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%s)", what, s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTLSResumption connects twice with a session cache, for TLS 1.2
// and 1.3: the second connection resumes, and the server counts it.
func TestTLSResumption(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		client, tr := tlsClient(t, func(c *tls.Config) {
			c.MaxVersion = v
			c.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		})
		for i := range 2 {
			// The body read: a TLS 1.3 ticket comes after the handshake.
			resp := getCompare(t, client, httpsURL(s, "/plaintext"), helloBody)
			if resp.TLS.Version != v || resp.TLS.DidResume != (i == 1) {
				t.Fatalf("%#x connection %d: version %#x, DidResume %v", v, i, resp.TLS.Version, resp.TLS.DidResume)
			}
			tr.CloseIdleConnections()
		}
	}
	waitFor(t, "resumptions counted", func() bool {
		st := s.Stats()
		return st.TLSHandshakes == 4 && st.TLSResumed == 2
	}, s)
}

// curlTLS runs curl with the test CA against the server; it returns
// stdout and stderr (with -v, the TLS details). Skipped without curl.
func curlTLS(t *testing.T, args ...string) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not available:", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, testPair().CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "60", "--cacert", ca}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %v: %v: %s", args, err, stderr.String())
	}
	return strings.ReplaceAll(stdout.String(), "\r\n", "\n"), stderr.String()
}

func TestTLSCurl(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{})
	port := strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		u := "https://" + host + ":" + port
		out, _ := curlTLS(t, "-i", "--http1.1", u+"/plaintext")
		if !strings.HasPrefix(out, "HTTP/1.1 200 OK\n") || !strings.HasSuffix(out, "\n\nHello, World!") {
			t.Fatalf("%s: %q", host, out)
		}
	}
	u := "https://localhost:" + port
	for _, tc := range []struct{ flags, want string }{
		{"--tlsv1.3", "TLSv1.3"},
		{"--tls-max 1.2", "TLSv1.2"},
	} {
		out, verbose := curlTLS(t, append(strings.Fields(tc.flags), "--http1.1", "-v", u+"/small.txt")...)
		if out != "hello small file\n" || !strings.Contains(verbose, "SSL connection using "+tc.want) {
			t.Fatalf("%s: %q\n%s", tc.flags, out, verbose)
		}
		if !strings.Contains(verbose, "ALPN: server accepted http/1.1") && !strings.Contains(verbose, "ALPN, server accepted to use http/1.1") {
			t.Fatalf("%s: ALPN not http/1.1:\n%s", tc.flags, verbose)
		}
	}
	if out, _ := curlTLS(t, u+"/big.bin"); out != string(bigContent) {
		t.Fatalf("big.bin: %d bytes", len(out))
	}
	if out, _ := curlTLS(t, u+"/mid.bin"); out != string(midContent) {
		t.Fatalf("mid.bin: %d bytes", len(out))
	}
	out, _ := curlTLS(t, "-i", "--http1.1", "-r", "0-1,10-11", u+"/digits.txt")
	for _, w := range []string{"HTTP/1.1 206", "multipart/byteranges; boundary=", "Content-Range: bytes 0-1/20", "\n01\n", "\nab\n"} {
		if !strings.Contains(out, w) {
			t.Fatalf("ranges: no %q in\n%s", w, out)
		}
	}
	body := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(body, bigContent, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bigContent)
	if out, _ := curlTLS(t, "--data-binary", "@"+body, u+"/sha256"); out != fmt.Sprintf("%d %s", len(bigContent), hex.EncodeToString(sum[:])) {
		t.Fatalf("upload: %q", out)
	}
	// Several requests on one connection.
	out, verbose := curlTLS(t, "-v", u+"/plaintext", u+"/small.txt", u+"/plaintext")
	if out != "Hello, World!hello small file\nHello, World!" || !strings.Contains(verbose, "Re-using existing connection") {
		t.Fatalf("keep-alive: %q\n%s", out, verbose)
	}
}

// holdConn passes the first write (the ClientHello) through and holds
// the later ones until flush: the client's Finished and what follows it
// reach the server in one write.
type holdConn struct {
	net.Conn
	writes int
	held   []byte
}

func (h *holdConn) Write(p []byte) (int, error) {
	if h.writes++; h.writes == 1 {
		return h.Conn.Write(p)
	}
	h.held = append(h.held, p...)
	return len(p), nil
}

func (h *holdConn) flush() error {
	_, err := h.Conn.Write(h.held)
	h.held = nil
	return err
}

// TestTLSBodyWithFinished sends a request with a 1 MiB body right behind
// the client's Finished, in the same write, as a TLS 1.3 client may (its
// handshake ends when it has sent Finished; net/http's Transport does this
// with every POST on a new connection), and a TLS 1.2 client resuming a
// session too. The server must answer it.
// Past netserver's bound on handshake input (64 KiB), the server stops
// reading until the handshake has ended, rather than failing it.
func TestTLSBodyWithFinished(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{Limits: Limits{MaxBodyBytes: 128 << 20}})
	body := hugeContent()[:1<<20]
	want := fmt.Sprintf("%d %x", len(body), sha256.Sum256(body))
	// A TLS 1.2 client sends its Finished last only when it resumes
	// (the server's Finished came first): prime a session.
	cache12 := tls.NewLRUClientSessionCache(4)
	cc12 := testPair().ClientConfig()
	cc12.MaxVersion, cc12.ClientSessionCache = tls.VersionTLS12, cache12
	pc := dialTLS(t, s, cc12)
	pc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tlsGet(pc, bufio.NewReader(pc), "/plaintext"); err != nil {
		t.Fatal(err)
	}
	pc.Close()
	var failures []string
	for i, version := range []uint16{tls.VersionTLS13, tls.VersionTLS13, tls.VersionTLS12} {
		nc, err := net.DialTimeout("tcp", s.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		hc := &holdConn{Conn: nc}
		cc := testPair().ClientConfig()
		cc.MinVersion, cc.MaxVersion = version, version
		if version == tls.VersionTLS12 {
			cc.ClientSessionCache = cache12
		}
		c := tls.Client(hc, cc)
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		if version == tls.VersionTLS12 && !c.ConnectionState().DidResume {
			t.Fatal("the TLS 1.2 connection did not resume")
		}
		fmt.Fprintf(c, "POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
		c.Write(body)
		errc := make(chan error, 1)
		go func() { errc <- hc.flush() }()
		resp, err := nethttp.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			failures = append(failures, fmt.Sprintf("connection %d (%#x): reading the answer: %v (write: %v)", i, version, err, <-errc))
			continue
		}
		got, err := io.ReadAll(resp.Body)
		if werr := <-errc; err != nil || werr != nil || resp.StatusCode != 200 || string(got) != want {
			t.Fatalf("connection %d: %d %q %v %v", i, resp.StatusCode, got, err, werr)
		}
		c.Close()
	}
	if len(failures) > 0 {
		t.Fatalf("%s; %s", strings.Join(failures, "; "), s.Stats())
	}
}

// ensureNoFile makes sure the process may open need fds, raising the soft
// RLIMIT_NOFILE (restored at cleanup), and skips the test when the hard
// limit does not allow it.
func ensureNoFile(t *testing.T, need uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if old.Cur >= need {
		return
	}
	if old.Max < need {
		t.Skipf("needs %d fds; RLIMIT_NOFILE's hard limit is %d", need, old.Max)
	}
	raised := syscall.Rlimit{Cur: need, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		t.Skipf("needs %d fds; raising RLIMIT_NOFILE from %d: %v", need, old.Cur, err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// tlsGet sends GET path on c and reads the answer.
func tlsGet(c net.Conn, br *bufio.Reader, path string) error {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return err
	}
	resp, err := nethttp.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil && (resp.StatusCode != 200 || len(body) == 0) {
		err = fmt.Errorf("%s, %d bytes", resp.Status, len(body))
	}
	return err
}

// TestTLSHandshakeFlood opens 2,000 TLS connections at once from a child
// process (each asks one request once its handshake is done, and stays
// open) while one keep-alive client on the same loop asks request after
// request: that client keeps getting answers during the flood (its worst
// latency is logged, not judged). Afterwards fds, tasks, handshakes in
// progress and goroutines are back where they were.
func TestTLSHandshakeFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 TLS handshakes: not under -short (the old-kernel VM's emulated CPUs)")
	}
	const n = 2000
	ensureNoFile(t, n+512)
	warmNetpoll(t)
	s, _, _ := startHTTPS(t, Config{Net: netserver.Config{HandshakeTimeout: 2 * time.Minute}})
	<-s.Ready()
	waitFor(t, "the loop armed", func() bool { return s.Stats().TasksInFlight >= 2 }, s)
	baseFDs, baseTasks, baseG := countFDs(t), s.Stats().TasksInFlight, runtime.NumGoroutine()

	// The keep-alive client.
	client, tr := tlsClient(t, nil)
	getCompare(t, client, httpsURL(s, "/plaintext"), helloBody)
	var (
		mu         sync.Mutex
		answers    []time.Time // when each answer came
		maxLatency time.Duration
		kaErr      error
	)
	stop := make(chan struct{})
	kaDone := make(chan struct{})
	go func() {
		defer close(kaDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			resp, err := client.Get(httpsURL(s, "/plaintext"))
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && string(b) != string(helloBody) {
					err = fmt.Errorf("body %q", b)
				}
			}
			mu.Lock()
			if err != nil {
				kaErr = err
				mu.Unlock()
				return
			}
			answers = append(answers, time.Now())
			maxLatency = max(maxLatency, time.Since(start))
			mu.Unlock()
		}
	}()

	// The flood, all at once.
	closeFlood, floodStart := idleClients(t, s, n, n)
	floodEnd := time.Now()
	during := 0
	mu.Lock()
	for _, at := range answers {
		if at.After(floodStart) && at.Before(floodEnd) {
			during++
		}
	}
	total, worst, err := len(answers), maxLatency, kaErr
	mu.Unlock()
	// n and the keep-alive client's (which net/http may have redialed).
	waitFor(t, "every handshake ended", func() bool {
		st := s.Stats()
		return st.TLSHandshakes >= n+1 && st.TLSHandshaking == 0
	}, s)
	closeFlood()
	t.Logf("%d handshakes in %v; the keep-alive client got %d answers during them (%d in all), worst latency %v",
		n, floodEnd.Sub(floodStart).Round(time.Millisecond), during, total, worst.Round(time.Microsecond))
	if err != nil {
		t.Fatalf("keep-alive client: %v", err)
	}
	if during == 0 {
		t.Fatalf("the keep-alive client got no answer during the %v of the flood (worst latency %v)", floodEnd.Sub(floodStart), worst)
	}
	close(stop)
	<-kaDone
	tr.CloseIdleConnections()
	waitFor(t, "every connection closed", func() bool { return s.Stats().ConnsOpen == 0 }, s)
	st := s.Stats()
	if st.TLSHandshakes < n+1 || st.TLSHandshakeErrors != 0 || st.TLSHandshaking != 0 {
		t.Fatalf("stats: %s", st)
	}
	if st.TLSHandshakes > n+1 {
		t.Logf("the keep-alive client made %d connections (%s)", st.TLSHandshakes-n, st)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		fds, tasks, g := countFDs(t), s.Stats().TasksInFlight, runtime.NumGoroutine()
		if fds <= baseFDs && tasks == baseTasks && g <= baseG {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not back to the start: fds %d (%d), tasks %d (%d), goroutines %d (%d)", fds, baseFDs, tasks, baseTasks, g, baseG)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Environment of TestTLSIdleClientsHelper, the child process of
// TestTLSIdleMemory.
const (
	envIdleAddr = "URINGNET_TEST_TLS_IDLE_ADDR"
	envIdleCA   = "URINGNET_TEST_TLS_IDLE_CA"
	envIdleN    = "URINGNET_TEST_TLS_IDLE_N"
	envIdleConc = "URINGNET_TEST_TLS_IDLE_CONCURRENCY"
)

// TestTLSIdleClientsHelper is the client of TestTLSIdleMemory and
// TestTLSHandshakeFlood, run in a child process so that the clients'
// memory, goroutines and CPU are not the server's: it prints "start",
// opens N TLS connections (CONCURRENCY at a time), asks one request on
// each, prints "ready" and keeps them open until its stdin ends.
func TestTLSIdleClientsHelper(t *testing.T) {
	addr := os.Getenv(envIdleAddr)
	if addr == "" {
		t.Skip("the child process of TestTLSIdleMemory")
	}
	n, _ := strconv.Atoi(os.Getenv(envIdleN))
	conc, _ := strconv.Atoi(os.Getenv(envIdleConc))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(os.Getenv(envIdleCA)))
	cc := &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}}
	conns := make([]*tls.Conn, n)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	sem := make(chan struct{}, max(conc, 1))
	fmt.Println("start")
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Minute}, "tcp", addr, cc)
			if err != nil {
				errc <- err
				return
			}
			c.SetDeadline(time.Now().Add(time.Minute))
			if err := tlsGet(c, bufio.NewReader(c), "/plaintext"); err != nil {
				errc <- err
			}
			c.SetDeadline(time.Time{})
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// idleClients starts the child process with n idle TLS clients of s,
// connecting conc at a time, and returns once they are connected (and
// when the child started connecting); stop closes them.
func idleClients(t *testing.T, s *Server, n, conc int) (stop func(), started time.Time) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTLSIdleClientsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), envIdleAddr+"="+s.Addr().String(), envIdleCA+"="+string(testPair().CAPEM),
		envIdleN+"="+strconv.Itoa(n), envIdleConc+"="+strconv.Itoa(conc))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	startc := make(chan time.Time, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var out []string
		for sc.Scan() {
			if sc.Text() == "start" {
				startc <- time.Now()
				continue
			}
			if sc.Text() == "ready" {
				ready <- ""
				io.Copy(io.Discard, stdout)
				return
			}
			out = append(out, sc.Text())
		}
		ready <- strings.Join(out, "\n")
	}()
	stop = func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	select {
	case out := <-ready:
		if out != "" {
			stop()
			t.Fatalf("the client process failed: %s\n%s", out, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		stop()
		t.Fatalf("the client process not ready after 2 min: %s", stderr.String())
	}
	return stop, <-startc
}

// heapInuse returns HeapInuse after two collections.
func heapInuse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestTLSIdleMemory measures the server's memory per idle TLS connection
// (after its handshake and one request): 1,000 connections from a child
// process, the heap in use before and after. It logs the figure and fails
// above a generous bound, to catch a regression (a read or seal buffer
// kept per connection, say), not to judge.
func TestTLSIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 TLS connections from a child process: not under -short")
	}
	const n, limit = 1000, 48 << 10
	ensureNoFile(t, n+512)
	s, _, _ := startHTTPS(t, Config{Net: netserver.Config{HandshakeTimeout: time.Minute}})
	<-s.Ready()
	// A first round grows what is grown once (the client table, pools).
	stop, _ := idleClients(t, s, n, 32)
	stop()
	waitFor(t, "the first round closed", func() bool { return s.Stats().ConnsOpen == 0 }, s)
	before, rssBefore := heapInuse(), vmRSS(t)
	stop, _ = idleClients(t, s, n, 32)
	waitFor(t, "every client served", func() bool {
		st := s.Stats()
		return st.ConnsOpen == n && st.TLSHandshaking == 0
	}, s)
	after, rssAfter := heapInuse(), vmRSS(t)
	stop()
	waitFor(t, "the second round closed", func() bool { return s.Stats().ConnsOpen == 0 }, s)
	per := (int64(after) - int64(before)) / n
	t.Logf("server heap per idle TLS connection: %d bytes (HeapInuse %d -> %d); RSS per connection %d bytes",
		per, before, after, (rssAfter-rssBefore)/n)
	if per > limit {
		t.Fatalf("%d bytes of heap per idle TLS connection, more than %d", per, limit)
	}
	if st := s.Stats(); st.TLSHandshakes != 2*n || st.TLSHandshakeErrors != 0 {
		t.Fatalf("stats: %s", st)
	}
}

// vmRSS returns this process's resident memory, in bytes (0 when unknown).
func vmRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestTLSDisconnectMidFile drops TLS clients in the middle of a 64 MiB (16 MiB under -short)
// file (sealed transfer) and of a memSend response, and one that never
// reads: the server frees them, and serves the whole file afterwards.
func TestTLSDisconnectMidFile(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{Net: netserver.Config{Disable: netserver.FeatKTLS}})
	for i := range 6 {
		c := dialTLS(t, s, nil)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		path := []string{"/huge.bin", "/mid.bin", "/big.bin"}[i%3]
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		if i < 3 {
			if _, err := io.ReadFull(c, make([]byte, 4096)); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			c.NetConn().(*net.TCPConn).SetLinger(0) // a reset
		}
		c.Close()
	}
	waitFor(t, "the dropped clients freed", func() bool { return s.Stats().ConnsOpen == 0 }, s)
	client, _ := tlsClient(t, nil)
	getCompare(t, client, httpsURL(s, "/huge.bin"), hugeContent())
	getCompare(t, client, httpsURL(s, "/mid.bin"), midContent)
	// A client that closed right after its request may have gone before
	// the server ended its handshake: that counts as a failed handshake.
	if st := s.Stats(); st.TLSHandshakes+st.TLSHandshakeErrors != 7 || st.TLSHandshaking != 0 {
		t.Fatalf("stats: %s", st)
	}
}

// TestTLSIdleTimeout: an idle keep-alive TLS connection is closed after
// IdleTimeout; one that stalls in its handshake after HandshakeTimeout.
func TestTLSIdleTimeout(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{IdleTimeout: 300 * time.Millisecond, Net: netserver.Config{HandshakeTimeout: 300 * time.Millisecond}})
	c := dialTLS(t, s, nil)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	if err := tlsGet(c, br, "/plaintext"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if rest, err := io.ReadAll(br); len(rest) != 0 || err != nil {
		t.Fatalf("idle: %q %v", rest, err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}) // the start of a ClientHello
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, nc); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("stalled handshake: %v", err)
	}
	waitFor(t, "the timeout counted", func() bool {
		st := s.Stats()
		return st.TLSHandshakeTimeouts == 1 && st.TLSHandshaking == 0 && st.ConnsOpen == 0
	}, s)
	// A handshake whose goroutine waits for the client's Finished, which
	// never comes: it times out too, and its goroutine ends.
	baseG := runtime.NumGoroutine()
	nc2, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	nc2.SetDeadline(time.Now().Add(10 * time.Second))
	cc := testPair().ClientConfig()
	cc.MinVersion = tls.VersionTLS13
	if err := tls.Client(&holdConn{Conn: nc2}, cc).Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, nc2); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("handshake waiting for Finished: %v", err)
	}
	waitFor(t, "the second timeout counted", func() bool {
		st := s.Stats()
		return st.TLSHandshakeTimeouts == 2 && st.TLSHandshaking == 0 && st.ConnsOpen == 0 && runtime.NumGoroutine() <= baseG
	}, s)
}

// TestTLSShutdown shuts the server down with a keep-alive TLS client
// idle, one in the middle of a response, and one in the middle of its
// handshake: Shutdown returns, the response is whole, nothing is left.
func TestTLSShutdown(t *testing.T) {
	s, _, _ := startHTTPS(t, Config{Net: netserver.Config{Disable: netserver.FeatKTLS}})
	idle := dialTLS(t, s, nil)
	idle.SetDeadline(time.Now().Add(30 * time.Second))
	ibr := bufio.NewReader(idle)
	if err := tlsGet(idle, ibr, "/plaintext"); err != nil {
		t.Fatal(err)
	}
	busy := dialTLS(t, s, nil)
	busy.SetDeadline(time.Now().Add(60 * time.Second))
	io.WriteString(busy, "GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	bbr := bufio.NewReader(busy)
	resp, err := nethttp.ReadResponse(bbr, nil)
	if err != nil {
		t.Fatal(err)
	}
	half, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	half.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01})
	waitFor(t, "the stalled handshake seen", func() bool { return s.Stats().TLSHandshaking == 1 }, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	if err := readCompare(resp.Body, hugeContent()); err != nil {
		t.Fatalf("the response under way: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if rest, err := io.ReadAll(ibr); len(rest) != 0 || (err != nil && !strings.Contains(err.Error(), "reset")) {
		t.Fatalf("idle client after Shutdown: %q %v", rest, err)
	}
	if st := s.Stats(); st.TLSHandshaking != 0 || st.ConnsOpen != 0 || st.TasksInFlight != 0 {
		t.Fatalf("after Shutdown: %s", st)
	}
}

// TestTLSPipeliningUnread writes many pipelined requests whose answers
// are far more than the socket buffers hold, and reads nothing for a
// while: the server stops reading (backpressure) with plaintext and
// ciphertext held in the record layer, and must resume on its own when
// the client reads, answering everything in order.
func TestTLSPipeliningUnread(t *testing.T) {
	tlsVariants(t, func(t *testing.T, cfg Config) {
		s, _, _ := startHTTPS(t, cfg)
		var b strings.Builder
		var want [][]byte
		for i := range 300 {
			switch i % 3 {
			case 0:
				b.WriteString("GET /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n")
				want = append(want, midContent)
			case 1:
				b.WriteString("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
				want = append(want, helloBody)
			case 2:
				if i%30 == 2 {
					b.WriteString("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
					want = append(want, bigContent)
				} else {
					b.WriteString("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
					want = append(want, []byte("hello small file\n"))
				}
			}
		}
		c := dialTLS(t, s, nil)
		c.SetDeadline(time.Now().Add(2 * time.Minute))
		werr := make(chan error, 1)
		go func() { _, err := io.WriteString(c, b.String()); werr <- err }()
		waitFor(t, "the server congested", func() bool { return s.Stats().Congestions > 0 }, s)
		time.Sleep(200 * time.Millisecond)
		br := bufio.NewReader(c)
		for i, w := range want {
			resp, err := nethttp.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("response %d: %v (%s)", i, err, s.Stats())
			}
			if err := readCompare(resp.Body, w); err != nil || resp.StatusCode != 200 {
				t.Fatalf("response %d: %d %v", i, resp.StatusCode, err)
			}
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
	})
}

// TestTLSCloseMidHandshake closes (and shuts down) the server while
// handshakes run: clients whose Finished never comes, each with a server
// handshake goroutine waiting for it. Every goroutine ends, and every
// handshake is counted as failed.
func TestTLSCloseMidHandshake(t *testing.T) {
	for _, shutdown := range []bool{false, true} {
		t.Run(fmt.Sprint("shutdown=", shutdown), func(t *testing.T) {
			s, _, _ := startHTTPS(t, Config{})
			<-s.Ready()
			baseG := runtime.NumGoroutine()
			const n = 10
			for range n {
				nc, err := net.DialTimeout("tcp", s.Addr().String(), 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(30 * time.Second))
				cc := testPair().ClientConfig()
				cc.MinVersion = tls.VersionTLS13
				// The client's Finished stays in holdConn: the server waits for it.
				if err := tls.Client(&holdConn{Conn: nc}, cc).Handshake(); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "the handshakes running", func() bool { return s.Stats().TLSHandshaking == n }, s)
			if g := runtime.NumGoroutine(); g < baseG+n {
				t.Logf("%d goroutines with %d handshakes waiting, %d before", g, n, baseG)
			}
			done := make(chan error, 1)
			go func() {
				if shutdown {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					done <- s.Shutdown(ctx)
				} else {
					done <- s.Close()
				}
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("shutdown=%v: %v", shutdown, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("shutdown=%v: not returned after 30 s with handshakes waiting", shutdown)
			}
			st := s.Stats()
			if st.TLSHandshaking != 0 || st.TLSHandshakeErrors != n || st.ConnsOpen != 0 {
				t.Fatalf("after closing: %s", st)
			}
			deadline := time.Now().Add(10 * time.Second)
			for runtime.NumGoroutine() > baseG {
				if time.Now().After(deadline) {
					t.Fatalf("%d goroutines, %d before the handshakes", runtime.NumGoroutine(), baseG)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
