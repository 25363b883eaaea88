package stdhttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/net/http2"
)

// h2cTransport speaks cleartext HTTP/2 by prior knowledge.
func h2cTransport() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// TestH2Handlers runs net/http handlers over HTTP/2: the request says
// HTTP/2.0, chunked bodies and trailers become DATA and a last HEADERS,
// files go through ReadFrom, and Hijack is refused.
func TestH2Handlers(t *testing.T) {
	dir := t.TempDir()
	file := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640,000 bytes
	path := filepath.Join(dir, "f.bin")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/proto", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.WriteHeader(200)
		w.Write([]byte("part one, "))
		w.(http.Flusher).Flush()
		w.Write([]byte("part two"))
		w.Header().Set("X-Sum", "42")
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, path)
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		_, _, err := w.(http.Hijacker).Hijack()
		if err == http.ErrNotSupported {
			io.WriteString(w, "refused")
			return
		}
		if err == nil {
			t.Error("Hijack on an HTTP/2 stream succeeded")
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})
	base := start(t, &Server{Handler: mux})
	cl := h2cTransport()
	get := func(p string, body io.Reader) *http.Response {
		t.Helper()
		method := "GET"
		if body != nil {
			method = "POST"
		}
		req, _ := http.NewRequest(method, base+p, body)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("%s: %s", p, resp.Proto)
		}
		return resp
	}
	read := func(resp *http.Response) []byte {
		t.Helper()
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := read(get("/proto", nil)); string(b) != "HTTP/2.0" {
		t.Errorf("proto: %q", b)
	}
	resp := get("/trailers", nil)
	if b := read(resp); string(b) != "part one, part two" || resp.Trailer.Get("X-Sum") != "42" {
		t.Errorf("trailers: %q, trailer %v", b, resp.Trailer)
	}
	if b := read(get("/file", nil)); !bytes.Equal(b, file) {
		t.Errorf("file: %d bytes, want %d", len(b), len(file))
	}
	req, _ := http.NewRequest("GET", base+"/file", nil)
	req.Header.Set("Range", "bytes=100-199")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := read(resp); resp.StatusCode != 206 || !bytes.Equal(b, file[100:200]) {
		t.Errorf("range: %d %q", resp.StatusCode, b)
	}
	if b := read(get("/hijack", nil)); string(b) != "refused" {
		t.Errorf("hijack: %q", b)
	}
	big := bytes.Repeat([]byte("x"), 3<<20)
	if b := read(get("/echo", bytes.NewReader(big))); !bytes.Equal(b, big) {
		t.Errorf("echo: %d bytes, want %d", len(b), len(big))
	}
}
