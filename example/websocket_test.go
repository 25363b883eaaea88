package main

import (
	"encoding/json"
	"io"
	nethttp "net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/netserver"
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
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) { testDemoWebSocket(t, mode.stdlib) })
	}
}

func testDemoWebSocket(t *testing.T, stdlib bool) {
	addr, _ := startDemo(t, options{loops: 2, bigFile: 1 << 10, stdlib: stdlib})

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

// TestDemoShutdownGoingAway: on SIGTERM every WebSocket client of the demo
// (echo, chat, live stats) gets a 1001 close frame before the server stops,
// not an abnormal closure.
func TestDemoShutdownGoingAway(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) { testDemoShutdownGoingAway(t, mode.stdlib) })
	}
}

func testDemoShutdownGoingAway(t *testing.T, stdlib bool) {
	out := &syncBuf{}
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(options{addr: "127.0.0.1:0", loops: 2, bigFile: 1 << 10, stdlib: stdlib}, out, stop)
	}()
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			addr = strings.TrimPrefix(line, "listening on ")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if addr == "" {
		t.Fatal("no listening line")
	}
	var clients []*gorilla.Conn
	for _, path := range []string{"/ws", "/chat", "/chat", "/stats"} {
		clients = append(clients, dialWS(t, addr, path))
	}
	// Each client reads until its connection ends (gorilla answers the
	// close frame as it reads it).
	ends := make(chan error, len(clients))
	for _, c := range clients {
		go func() {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					ends <- err
					return
				}
			}
		}()
	}
	stop <- syscall.SIGTERM
	for range clients {
		err := <-ends
		if !gorilla.IsCloseError(err, gorilla.CloseGoingAway) {
			t.Errorf("client ended with %v, want close 1001", err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("demo did not stop")
	}
}

// TestMetricsWebSocketPolicy: the counters of the WebSocket send queue
// policy and message timeout are exposed.
func TestMetricsWebSocketPolicy(t *testing.T) {
	src := &counterSources{
		loops:    1,
		net:      func() netserver.Stats { return netserver.Stats{} },
		requests: func() uint64 { return 0 },
		ws: func() wsStats {
			return wsStats{QueueOverflows: 3, SlowConsumers: 4, MessageTimeouts: 5, BroadcastsDropped: 6}
		},
	}
	got := parseExposition(t, scrape(t, src))
	for name, want := range map[string]uint64{
		"uringnet_websocket_queue_overflows_total":    3,
		"uringnet_websocket_slow_consumers_total":     4,
		"uringnet_websocket_message_timeouts_total":   5,
		"uringnet_websocket_broadcasts_dropped_total": 6,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %d (present %v), want %d", name, v, ok, want)
		}
	}
	s := src.take(time.Unix(1, 0))
	var js statsJSON
	if err := json.Unmarshal(appendStatsJSON(nil, &s), &js); err != nil {
		t.Fatal(err)
	}
	if js.WebSocket == nil || js.WebSocket.SlowConsumers != 4 || js.WebSocket.MessageTimeouts != 5 || js.WebSocket.QueueOverflows != 3 {
		t.Errorf("stats JSON %+v", js.WebSocket)
	}
	// The demo maps its server's counters.
	addr, _ := startDemo(t, options{bigFile: 1 << 10})
	_, body := get(t, "http://"+addr+"/metrics")
	if _, ok := parseExposition(t, body)["uringnet_websocket_slow_consumers_total"]; !ok {
		t.Error("the demo does not expose uringnet_websocket_slow_consumers_total")
	}
}
