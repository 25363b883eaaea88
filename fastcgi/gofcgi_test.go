package fastcgi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/fcgi"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pattern returns n deterministic bytes seeded by seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31+i>>9) ^ seed
	}
	return b
}

// goApp is a FastCGI application on net/http/fcgi, in process.
type goApp struct {
	ln      *countingListener
	addr    string
	hang    chan struct{} // closed at cleanup: releases /hang
	started chan struct{} // one send per /big request begun
}

func startGoApp(t testing.TB, network string) *goApp {
	t.Helper()
	var ln net.Listener
	var err error
	var addr string
	if network == "unix" {
		path := t.TempDir() + "/app.sock"
		ln, err = net.Listen("unix", path)
		addr = "unix:" + path
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			addr = ln.Addr().String()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	a := &goApp{ln: &countingListener{Listener: ln}, addr: addr, hang: make(chan struct{}), started: make(chan struct{}, 16)}
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/fcgi/hello", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello %s\n", r.URL.Query().Get("n"))
	})
	mux.HandleFunc("/fcgi/echo", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Method", r.Method)
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/fcgi/sum", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	mux.HandleFunc("/fcgi/slowsum", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		time.Sleep(300 * time.Millisecond) // the body piles up: PauseBody
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	mux.HandleFunc("/fcgi/big", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("len") != "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		select {
		case a.started <- struct{}{}:
		default:
		}
		b := pattern(n, 7)
		for len(b) > 0 {
			k := min(len(b), 100000)
			if _, err := w.Write(b[:k]); err != nil {
				return
			}
			b = b[k:]
		}
	})
	mux.HandleFunc("/fcgi/status", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(nethttp.StatusTeapot)
		io.WriteString(w, "short and stout")
	})
	mux.HandleFunc("/fcgi/hang", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-a.hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/fcgi/env/", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		env := fcgi.ProcessEnv(r)
		fmt.Fprintf(w, "method=%s uri=%s query=%s xtest=%s script=%s len=%d\n", r.Method, r.URL.RequestURI(),
			r.URL.RawQuery, r.Header.Get("X-Test"), env["SCRIPT_FILENAME"], r.ContentLength)
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		fcgi.Serve(a.ln, mux)
	}()
	t.Cleanup(func() {
		close(a.hang)
		ln.Close()
		<-done
	})
	return a
}

func get(t testing.TB, c *nethttp.Client, url string) (*nethttp.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestGoAppHelloAndReuse(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			app := startGoApp(t, network)
			f, base := startFront(t, Config{Addr: app.addr}, 1, "/scripts")
			hc := newHTTPClient(t)
			for i := range 20 {
				resp, b := get(t, hc, fmt.Sprintf("%s/fcgi/hello?n=%d", base, i))
				if resp.StatusCode != 200 || string(b) != fmt.Sprintf("hello %d\n", i) {
					t.Fatalf("%d: %d %q", i, resp.StatusCode, b)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
					t.Fatalf("Content-Type %q", ct)
				}
			}
			if n := app.ln.n.Load(); n != 1 {
				t.Errorf("%d connections accepted for 20 sequential requests, want 1", n)
			}
			st := f.cl.Stats()
			if st.Requests != 20 || st.Completed != 20 || st.Reused != 19 || st.Connects != 1 {
				t.Errorf("stats %+v", st)
			}
			req, _ := nethttp.NewRequest("GET", base+"/fcgi/env/extra?a=b", nil)
			req.Header.Set("X-Test", "yes")
			r0, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r0.Body)
			r0.Body.Close()
			if want := "method=GET uri=/fcgi/env/extra?a=b query=a=b xtest=yes script=/scripts/env len=0\n"; r0.StatusCode != 200 || string(b) != want {
				t.Errorf("env: %d %q", r0.StatusCode, b)
			}
			resp, b := get(t, hc, base+"/fcgi/status")
			if resp.StatusCode != 418 || string(b) != "short and stout" || resp.Header.Get("Location") != "/elsewhere" {
				t.Errorf("status: %d %q %v", resp.StatusCode, b, resp.Header)
			}
		})
	}
}

