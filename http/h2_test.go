package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2cClient returns an HTTP/2 client speaking cleartext by prior
// knowledge.
func h2cClient() *nethttp.Client {
	return &nethttp.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// h2GetProto fetches url with cl and checks it came over HTTP/2.
func h2GetProto(t *testing.T, cl *nethttp.Client, url string) (int, []byte) {
	t.Helper()
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	if resp.ProtoMajor != 2 {
		t.Fatalf("GET %s: %s", url, resp.Proto)
	}
	return resp.StatusCode, body
}

func TestH2PriorKnowledgeRoutes(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	cl := h2cClient()
	base := "http://" + s.Addr().String()
	for _, tc := range []struct {
		path   string
		status int
		body   []byte
	}{
		{"/plaintext", 200, helloBody},
		{"/write", 200, []byte("write")},
		{"/headfirst", 200, []byte("ok")},
		{"/async?x", 200, []byte("async x")},
		{"/small.txt", 200, []byte("hello small file\n")},
		{"/asyncfile", 200, []byte("hello small file\n")},
		{"/big.bin", 200, bigContent},
		{"/nothing", 204, nil},
		{"/error", 503, nil},
		{"/missing", 404, nil},
	} {
		status, body := h2GetProto(t, cl, base+tc.path)
		if status != tc.status || (tc.body != nil && !bytes.Equal(body, tc.body)) {
			t.Errorf("%s: %d %d bytes, want %d %d bytes", tc.path, status, len(body), tc.status, len(tc.body))
		}
	}
	c := s.Counters().HTTP2
	if c.Conns != 1 || c.PriorKnowledge != 1 || c.Streams != 10 {
		t.Errorf("counters: %+v", c)
	}
}

func TestH2Concurrent(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	cl := h2cClient()
	base := "http://" + s.Addr().String()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp *nethttp.Response
			var err error
			want := helloBody
			if i%2 == 0 {
				resp, err = cl.Get(base + "/plaintext")
			} else {
				want = bytes.Repeat([]byte{byte(i)}, i*1000)
				resp, err = cl.Post(base+"/echo", "application/octet-stream", bytes.NewReader(want))
			}
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || !bytes.Equal(body, want) {
				errs <- fmt.Errorf("%d: %v, %d bytes, want %d", i, err, len(body), len(want))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Drain and Shutdown with a stream in flight: the stream's request body is
// still coming when the GOAWAY goes out, and it is served to the end; the
// connection then closes and Drain or Shutdown returns.
func TestH2Drain(t *testing.T) {
	for _, shutdown := range []bool{false, true} {
		t.Run(fmt.Sprint("shutdown=", shutdown), func(t *testing.T) {
			s, _, _ := startHTTP(t, Config{})
			cl := h2cClient()
			base := "http://" + s.Addr().String()
			h2GetProto(t, cl, base+"/plaintext") // the connection is up
			// /stream answers with the body once it has all come.
			type result struct {
				body []byte
				err  error
			}
			done := make(chan result, 1)
			pr, pw := io.Pipe()
			go func() {
				resp, err := cl.Post(base+"/stream", "application/octet-stream", pr)
				if err != nil {
					done <- result{err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				done <- result{b, err}
			}()
			pw.Write([]byte("first "))
			waitFor(t, "stream open", func() bool { return s.Counters().HTTP2.StreamsOpen == 1 }, s)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stopped := make(chan error, 1)
			go func() {
				if shutdown {
					stopped <- s.Shutdown(ctx)
				} else {
					stopped <- s.Drain(ctx)
				}
			}()
			// Past the drain's tick (250 ms), the GOAWAY is out; the stream
			// holds the server up.
			select {
			case err := <-stopped:
				t.Fatalf("returned %v with a stream in flight", err)
			case <-time.After(time.Second):
			}
			pw.Write([]byte("second"))
			pw.Close()
			r := <-done
			if r.err != nil || string(r.body) != "first second" {
				t.Fatalf("in-flight stream: %q, %v", r.body, r.err)
			}
			if err := <-stopped; err != nil {
				t.Fatal(err)
			}
			c := s.Counters().HTTP2
			if c.ConnsOpen != 0 || c.StreamsOpen != 0 || c.GoAwaySent == 0 {
				t.Errorf("after the drain: %+v", c)
			}
		})
	}
}
