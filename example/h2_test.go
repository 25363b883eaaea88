package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// The demo over HTTP/2: h2c by prior knowledge on the plain port, h2 by
// ALPN over TLS (-tls-self-signed), in both modes; -http2=false turns it
// off.

// h2cClient is an HTTP/2 client speaking cleartext by prior knowledge.
func h2cClient() *nethttp.Client {
	return &nethttp.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		},
	}}
}

// h2TLSClient is a net/http client that offers h2 and http/1.1 by ALPN
// (as browsers do), trusting any certificate (-tls-self-signed).
func h2TLSClient() *nethttp.Client {
	return &nethttp.Client{Timeout: 10 * time.Second, Transport: &nethttp.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: true,
	}}
}

// h1Client is a plain HTTP/1.1 client (TLS trusting any certificate).
func h1Client() *nethttp.Client {
	return &nethttp.Client{Timeout: 10 * time.Second, Transport: &nethttp.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}},
	}}
}

// h2Sample is the HTTP/2 part of /stats.json.
type h2Sample struct {
	HTTP2 *h2JSON `json:"http2"`
}

// h2Stats reads the HTTP/2 counters from /stats.json over client (nil
// when the demo shows none).
func h2Stats(t *testing.T, client *nethttp.Client, base string) *h2JSON {
	t.Helper()
	_, body := fetch(t, client, "GET", base+"/stats.json", "")
	var s h2Sample
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("/stats.json: %v: %s", err, body)
	}
	return s.HTTP2
}

func TestDemoHTTP2(t *testing.T) {
	for _, mode := range demoModes {
		for _, tr := range []string{"h2c", "tls"} {
			t.Run(mode.name+"_"+tr, func(t *testing.T) { testDemoHTTP2(t, mode.stdlib, tr == "tls") })
		}
	}
}

func testDemoHTTP2(t *testing.T, stdlib, overTLS bool) {
	const bigSize = 1 << 20
	o := options{bigFile: bigSize, stdlib: stdlib, tlsSelfSigned: overTLS}
	addr, _ := startDemo(t, o)
	base, client := "http://"+addr, h2cClient()
	if overTLS {
		base, client = "https://"+addr, h2TLSClient()
	}
	defer client.CloseIdleConnections()
	h1 := h1Client()
	defer h1.CloseIdleConnections()

	before := h2Stats(t, client, base)
	if before == nil {
		t.Fatal("/stats.json has no http2 object")
	}
	check := func(method, path, body, want string) string {
		t.Helper()
		resp, got := fetch(t, client, method, base+path, body)
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("%s %s: %d over %s, want 200 over HTTP/2", method, path, resp.StatusCode, resp.Proto)
		}
		if overTLS && (resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2") {
			t.Errorf("%s %s: ALPN %v, want h2", method, path, resp.TLS)
		}
		if want != "" && got != want {
			t.Errorf("%s %s: %.100q, want %.100q", method, path, got, want)
		}
		return got
	}
	check("GET", "/plaintext", "", "Hello, World!")
	check("GET", "/json", "", `{"message":"Hello, World!"}`)
	check("POST", "/echo", "h2 says hi", "h2 says hi")
	// A body over the default stream window (64 KiB), both ways.
	payload := make([]byte, 300<<10)
	rand.Read(payload)
	check("POST", "/echo", string(payload), string(payload))
	big := check("GET", "/big.bin", "", "")
	_, big1 := fetch(t, h1, "GET", base+"/big.bin", "")
	if len(big) != bigSize || big != big1 {
		t.Errorf("/big.bin over h2: %d bytes (the same as over HTTP/1.1: %v), want %d", len(big), big == big1, bigSize)
	}
	if m := check("GET", "/metrics", "", ""); !strings.Contains(m, "uringnet_http2_streams_total ") || !strings.Contains(m, "uringnet_http2_conns_open 1") {
		t.Errorf("/metrics lacks the HTTP/2 counters (one connection open):\n%s", grepLines(m, "uringnet_http2_"))
	}
	after := h2Stats(t, client, base)
	// Six streams above (before's /stats.json may or may not be counted
	// in before), this /stats.json perhaps.
	if n := after.Streams - before.Streams; n < 6 || n > 8 {
		t.Errorf("http2.streams went %d -> %d, want 6 more or so", before.Streams, after.Streams)
	}
	if after.Conns < 1 || after.ConnsOpen < 1 || after.StreamsOpen < 1 {
		t.Errorf("http2 %+v: want a connection and a stream (this one) open", after)
	}
	if overTLS && after.ALPN < 1 || !overTLS && after.PriorKnowledge < 1 {
		t.Errorf("http2 %+v: the connection not counted by how it began", after)
	}
	if after.ProtocolErrors != 0 || after.FlowControlErrors != 0 || after.RapidResets != 0 {
		t.Errorf("http2 %+v: errors from an honest client", after)
	}
	// HTTP/1.1 still served on the same port.
	if resp, body := fetch(t, h1, "GET", base+"/plaintext", ""); resp.ProtoMajor != 1 || body != "Hello, World!" {
		t.Errorf("HTTP/1.1 on the same port: %s %q", resp.Proto, body)
	}
	// curl: --http2 in cleartext goes by Upgrade: h2c, over TLS by ALPN.
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Log("curl not installed: the curl --http2 check did not run")
		return
	}
	out, err := exec.Command(curl, "-sS", "-k", "--http2", "--max-time", "10", "--noproxy", "*",
		"-o", "/dev/null", "-w", "%{http_version} %{http_code}", base+"/plaintext").Output()
	if err != nil || string(out) != "2 200" {
		t.Errorf("curl --http2: %v, %q, want 2 200", err, out)
	}
	if !overTLS {
		if s := h2Stats(t, client, base); s.Upgrades < 1 {
			t.Errorf("http2 %+v: curl's Upgrade: h2c not counted", s)
		}
	}
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var b strings.Builder
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			b.WriteString(l)
		}
	}
	return b.String()
}