func TestGoAppConcurrent(t *testing.T) {
	app := startGoApp(t, "unix")
	f, base := startFront(t, Config{Addr: app.addr, MaxConns: 4}, 2, "/scripts")
	hc := newHTTPClient(t)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := pattern(1000+i*3001, byte(i))
			resp, err := hc.Post(base+"/fcgi/echo", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- err
				return
			}
			if resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Header.Get("X-Method") != "POST" {
				errs <- fmt.Errorf("request %d: status %d, %d bytes back of %d", i, resp.StatusCode, len(got), len(body))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if a := app.ln.n.Load(); a > 8 {
		t.Errorf("%d connections accepted, want at most 2 loops x 4", a)
	}
	st := f.cl.Stats()
	if st.Completed != n || st.Conns > 8 {
		t.Errorf("stats %+v", st)
	}
}

func TestGoAppLargeBothWays(t *testing.T) {
	app := startGoApp(t, "tcp")
	f, base := startFront(t, Config{Addr: app.addr}, 1, "/scripts")
	hc := newHTTPClient(t)
	body := pattern(16<<20, 3)
	// Upload: a sum of what arrived (Content-Length, then chunked).
	want := fmt.Sprintf("%d %x", len(body), sha256.Sum256(body))
	resp, err := hc.Post(base+"/fcgi/sum", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != want {
		t.Fatalf("sum: %q, want %q", got, want)
	}
	resp, err = hc.Post(base+"/fcgi/sum", "application/octet-stream", io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != want {
		t.Fatalf("chunked sum: %q, want %q", got, want)
	}
	// An application that reads the body late: the HTTP client is paused
	// (16 MiB is far beyond what the sockets hold).
	resp, err = hc.Post(base+"/fcgi/slowsum", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != want {
		t.Fatalf("slow sum: %q, want %q", got, want)
	}
	if st := f.cl.Stats(); st.BodyPauses == 0 {
		t.Errorf("no body pause: %+v", st)
	}
	// A client that reads late: the application is not read meanwhile.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /fcgi/big?n=%d&len=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 16<<20)
	// Not read until the pause shows (however fast the machine: 16 MiB
	// is more than the socket buffers hold), then read whole.
	waitFor(t, "the application connection paused", func() bool { return f.cl.Stats().OutputPauses > 0 })
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	raw, err := io.ReadAll(conn)
	conn.Close()
	if err != nil || !bytes.HasSuffix(raw, pattern(16<<20, 7)) {
		t.Fatalf("slow reader: %v, %d bytes", err, len(raw))
	}
	// Echo, both ways at once.
	resp, err = hc.Post(base+"/fcgi/echo", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("echo: %d bytes back of %d", len(got), len(body))
	}
	// Download, chunked and with a Content-Length.
	for _, q := range []string{"", "&len=1"} {
		resp, b := get(t, hc, base+"/fcgi/big?n=16777216"+q)
		if !bytes.Equal(b, pattern(16<<20, 7)) {
			t.Fatalf("big%s: %d bytes, status %d", q, len(b), resp.StatusCode)
		}
		if q == "" && resp.ContentLength != -1 || q != "" && resp.ContentLength != 16<<20 {
			t.Errorf("big%s: ContentLength %d", q, resp.ContentLength)
		}
	}
}

func TestUnreachable(t *testing.T) {
	path := t.TempDir() + "/nobody.sock"
	f, base := startFront(t, Config{Addr: "unix:" + path}, 1, "/scripts")
	hc := newHTTPClient(t)
	resp, _ := get(t, hc, base+"/fcgi/hello")
	if resp.StatusCode != 502 {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	// TCP: a port nobody listens on (connection refused, maybe late).
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	f2, base2 := startFront(t, Config{Addr: addr}, 1, "/scripts")
	resp, _ = get(t, hc, base2+"/fcgi/hello")
	if resp.StatusCode != 502 {
		t.Errorf("tcp: status %d, want 502", resp.StatusCode)
	}
	if f.cl.Stats().BadGateway != 1 || f2.cl.Stats().BadGateway != 1 {
		t.Errorf("stats %+v %+v", f.cl.Stats(), f2.cl.Stats())
	}
}

func TestTimeout(t *testing.T) {
	app := startGoApp(t, "unix")
	f, base := startFront(t, Config{Addr: app.addr, Timeout: 300 * time.Millisecond}, 1, "/scripts")
	hc := newHTTPClient(t)
	resp, _ := get(t, hc, base+"/fcgi/hang")
	if resp.StatusCode != 504 {
		t.Errorf("status %d, want 504", resp.StatusCode)
	}
	if st := f.cl.Stats(); st.Timeouts != 1 {
		t.Errorf("stats %+v", st)
	}
	waitFor(t, "the hung connection to close", func() bool { return f.cl.Stats().Conns == 0 })
	resp, b := get(t, hc, base+"/fcgi/hello?n=1")
	if resp.StatusCode != 200 || string(b) != "hello 1\n" {
		t.Errorf("after the timeout: %d %q", resp.StatusCode, b)
	}
}

func TestClientGoneMidResponse(t *testing.T) {
	app := startGoApp(t, "unix")
	f, base := startFront(t, Config{Addr: app.addr}, 1, "/scripts")
	hc := newHTTPClient(t)
	get(t, hc, base+"/fcgi/hello") // one pooled connection
	before := app.ln.n.Load()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /fcgi/big?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", 64<<20)
	buf := make([]byte, 4096)
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	waitFor(t, "the abort", func() bool { return f.cl.Stats().ClientAborts == 1 })
	waitFor(t, "the app connection to close", func() bool { st := f.cl.Stats(); return st.Conns == 0 && st.Idle == 0 })
	resp, b := get(t, hc, base+"/fcgi/hello?n=2")
	if resp.StatusCode != 200 || string(b) != "hello 2\n" {
		t.Errorf("after: %d %q", resp.StatusCode, b)
	}
	if app.ln.n.Load() != before+1 {
		t.Errorf("accepted %d then %d: the aborted connection was reused?", before, app.ln.n.Load())
	}
	_ = context.Background
}

// TestBodyNotRead: the application answers without reading a large
// body; the paused HTTP client is resumed (the rest of its body is
// discarded) and its connection serves on.
func TestBodyNotRead(t *testing.T) {
	app := startGoApp(t, "unix")
	f, base := startFront(t, Config{Addr: app.addr}, 1, "/scripts")
	hc := newHTTPClient(t)
	resp, err := hc.Post(base+"/fcgi/hello?n=7", "application/octet-stream", bytes.NewReader(pattern(16<<20, 1)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "hello 7\n" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	resp, b = get(t, hc, base+"/fcgi/hello?n=8")
	if resp.StatusCode != 200 || string(b) != "hello 8\n" {
		t.Fatalf("after: %d %q", resp.StatusCode, b)
	}
	waitFor(t, "one pooled connection", func() bool { st := f.cl.Stats(); return st.Conns == 1 && st.Idle == 1 })
}
