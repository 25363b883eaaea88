package stdhttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// rawDo writes req on a fresh connection and returns what comes back until
// the server closes it (or 10 s).
func rawDo(t *testing.T, base, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// The adapter's own behaviour, raw on the wire.
func TestAdapterRaw(t *testing.T) {
	var native atomic.Pointer[uhttp.Server]
	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("/panic-late", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		panic("late")
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Write([]byte("done"))
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.Write([]byte("body"))
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "yes")
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("s", 5000)))
	})
	mux.HandleFunc("/cl", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		w.Write([]byte("short"))
	})
	mux.HandleFunc("/nobody", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
			t.Errorf("write after 204: %v", err)
		}
	})
	mux.HandleFunc("/takeover", func(w http.ResponseWriter, r *http.Request) {
		var got string
		err := TakeOver(w, func(req *uhttp.Request, c netserver.ClientNum) {
			got = string(req.Path) + " " + string(req.Header("X-Test"))
			native.Load().Respond(c, 200, "text/plain", []byte("native"))
		})
		if err != nil || got != "/takeover yes" {
			t.Errorf("TakeOver: %v, %q", err, got)
		}
	})
	s := &Server{Handler: mux}
	base := start(t, s)
	native.Store(s.Uringnet())
	cases := []struct {
		name, req string
		want, not []string
	}{
		{"panic gives 500", "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HTTP/1.1 500 "}, nil},
		{"panic after writing closes", "GET /panic-late HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HTTP/1.1 200 ", "partial"}, []string{"500"}},
		{"ErrAbortHandler closes quietly", "GET /abort HTTP/1.1\r\nHost: x\r\n\r\n", nil, []string{"HTTP/1.1"}},
		{"103 then 200", "GET /hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			[]string{"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n", "done"}, nil},
		{"trailers", "GET /trailers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			[]string{"Transfer-Encoding: chunked\r\n", "Trailer: X-Sum\r\n", "4\r\nbody\r\n0\r\n", "X-Sum: 42\r\n", "X-Late: yes\r\n"}, nil},
		{"large is chunked", "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []string{"Transfer-Encoding: chunked\r\n"}, []string{"Content-Length"}},
		{"HTTP/1.0 large is close-delimited", "GET /stream HTTP/1.0\r\n\r\n", []string{"HTTP/1.1 200 OK\r\n", "Connection: close\r\n"}, []string{"chunked", "Content-Length"}},
		{"short Content-Length closes", "GET /cl HTTP/1.1\r\nHost: x\r\n\r\n", []string{"Content-Length: 10\r\n", "short"}, nil},
		{"204 has no body", "GET /nobody HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []string{"HTTP/1.1 204 "}, []string{"Content-Length", "\r\n\r\nx"}},
		{"HEAD has no body", "HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []string{"HTTP/1.1 200 "}, []string{"sss"}},
		{"TakeOver", "GET /takeover HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nConnection: close\r\n\r\n", []string{"\r\n\r\nnative"}, nil},
		{"bare LF is 400 (net/http accepts it)", "GET /stream HTTP/1.1\nHost: x\n\n", []string{"HTTP/1.1 400 "}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := rawDo(t, base, tc.req)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("has %q:\n%s", n, out)
				}
			}
		})
	}
}

// A handler's context ends when its client goes away.
func TestContextCancelledOnDisconnect(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(20 * time.Second):
		}
	})
	base := start(t, &Server{Handler: mux})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"))
	<-started
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the context was not cancelled")
	}
}

// Over MaxHandlers, requests wait (their connections unread) and run in
// turn; Shutdown lets the running ones finish.
func TestMaxHandlersAndShutdown(t *testing.T) {
	release := make(chan struct{})
	var running, peak atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		io.WriteString(w, "ok")
	})
	s := &Server{Handler: mux, MaxHandlers: 2}
	base := start(t, s)
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(base + "/block")
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "ok" {
				errs <- errors.New("body " + string(b))
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Counters().Waiting < n-2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if c := s.Counters(); c.Running != 2 || c.Waiting != n-2 {
		t.Fatalf("counters %+v", c)
	}
	// Shutdown waits for them all.
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d handlers ran at once, bound 2", p)
	}
	if c := s.Counters(); c.Waited != n-2 || c.Requests != n {
		t.Errorf("counters %+v", c)
	}
}

// WriteTimeout closes a client that does not read a large response.
func TestWriteTimeout(t *testing.T) {
	werr := make(chan error, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/flood", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		for {
			if _, err := w.Write(buf); err != nil {
				werr <- err
				return
			}
		}
	})
	base := start(t, &Server{Handler: mux, WriteTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"))
	select {
	case err := <-werr:
		if !errors.Is(err, errClientGone) && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			t.Errorf("write error %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the writes never failed")
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// A body read deadline set through http.ResponseController ends a read
// that waits for a client that sends nothing.
func TestBodyReadDeadline(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slow", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			t.Error(err)
		}
		_, err := io.ReadAll(r.Body)
		io.WriteString(w, "read: "+errString(err))
	})
	base := start(t, &Server{Handler: mux})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "timeout") {
		t.Errorf("got %q", b)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