// TestDemoHTTP2Off: with -http2=false a prior-knowledge client is refused,
// TLS settles on http/1.1 for a client that offers h2, and /stats.json has
// no http2 counters.
func TestDemoHTTP2Off(t *testing.T) {
	o, err := parseFlags([]string{"-http2=false"}, io.Discard)
	if err != nil || !o.noHTTP2 {
		t.Fatalf("-http2=false: %v, noHTTP2 %v", err, o.noHTTP2)
	}
	if o, _ := parseFlags(nil, io.Discard); o.noHTTP2 {
		t.Fatal("HTTP/2 off by default")
	}
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: mode.stdlib, noHTTP2: true})
			h2c := h2cClient()
			defer h2c.CloseIdleConnections()
			if resp, err := h2c.Get("http://" + addr + "/plaintext"); err == nil {
				resp.Body.Close()
				t.Errorf("prior knowledge with -http2=false: %s %d, want an error", resp.Proto, resp.StatusCode)
			}
			h1 := h1Client()
			defer h1.CloseIdleConnections()
			if s := h2Stats(t, h1, "http://"+addr); s != nil {
				t.Errorf("/stats.json http2 = %+v, want null with -http2=false", s)
			}
			if _, m := fetch(t, h1, "GET", "http://"+addr+"/metrics", ""); strings.Contains(m, "uringnet_http2_") {
				t.Errorf("/metrics has HTTP/2 counters with -http2=false:\n%s", grepLines(m, "uringnet_http2_"))
			}

			addr, _ = startDemo(t, options{bigFile: 1 << 10, stdlib: mode.stdlib, noHTTP2: true, tlsSelfSigned: true})
			client := h2TLSClient()
			defer client.CloseIdleConnections()
			resp, body := fetch(t, client, "GET", "https://"+addr+"/plaintext", "")
			if resp.ProtoMajor != 1 || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "http/1.1" || body != "Hello, World!" {
				t.Errorf("TLS with -http2=false: %s, ALPN %q, %q; want HTTP/1.1", resp.Proto, resp.TLS.NegotiatedProtocol, body)
			}
		})
	}
}

// TestDemoHTTP2Concurrent: many streams at once on one h2c connection,
// each body checked.
func TestDemoHTTP2Concurrent(t *testing.T) {
	addr, _ := startDemo(t, options{bigFile: 1 << 10})
	client := h2cClient()
	defer client.CloseIdleConnections()
	const n = 50
	errs := make(chan error, n)
	for i := range n {
		go func() {
			body := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i*100)
			resp, err := client.Post("http://"+addr+"/echo", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case err != nil:
				errs <- err
			case resp.ProtoMajor != 2 || !bytes.Equal(got, body):
				errs <- fmt.Errorf("echo %d: over %s, %d bytes back of %d", i, resp.Proto, len(got), len(body))
			default:
				errs <- nil
			}
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if s := h2Stats(t, client, "http://"+addr); s.Conns != 1 || s.Streams < n {
		t.Errorf("http2 %+v: want %d streams on 1 connection", s, n)
	}
}
