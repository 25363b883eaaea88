package http

// HTTP/2 with Go's golang.org/x/net/http2 client (issue 15): h2c by prior
// knowledge and TLS with ALPN "h2", many concurrent streams on one
// connection, bodies checked byte for byte (64 MiB both ways; 16 MiB
// under -short, see hugeContent).

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2Client returns an HTTP/2-only client for the server at addr: h2c by
// prior knowledge (AllowHTTP and a plain dial), or TLS trusting the test
// CA and offering only "h2" (a dial that negotiates anything else fails).
// The counter counts the connections it opened.
func h2Client(t testing.TB, tlsOn bool) (*nethttp.Client, *atomic.Int32) {
	dials := new(atomic.Int32)
	tr := &http2.Transport{}
	if tlsOn {
		cc := testPair().ClientConfig()
		cc.NextProtos = []string{"h2"}
		tr.TLSClientConfig = cc
		tr.DialTLSContext = func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
			dials.Add(1)
			d := &tls.Dialer{Config: cfg}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if p := c.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != "h2" {
				c.Close()
				return nil, fmt.Errorf("ALPN negotiated %q, want h2", p)
			}
			return c, nil
		}
	} else {
		tr.AllowHTTP = true
		tr.DialTLSContext = func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &nethttp.Client{Transport: tr, Timeout: 3 * time.Minute}, dials
}

// h2Do sends req and checks a 200 over HTTP/2 whose body is want, byte for
// byte; it returns an error instead of failing, for use in goroutines.
func h2Do(client *nethttp.Client, req *nethttp.Request, want []byte) error {
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		return fmt.Errorf("%s %s: protocol %s, want HTTP/2", req.Method, req.URL, resp.Proto)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL, resp.Status)
	}
	if err := readCompare(resp.Body, want); err != nil {
		return fmt.Errorf("%s %s: body: %v", req.Method, req.URL, err)
	}
	return nil
}

// h2Post and h2Get make requests (u is always a valid URL: safe in goroutines).
func h2Post(u string, body []byte) *nethttp.Request {
	req, err := nethttp.NewRequest("POST", u, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	return req
}

func h2Get(u string) *nethttp.Request {
	req, err := nethttp.NewRequest("GET", u, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// h2Parallel runs f(0..n-1) in n goroutines and fails with every error.
func h2Parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			if failed++; failed <= 10 {
				t.Error(err)
			}
		}
	}
	if failed > 10 {
		t.Errorf("... %d of %d failed in all", failed, n)
	}
}

// h2ClientGets: one GET, then 100 concurrent GETs /hello, all on the one
// connection the first opened.
func h2ClientGets(t *testing.T, addr string, tlsOn bool) {
	client, dials := h2Client(t, tlsOn)
	u := h2Base(addr, tlsOn) + "/hello"
	if err := h2Do(client, h2Get(u), h2Hello); err != nil {
		t.Fatal(err)
	}
	h2Parallel(t, 100, func(int) error { return h2Do(client, h2Get(u), h2Hello) })
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections opened, want 1 (all streams on one)", n)
	}
}

// h2ClientHugeEcho: a 64 MiB POST /echo (16 MiB under -short) comes back
// byte for byte; the server streams it back as it arrives, so both
// directions are in flight at once.
func h2ClientHugeEcho(t *testing.T, addr string, tlsOn bool) {
	client, _ := h2Client(t, tlsOn)
	body := hugeContent()
	if err := h2Do(client, h2Post(h2Base(addr, tlsOn)+"/echo", body), body); err != nil {
		t.Fatal(err)
	}
}

// h2ClientConcurrentEcho: 50 concurrent POST /echo of random sizes up to
// 1 MiB (0 and 1 MiB among them), each checked byte for byte.
func h2ClientConcurrentEcho(t *testing.T, addr string, tlsOn bool) {
	client, dials := h2Client(t, tlsOn)
	u := h2Base(addr, tlsOn) + "/echo"
	if err := h2Do(client, h2Get(h2Base(addr, tlsOn)+"/hello"), h2Hello); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(15, 2))
	bodies := make([][]byte, 50)
	for i := range bodies {
		n := rng.IntN(1<<20 + 1)
		switch i {
		case 0:
			n = 0
		case 1:
			n = 1 << 20
		}
		bodies[i] = make([]byte, n)
		rand.NewChaCha8([32]byte{byte(i), 'h', '2'}).Read(bodies[i])
	}
	h2Parallel(t, len(bodies), func(i int) error { return h2Do(client, h2Post(u, bodies[i]), bodies[i]) })
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections opened, want 1 (all streams on one)", n)
	}
}

func TestH2ClientGets(t *testing.T)           { h2Modes(t, h2ClientGets) }
func TestH2ClientHugeEcho(t *testing.T)       { h2Modes(t, h2ClientHugeEcho) }
func TestH2ClientConcurrentEcho(t *testing.T) { h2Modes(t, h2ClientConcurrentEcho) }
