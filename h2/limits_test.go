package h2

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestDefences: each flood gets its GOAWAY or answer and its counter.
func TestDefences(t *testing.T) {
	big := strings.Repeat("v", 300)
	tests := []struct {
		inputCase
		counter func(Stats) uint64
	}{
		{inputCase{
			name: "rapid reset", cfg: Config{ResetRate: 3, ResetBurst: 3},
			send: func(cl *client) {
				for id := uint32(1); id <= 9; id += 2 {
					cl.headers(id, false, post("/")...)
					cl.fr.WriteRSTStream(id, http2.ErrCodeCancel)
				}
			},
			frames: []string{"GOAWAY 7 ENHANCE_YOUR_CALM"},
			events: []string{"headers 1 end=false", "reset 1 CANCEL", "headers 3 end=false", "reset 3 CANCEL",
				"headers 5 end=false", "reset 5 CANCEL", "headers 7 end=false", "reset 7 CANCEL", "closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.RapidResets }},
		{inputCase{
			name: "refused streams count as resets", cfg: Config{ResetRate: 1, ResetBurst: 1, MaxConcurrentStreams: 1},
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				cl.headers(3, false, post("/")...)
				cl.headers(5, false, post("/")...)
			},
			frames: []string{"RST_STREAM 3 REFUSED_STREAM", "RST_STREAM 5 REFUSED_STREAM", "GOAWAY 1 ENHANCE_YOUR_CALM"},
			events: []string{"headers 1 end=false", "closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.RapidResets }},
		{inputCase{
			name: "CONTINUATION flood by size", cfg: Config{MaxHeaderBlock: 100},
			send: func(cl *client) {
				cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.block(get("/")...)})
				for range 20 {
					cl.fr.WriteContinuation(1, false, make([]byte, 10))
				}
			},
			frames: []string{"GOAWAY 0 ENHANCE_YOUR_CALM"},
			events: []string{"closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.ContinuationFloods }},
		{inputCase{
			name: "CONTINUATION flood by frames",
			send: func(cl *client) {
				cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.block(get("/")...)})
				for range 100 {
					cl.fr.WriteContinuation(1, false, []byte{0x82})
				}
			},
			frames: []string{"GOAWAY 0 ENHANCE_YOUR_CALM"},
			events: []string{"closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.ContinuationFloods }},
		{inputCase{
			name: "empty CONTINUATION flood", cfg: Config{EmptyFrameRate: 5, EmptyFrameBurst: 5},
			send: func(cl *client) {
				cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.block(get("/")...)})
				for range 10 {
					cl.fr.WriteContinuation(1, false, nil)
				}
			},
			frames: []string{"GOAWAY 0 ENHANCE_YOUR_CALM"},
			events: []string{"closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.EmptyFrameFloods }},
		{inputCase{
			name: "HPACK bomb: 431, the table stays in step", cfg: Config{MaxHeaderListSize: 300},
			send: func(cl *client) {
				cl.headers(1, true, append(get("/"), "x-big", big)...)  // indexed by the client
				cl.headers(3, false, append(get("/"), "x-big", big)...) // referenced
				cl.headers(5, true, get("/ok")...)
			},
			frames: []string{"HEADERS 1 end=true :status=431", "HEADERS 3 end=true :status=431", "RST_STREAM 3 NO_ERROR"},
			events: []string{"headers 5 end=true"},
			check: func(t *testing.T, c *Conn, r *recorder) {
				if c.Stats().HeaderListTooLarge != 2 {
					t.Errorf("HeaderListTooLarge = %d", c.Stats().HeaderListTooLarge)
				}
			},
		}, func(s Stats) uint64 { return 1 }},
		{inputCase{
			name: "HPACK string over the list size", cfg: Config{MaxHeaderListSize: 100},
			send: func(cl *client) {
				cl.headers(1, true, append(get("/"), "x-big", big)...)
			},
			frames: []string{"GOAWAY 0 COMPRESSION_ERROR"},
			events: []string{"closed COMPRESSION_ERROR"},
		}, func(s Stats) uint64 { return s.HPACKErrors }},
		{inputCase{
			name: "HPACK table size update over ours",
			send: func(cl *client) {
				cl.enc.SetMaxDynamicTableSizeLimit(8192)
				cl.enc.SetMaxDynamicTableSize(8192)
				cl.headers(1, true, get("/")...)
			},
			frames: []string{"GOAWAY 0 COMPRESSION_ERROR"},
			events: []string{"closed COMPRESSION_ERROR"},
		}, func(s Stats) uint64 { return s.HPACKErrors }},
		{inputCase{
			name: "SETTINGS flood", cfg: Config{SettingsRate: 2, SettingsBurst: 2},
			send: func(cl *client) {
				for range 3 {
					cl.fr.WriteSettings()
				}
			},
			frames: []string{"SETTINGS ACK", "GOAWAY 0 ENHANCE_YOUR_CALM"},
			events: []string{"closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.SettingsFloods }},
		{inputCase{
			name: "PING flood", cfg: Config{PingRate: 2, PingBurst: 2},
			send: func(cl *client) {
				for range 3 {
					cl.fr.WritePing(false, [8]byte{})
				}
			},
			frames: append(pingAcks(2), "GOAWAY 0 ENHANCE_YOUR_CALM"),
			events: []string{"closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.PingFloods }},
		{inputCase{
			name: "empty DATA flood", cfg: Config{EmptyFrameRate: 3, EmptyFrameBurst: 3},
			send: func(cl *client) {
				cl.headers(1, false, post("/")...)
				for range 4 {
					cl.fr.WriteData(1, false, nil)
				}
			},
			frames: []string{"GOAWAY 1 ENHANCE_YOUR_CALM"},
			events: []string{"headers 1 end=false", "data 1 0 end=false", "data 1 0 end=false", "data 1 0 end=false", "closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.EmptyFrameFloods }},
		{inputCase{
			name: "PRIORITY and unknown frame flood", cfg: Config{EmptyFrameRate: 3, EmptyFrameBurst: 3},
			send: func(cl *client) {
				cl.fr.WritePriority(1, http2.PriorityParam{StreamDep: 3})
				cl.fr.WriteRawFrame(0xee, 0, 0, nil)
				cl.fr.WritePriority(1, http2.PriorityParam{StreamDep: 3})
				cl.fr.WriteRawFrame(0xee, 0, 0, nil)
			},
			frames: []string{"GOAWAY 0 ENHANCE_YOUR_CALM"},
			events: []string{"closed ENHANCE_YOUR_CALM"},
		}, func(s Stats) uint64 { return s.EmptyFrameFloods }},
		{inputCase{
			name: "no limit when negative", cfg: Config{PingRate: -1},
			send: func(cl *client) {
				for range 200 {
					cl.fr.WritePing(false, [8]byte{})
				}
			},
			frames: pingAcks(200),
		}, func(s Stats) uint64 { return 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := tc.check
			tc.check = func(t *testing.T, c *Conn, r *recorder) {
				if n := tc.counter(c.Stats()); n != 1 {
					t.Errorf("counter = %d, want 1", n)
				}
				if check != nil {
					check(t, c, r)
				}
			}
			runInput(t, tc.inputCase)
		})
	}
}

func TestBucketRefill(t *testing.T) {
	b := newBucket(10, 2)
	now := time.Unix(0, 0)
	for i := range 2 {
		if !b.take(now) {
			t.Fatalf("take %d failed within the burst", i)
		}
	}
	if b.take(now) {
		t.Fatal("take beyond the burst succeeded")
	}
	if !b.take(now.Add(100 * time.Millisecond)) {
		t.Fatal("no token after 100 ms at 10/s")
	}
	if b.take(now.Add(150 * time.Millisecond)) {
		t.Fatal("a token after 50 more ms at 10/s")
	}
	if !b.take(now.Add(time.Hour)) || !b.take(now.Add(time.Hour)) || b.take(now.Add(time.Hour)) {
		t.Fatal("refill not capped at the burst")
	}
}

// TestPingAfterData: a PING following our HEADERS or DATA is not counted
// (gRPC's BDP pings).
func TestPingAfterData(t *testing.T) {
	c, r := newConn(Config{PingRate: 1, PingBurst: 1, Now: newClock().now})
	r.onHeaders = func(id uint32, end bool) { c.WriteHeaders(id, status("200"), true) }
	cl := newClient().start()
	for id := uint32(1); id <= 9; id += 2 {
		cl.headers(id, true, get("/")...)
		cl.fr.WritePing(false, [8]byte{})
	}
	if err := c.Input(cl.buf.Bytes()); err != nil {
		t.Fatalf("Input: %v", err)
	}
	if c.Stats().PingFloods != 0 {
		t.Fatal("PINGs after responses counted as a flood")
	}
}

// pingAcks is n PING ACK lines for zero PINGs.
func pingAcks(n int) []string {
	acks := make([]string, n)
	for i := range acks {
		acks[i] = "PING ack=true \x00\x00\x00\x00\x00\x00\x00\x00"
	}
	return acks
}
