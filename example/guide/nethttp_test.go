package guide_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestNetHTTP(t *testing.T) {
	p := start(t, "nethttp", "-root", "nethttp")
	src, err := os.ReadFile("nethttp/main.go")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string // the whole body; "" with a status other than 200: not checked
		header             string // a response header that must be set
	}{
		{"GET", "/hello?name=gopher", "", 200, "Hello, gopher!\n", ""},
		{"GET", "/slow", "", 200, "done after 100 ms\n", ""},
		{"GET", "/api/users/42", "", 200, "user 42\n", "X-Request-Id"},
		{"POST", "/api/echo", "echo me", 200, "echo me", ""},
		{"DELETE", "/api/users/42", "", 405, "", "Allow"},
		{"GET", "/api/nope", "", 404, "", ""},
		{"POST", "/hello", "", 405, "", "Allow"},
		{"GET", "/files/main.go", "", 200, string(src), "Last-Modified"},
	} {
		req, _ := http.NewRequest(c.method, "http://"+p.addr+c.path, strings.NewReader(c.body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || (c.want != "" || c.status == 200) && string(b) != c.want {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, resp.StatusCode, b, c.status, c.want)
		}
		if c.header != "" && resp.Header.Get(c.header) == "" {
			t.Errorf("%s %s: no %s header", c.method, c.path, c.header)
		}
	}

	// A range of the file: 206 with those bytes.
	req, _ := http.NewRequest("GET", "http://"+p.addr+"/files/main.go", nil)
	req.Header.Set("Range", "bytes=3-12")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(b, src[3:13]) {
		t.Errorf("range: %d %q, want 206 %q", resp.StatusCode, b, src[3:13])
	}

	// The WebSocket echo, through Hijack.
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hello ring")); err != nil {
		t.Fatal(err)
	}
	if typ, msg, err := ws.ReadMessage(); err != nil || typ != websocket.TextMessage || string(msg) != "hello ring" {
		t.Fatalf("echo: %d %q %v", typ, msg, err)
	}
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
	ws.Close()

	// The native WebSocket (TakeOver): same echo, served by the loops. It
	// stays open: the shutdown closes it with 1001.
	nws, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/native", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nws.Close()
	nws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := nws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if typ, msg, err := nws.ReadMessage(); err != nil || typ != websocket.BinaryMessage || !bytes.Equal(msg, []byte{1, 2, 3}) {
		t.Fatalf("native echo: %d %q %v", typ, msg, err)
	}

	// Read on, so that the shutdown's close frame is answered at once.
	closed := make(chan error, 1)
	go func() {
		_, _, err := nws.ReadMessage()
		closed <- err
	}()

	client.CloseIdleConnections()
	// Eleven requests reached handlers (the eight above, the range, two
	// upgrades), none waited for a slot, two connections were taken (one
	// by Hijack, one by TakeOver) and one upgraded natively.
	if last := p.stop(t); last != "stats requests=11 waited=0 panics=0 hijacked=2 upgrades=1" {
		t.Errorf("last line %q", last)
	}
	var ce *websocket.CloseError
	if err := <-closed; !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("native WebSocket after shutdown: %v, want close 1001", err)
	}
}
