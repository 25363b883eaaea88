package main

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"
)

// natsNowhere returns a NATS URL on a loopback port nothing listens on.
func natsNowhere(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "nats://" + addr
}

// With -nats and no NATS server answering, the demo starts anyway (the
// bus keeps trying), its chat works on this instance, and /stats.json and
// /metrics say the bus is not connected. No nats-server is needed.
func TestDemoChatBusDown(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: mode.stdlib, natsURL: natsNowhere(t), natsName: "nowhere"})
			a, b := dialWS(t, addr, "/chat"), dialWS(t, addr, "/chat")
			for i, c := range []*gorilla.Conn{a, b, a} {
				msg := "said while the bus is down " + string(rune('0'+i))
				if err := c.WriteMessage(gorilla.TextMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				for _, r := range []*gorilla.Conn{a, b} {
					if _, got, err := r.ReadMessage(); err != nil || string(got) != msg {
						t.Fatalf("chat: %q %v, want %q", got, err, msg)
					}
				}
			}
			_, body := get(t, "http://"+addr+"/stats.json")
			var s statsJSON
			if err := json.Unmarshal([]byte(body), &s); err != nil {
				t.Fatal(err)
			}
			if s.Bus == nil || s.Bus.State == "connected" || s.Bus.State == "closed" || s.Bus.Server != "" {
				t.Errorf("bus %+v, want it trying to connect", s.Bus)
			}
			if r := s.Rooms; r == nil || r.BusTraffic == nil || r.ChatMembers != 2 || r.ChatPresence != 2 || r.Broadcasts != 3 || r.Instance == "" {
				t.Errorf("rooms %+v, want 2 members and 3 messages", r)
			}
			_, text := get(t, "http://"+addr+"/metrics")
			m := parseExposition(t, text)
			if v, ok := m["uringnet_bus_connected"]; !ok || v != 0 {
				t.Errorf("uringnet_bus_connected %d (present %v), want 0", v, ok)
			}
			if m["uringnet_chat_members"] != 2 || m["uringnet_rooms_broadcasts_total"] != 3 {
				t.Errorf("chat metrics: %d members, %d broadcasts; want 2 and 3", m["uringnet_chat_members"], m["uringnet_rooms_broadcasts_total"])
			}
			info := 0
			for series := range m {
				if strings.HasPrefix(series, `uringnet_bus_info{state="`) {
					info++
				}
			}
			if info != 1 {
				t.Errorf("%d uringnet_bus_info series, want 1", info)
			}
		})
	}
}

// A -nats URL that is not one is an error at start.
func TestDemoBadNATSURL(t *testing.T) {
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-nats", "nats://127.0.0.1:bad port"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.logOut = nil
	o.bigFile = 1 << 10
	err = run(o, &syncBuf{}, make(chan os.Signal))
	if err == nil || !strings.Contains(err.Error(), "-nats") {
		t.Errorf("run: %v, want a -nats error", err)
	}
	if err != nil {
		t.Logf("run: %v", err)
	}
}
