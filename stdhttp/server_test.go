package stdhttp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start serves h on 127.0.0.1:0 with one loop until the test ends.
func start(t testing.TB, s *Server) string {
	t.Helper()
	s.Native.Net.Addrs = []string{"127.0.0.1:0"}
	if s.Native.Net.Loops == 0 {
		s.Native.Net.Loops = 1
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + s.BoundAddr().String()
}

func testMux(t testing.TB) *http.ServeMux {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.txt"), bytes.Repeat([]byte("0123456789"), 100000), 0o644)
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, World!")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 3<<20))
	})
	mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s %s %s %d", r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Proto, r.ContentLength)
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, "f.txt"))
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		brw.Flush()
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
		}
	})
	return mux
}

func TestSmoke(t *testing.T) {
	base := start(t, &Server{Handler: testMux(t)})
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	if resp, b := get("/hello"); b != "Hello, World!" || resp.ContentLength != 13 {
		t.Errorf("hello: %q %d %v", b, resp.ContentLength, resp.Header)
	}
	if _, b := get("/info?a=1"); b != "GET /info a=1 "+strings.TrimPrefix(base, "http://")+" HTTP/1.1 0" {
		t.Errorf("info: %q", b)
	}
	if _, b := get("/big"); len(b) != 3<<20 {
		t.Errorf("big: %d", len(b))
	}
	if resp, b := get("/file"); len(b) != 1000000 || resp.Header.Get("Content-Type") == "" {
		t.Errorf("file: %d %v", len(b), resp.Header)
	}
	if _, b := get("/flush"); b != "part 0\npart 1\npart 2\n" {
		t.Errorf("flush: %q", b)
	}
	if _, b := get("/hijack"); b != "hi" {
		t.Errorf("hijack: %q", b)
	}
	body := bytes.Repeat([]byte("abcdefgh"), 200000)
	resp, err := http.Post(base+"/echo", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, body) {
		t.Errorf("echo: %d bytes", len(got))
	}
	// Pipelined.
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(strings.Repeat("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 10)))
	br := bufio.NewReader(c)
	for i := range 10 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "Hello, World!" {
			t.Fatal(i, string(b))
		}
	}
}
