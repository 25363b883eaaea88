package main

import (
	"encoding/json"
	"io"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

func dialWS(t *testing.T, addr, path string) *gorilla.Conn {
	t.Helper()
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+path, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestDemoWebSocket(t *testing.T) {
	addr, _ := startDemo(t, options{loops: 2, bigFile: 1 << 10})

	// /ws echoes text and binary.
	echo := dialWS(t, addr, "/ws")
	for _, m := range []struct {
		typ  int
		data string
	}{{gorilla.TextMessage, "hello"}, {gorilla.BinaryMessage, "\x00\xff\x01"}, {gorilla.TextMessage, ""}} {
		echo.WriteMessage(m.typ, []byte(m.data))
		typ, got, err := echo.ReadMessage()
		if err != nil || typ != m.typ || string(got) != m.data {
			t.Fatalf("echo %q: %d %q %v", m.data, typ, got, err)
		}
	}

	// /chat: a message reaches everyone in the room, its sender too.
	var room []*gorilla.Conn
	for i := 0; i < 4; i++ {
		room = append(room, dialWS(t, addr, "/chat"))
	}
	// The room is joined during the handshake; say something from each.
	for i, c := range room {
		c.WriteMessage(gorilla.TextMessage, []byte("hi from "+string(rune('a'+i))))
		for _, r := range room {
			_, got, err := r.ReadMessage()
			if err != nil || string(got) != "hi from "+string(rune('a'+i)) {
				t.Fatalf("chat: %q %v", got, err)
			}
		}
	}
	room[0].Close()
	room[1].WriteMessage(gorilla.TextMessage, []byte("after a leave"))
	for _, r := range room[1:] {
		if _, got, err := r.ReadMessage(); err != nil || string(got) != "after a leave" {
			t.Fatalf("chat after a leave: %q %v", got, err)
		}
	}

	// /stats pushes samples that count the WebSocket clients.
	st := dialWS(t, addr, "/stats")
	_, got, err := st.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		WebSocket *struct {
			Clients uint64 `json:"clients"`
		} `json:"websocket"`
	}
	if err := json.Unmarshal(got, &sample); err != nil || sample.WebSocket == nil || sample.WebSocket.Clients < 4 {
		t.Fatalf("stats sample %s: %v", got, err)
	}

	// Without an upgrade, /chat is the page that uses both routes.
	resp, err := nethttp.Get("http://" + addr + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `url("/chat")`) || !strings.Contains(string(b), `url("/ws")`) {
		t.Fatalf("GET /chat: %d %.200q", resp.StatusCode, b)
	}
	// A bad handshake is refused with its reason.
	req, _ := nethttp.NewRequest("GET", "http://"+addr+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "7")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err = nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 426 {
		t.Fatalf("version 7: %d", resp.StatusCode)
	}
	nethttp.DefaultClient.CloseIdleConnections()
}
