package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/uringnet/uringnet/cgi"
	"github.com/uringnet/uringnet/fastcgi"
	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/rooms"
	"github.com/uringnet/uringnet/stdhttp"
	"github.com/uringnet/uringnet/upgrade"
)

// startDemo runs the demo with o (addr defaults to 127.0.0.1:0) and returns
// its address and the output it writes to stdout; the server is stopped at
// the end of the test, and must stop cleanly.
func startDemo(t testing.TB, o options) (addr string, out *syncBuf) {
	t.Helper()
	addr, out, stop := startStoppableDemo(t, o)
	t.Cleanup(func() {
		nethttp.DefaultClient.CloseIdleConnections()
		stop()
	})
	return addr, out
}

// startStoppableDemo is startDemo for a test that stops the demo itself:
// stop (a SIGTERM; the demo shuts down gracefully) returns once the demo
// has stopped, and does nothing the second time.
func startStoppableDemo(t testing.TB, o options) (addr string, out *syncBuf, stop func()) {
	t.Helper()
	if o.addr == "" {
		o.addr = "127.0.0.1:0"
	}
	if o.loops == 0 {
		o.loops = 1
	}
	if o.logFormat == "" {
		o.logFormat = "text"
	}
	out = &syncBuf{}
	sig := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- run(o, out, sig) }()
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			addr = strings.TrimPrefix(line, "listening on ")
		}
		select {
		case err := <-done:
			t.Fatalf("demo stopped at start: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if addr == "" {
		t.Fatal("no listening line")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			sig <- syscall.SIGTERM
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("demo: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("demo did not stop")
			}
		})
	}
	return addr, out, stop
}

// get fetches url and returns the response (body read) or fails the test.
func get(t testing.TB, url string) (*nethttp.Response, string) {
	t.Helper()
	resp, err := nethttp.Get(url)
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

var (
	metricName = regexp.MustCompile(`^uringnet_[a-z][a-z0-9_]*$`) // digits for http2
	labelsText = regexp.MustCompile(`^\{[a-z_]+="(?:[^"\\\n]|\\[\\"n])*"\}$`)
	helpLine   = regexp.MustCompile(`^# HELP (\S+) (.+)$`)
	typeLine   = regexp.MustCompile(`^# TYPE (\S+) (counter|gauge)$`)
)

// parseExposition checks text against the Prometheus text format as
// promhttp writes the demo's metrics (HELP, TYPE, then one sample per
// metric) and returns the
// samples, keyed by series: the name, and its labels as written if it has
// any (uringnet_backend_info{backend="epoll"}).
func parseExposition(t *testing.T, text string) map[string]uint64 {
	t.Helper()
	samples := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	var help, typ, kind string
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "):
			m := helpLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("line %d: bad HELP %q", n, line)
			}
			help = m[1]
		case strings.HasPrefix(line, "# TYPE "):
			m := typeLine.FindStringSubmatch(line)
			if m == nil || m[1] != help {
				t.Fatalf("line %d: bad TYPE %q (after HELP of %q)", n, line, help)
			}
			typ, kind = m[1], m[2]
		default:
			series, val, ok := strings.Cut(line, " ")
			name, labels, labeled := strings.Cut(series, "{")
			if labeled && !labelsText.MatchString("{"+labels) {
				t.Errorf("line %d: labels %q", n, "{"+labels)
			}
			if labeled && !strings.HasSuffix(name, "_info") {
				t.Errorf("line %d: %q: only info metrics have labels", n, series)
			}
			if !ok || name != typ || name != help {
				t.Fatalf("line %d: sample %q without its HELP and TYPE", n, line)
			}
			if !metricName.MatchString(name) {
				t.Errorf("line %d: name %q: want uringnet_ and lower case", n, name)
			}
			if (kind == "counter") != strings.HasSuffix(name, "_total") {
				t.Errorf("line %d: %s %q: counters and only counters end in _total", n, kind, name)
			}
			// Values are floats in the format (1.073741824e+09); the
			// demo's are whole numbers.
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || f < 0 || f != math.Trunc(f) {
				t.Fatalf("line %d: value %q: want a whole number (%v)", n, val, err)
			}
			v := uint64(f)
			if _, dup := samples[series]; dup {
				t.Fatalf("line %d: %s twice", n, series)
			}
			samples[series] = v
			help, typ = "", ""
		}
	}
	if !strings.HasSuffix(text, "\n") {
		t.Error("exposition does not end in a newline")
	}
	return samples
}

// backendFromEnv is the backend the demo must run on as URINGNET_BACKEND
// asks, or "" for either (auto).
func backendFromEnv() string {
	switch os.Getenv(netserver.EnvBackend) {
	case "uring":
		return "io_uring"
	case "epoll":
		return "epoll"
	}
	return ""
}

// checkBackend checks that a backend the demo reports is one there is, and
// the one URINGNET_BACKEND asks for if it names one.
func checkBackend(t *testing.T, where, got string) {
	t.Helper()
	if want := backendFromEnv(); got != "io_uring" && got != "epoll" || want != "" && got != want {
		t.Errorf("%s says backend %q; want io_uring or epoll (%s=%q)", where, got, netserver.EnvBackend, os.Getenv(netserver.EnvBackend))
	}
}

func TestMetricsScrape(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) { testMetricsScrape(t, mode.stdlib) })
	}
}

func testMetricsScrape(t *testing.T, stdlib bool) {
	addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: stdlib})
	resp, body := get(t, "http://"+addr+"/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), metricsContentType) {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	first := parseExposition(t, body)
	var backend string
	for series, v := range first {
		if b, ok := strings.CutPrefix(series, `uringnet_backend_info{backend="`); ok {
			if backend != "" || v != 1 {
				t.Errorf("%s %d: want one backend, of value 1", series, v)
			}
			backend = strings.TrimSuffix(b, `"}`)
		}
	}
	checkBackend(t, "uringnet_backend_info", backend)
	var st struct {
		Backend string `json:"backend"`
	}
	if _, body := get(t, "http://"+addr+"/stats.json"); json.Unmarshal([]byte(body), &st) != nil || st.Backend != backend {
		t.Errorf("/stats.json says backend %q, /metrics %q", st.Backend, backend)
	}
	for _, name := range []string{"uringnet_loops", "uringnet_connections_open", "uringnet_connections_accepted_total",
		"uringnet_tasks_in_flight", "uringnet_sqes_submitted_total", "uringnet_enters_total",
		"uringnet_received_bytes_total", "uringnet_sent_bytes_total", "uringnet_http_requests_total"} {
		if _, ok := first[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if _, ok := first["uringnet_websocket_clients"]; !ok {
		t.Error("uringnet_websocket_clients missing (the demo has a WebSocket server)")
	}
	for _, name := range []string{"uringnet_rooms", "uringnet_rooms_members", "uringnet_rooms_broadcasts_total",
		"uringnet_chat_members", "uringnet_chat_presence"} {
		if _, ok := first[name]; !ok {
			t.Errorf("%s missing (the chat room is a rooms.Hub)", name)
		}
	}
	for series := range first {
		if strings.HasPrefix(series, "uringnet_bus_") || series == "uringnet_rooms_published_total" {
			t.Errorf("%s reported without -nats", series)
		}
	}
	if first["uringnet_loops"] != 1 || first["uringnet_connections_open"] < 1 || first["uringnet_http_requests_total"] < 1 {
		t.Errorf("first scrape: %v", first)
	}
	for range 3 {
		get(t, "http://"+addr+"/plaintext")
	}
	_, body = get(t, "http://"+addr+"/metrics")
	second := parseExposition(t, body)
	if d := second["uringnet_http_requests_total"] - first["uringnet_http_requests_total"]; d != 5 {
		t.Errorf("requests went up by %d, want 5", d)
	}
	for _, name := range []string{"uringnet_received_bytes_total", "uringnet_sent_bytes_total", "uringnet_sqes_submitted_total"} {
		if second[name] <= first[name] {
			t.Errorf("%s did not grow: %d then %d", name, first[name], second[name])
		}
	}
}

func TestStatsJSON(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) { testStatsJSON(t, mode.stdlib) })
	}
}

func testStatsJSON(t *testing.T, stdlib bool) {
	addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: stdlib})
	resp, body := get(t, "http://"+addr+"/stats.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, k := range []string{"t", "loops", "connections", "requests", "tasks_in_flight", "sqes", "enters", "bytes_in", "bytes_out"} {
		if _, ok := s[k].(float64); !ok {
			t.Errorf("%s: %v, want a number", k, s[k])
		}
	}
	backend, _ := s["backend"].(string)
	checkBackend(t, "/stats.json", backend)
	if ws, ok := s["websocket"].(map[string]any); !ok || ws["clients"] != float64(0) {
		t.Errorf("websocket = %v, want the WebSocket counters (no clients)", s["websocket"])
	}
	if r, ok := s["rooms"].(map[string]any); !ok || r["chat_members"] != float64(0) || r["chat_presence"] != float64(0) || r["published"] != nil {
		t.Errorf("rooms = %v, want the local chat room's counters (no members, no bus counters)", s["rooms"])
	}
	if h, ok := s["http2"].(map[string]any); !ok || h["conns"] != float64(0) || h["streams_open"] != float64(0) || h["rapid_resets"] != float64(0) {
		t.Errorf("http2 = %v, want the HTTP/2 counters (nothing over HTTP/2 yet)", s["http2"])
	}
	if b, ok := s["bus"]; !ok || b != nil {
		t.Errorf("bus = %v, want null without -nats", s["bus"])
	}
	// The demo runs in the test's process.
	if pid, ok := s["pid"].(float64); !ok || int(pid) != os.Getpid() {
		t.Errorf("pid = %v, want the server's process id %d", s["pid"], os.Getpid())
	}
	if ms := s["t"].(float64); time.Since(time.UnixMilli(int64(ms))) > time.Minute {
		t.Errorf("t = %v is not now", ms)
	}
}

// metricsContentType is how the Prometheus text format, version 0.0.4,
// is announced (promhttp may add an escaping parameter).
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// scrape serves src's metrics as /metrics does, through a pedantic
// registry (which checks that what the collector reports matches what it
// describes), and returns the text exposition.
func scrape(t *testing.T, src *counterSources) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(newStatsCollector(src)); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gathering: %v", err)
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), metricsContentType) {
		t.Fatalf("promhttp: %d %v", rec.Code, rec.Header())
	}
	return rec.Body.String()
}

func TestStatsCollector(t *testing.T) {
	src := &counterSources{
		loops: 2,
		net: func() netserver.Stats {
			return netserver.Stats{Backend: "epoll", ConnsOpen: 3, BytesIn: 10, BytesOut: 20,
				TLSHandshakes: 13, TLSResumed: 14, TLSHandshakeErrors: 15, TLSHandshakeTimeouts: 16, TLSKernelTX: 17, TLSHandshaking: 18,
				TLSRecordErrors: 19, TLSUnsupported: 20, TLSKernelTXFailed: 21}
		},
		tls:      true,
		requests: func() uint64 { return 7 },
		http: func() http.Counters {
			return http.Counters{Requests: 7, Rejected: 1, BodyTimeouts: 2, DrainClosed: 46, HTTP2: http.H2Counters{
				Conns: 60, ConnsOpen: 61, ALPN: 62, PriorKnowledge: 63, Upgrades: 64, Streams: 65, StreamsOpen: 66, NoSlot: 67,
				GoAwaySent: 68, ResetsSent: 69, ResetsReceived: 70, ProtocolErrors: 71, FlowControlErrors: 72, RapidResets: 73,
				ContinuationFloods: 74, HeaderListTooLarge: 75, HPACKErrors: 76, SettingsFloods: 77, PingFloods: 78,
				EmptyFrameFloods: 79, StallResets: 80, RefusedStreams: 81}}
		},
		http2: true,
		upgrade: func() upgradeSample {
			return upgradeSample{Draining: true, Stats: upgrade.Stats{Attempts: 42, Succeeded: 43, Failed: 44, Ignored: 45, Inherited: "systemd"}}
		},
		ws: func() wsStats { return wsStats{Clients: 2, Upgrades: 5, MessagesIn: 9, MessagesOut: 11} },
		adapter: func() stdhttp.Counters {
			return stdhttp.Counters{Requests: 12, Running: 3, Waiting: 4, Waited: 5, Panics: 6, Aborts: 7, Hijacked: 8}
		},
		bounds:  bounds{MaxQueued: 256 << 10, MaxMemory: 1 << 30, MaxBuffered: 1 << 20},
		access:  newAccessLog(io.Discard, false, slog.New(slog.DiscardHandler)),
		fastcgi: func() fastcgi.Stats { return fastcgi.Stats{Requests: 47, Conns: 2, BadGateway: 48} },
		rooms: func() roomsSample {
			return roomsSample{Bus: true, Instance: 0xabc, ChatMembers: 22, ChatPresence: 23, Stats: rooms.Stats{
				Rooms: 24, Members: 25, Sent: 26, Published: 27, Dropped: 28, Queued: 29, QueuedBytes: 30,
				Holding: true, Received: 31, Lost: 32, Duplicates: 33, Echoes: 34, Malformed: 35, Undelivered: 36, Heartbeats: 37,
				SubscribeErrors: 38, Bus: rooms.BusStatus{State: "reconnecting", Disconnects: 39, Reconnects: 40, SlowConsumer: 41,
					LastError: "nats: connection refused"}}}
		},
		cgi: func() cgi.Stats { return cgi.Stats{Started: 47, Running: 3} },
	}
	defer src.access.close()
	got := parseExposition(t, scrape(t, src))
	for name, want := range map[string]uint64{
		"uringnet_loops": 2, "uringnet_connections_open": 3, "uringnet_received_bytes_total": 10,
		"uringnet_sent_bytes_total": 20, "uringnet_http_requests_total": 7,
		"uringnet_websocket_clients": 2, "uringnet_websocket_upgrades_total": 5,
		"uringnet_websocket_messages_received_total": 9, "uringnet_websocket_messages_sent_total": 11,
		"uringnet_http_rejected_total": 1, "uringnet_http_body_timeouts_total": 2,
		"uringnet_output_backlog_limit_bytes": 256 << 10, "uringnet_memory_budget_bytes": 1 << 30,
		"uringnet_input_buffer_limit_bytes": 1 << 20, "uringnet_access_log_dropped_total": 0,
		`uringnet_backend_info{backend="epoll"}`: 1,
		"uringnet_stdhttp_requests_total":        12, "uringnet_stdhttp_handlers_running": 3,
		"uringnet_stdhttp_requests_waiting": 4, "uringnet_stdhttp_requests_waited_total": 5,
		"uringnet_stdhttp_panics_total": 6, "uringnet_stdhttp_aborts_total": 7, "uringnet_stdhttp_hijacked_total": 8,
		"uringnet_tls_handshakes_total": 13, "uringnet_tls_resumed_total": 14, "uringnet_tls_handshake_errors_total": 15,
		"uringnet_tls_handshake_timeouts_total": 16, "uringnet_tls_kernel_tx_total": 17, "uringnet_tls_handshakes_in_progress": 18,
		"uringnet_tls_record_errors_total": 19, "uringnet_tls_unsupported_total": 20, "uringnet_tls_kernel_tx_failed_total": 21,
		"uringnet_chat_members": 22, "uringnet_chat_presence": 23, "uringnet_rooms": 24, "uringnet_rooms_members": 25,
		"uringnet_rooms_broadcasts_total": 26, "uringnet_rooms_published_total": 27, "uringnet_rooms_dropped_total": 28,
		"uringnet_rooms_queued": 29, "uringnet_rooms_queued_bytes": 30, "uringnet_rooms_holding": 1,
		"uringnet_rooms_received_total": 31,
		"uringnet_rooms_lost_total":     32, "uringnet_rooms_duplicates_total": 33, "uringnet_rooms_echoes_total": 34,
		"uringnet_rooms_malformed_total": 35, "uringnet_rooms_undelivered_total": 36, "uringnet_rooms_heartbeats_total": 37,
		"uringnet_rooms_subscribe_errors_total": 38, "uringnet_bus_disconnects_total": 39, "uringnet_bus_reconnects_total": 40,
		"uringnet_bus_slow_consumer_total": 41, "uringnet_bus_connected": 0, `uringnet_bus_info{state="reconnecting"}`: 1,
		"uringnet_draining": 1, "uringnet_upgrades_started_total": 42, "uringnet_upgrades_succeeded_total": 43,
		"uringnet_upgrades_failed_total": 44, "uringnet_upgrades_ignored_total": 45, "uringnet_http_drain_closed_total": 46,
		"uringnet_fastcgi_requests_total": 47, "uringnet_fastcgi_connections": 2, "uringnet_fastcgi_bad_gateway_total": 48,
		"uringnet_cgi_started_total": 47, "uringnet_cgi_running": 3,
		"uringnet_http2_connections_total": 60, "uringnet_http2_conns_open": 61, "uringnet_http2_alpn_total": 62,
		"uringnet_http2_prior_knowledge_total": 63, "uringnet_http2_upgrades_total": 64, "uringnet_http2_streams_total": 65,
		"uringnet_http2_streams_open": 66, "uringnet_http2_no_slot_total": 67, "uringnet_http2_goaways_sent_total": 68,
		"uringnet_http2_resets_sent_total": 69, "uringnet_http2_resets_received_total": 70,
		"uringnet_http2_protocol_errors_total": 71, "uringnet_http2_flow_control_errors_total": 72,
		"uringnet_http2_rapid_resets_total": 73, "uringnet_http2_continuation_floods_total": 74,
		"uringnet_http2_header_list_too_large_total": 75, "uringnet_http2_hpack_errors_total": 76,
		"uringnet_http2_settings_floods_total": 77, "uringnet_http2_ping_floods_total": 78,
		"uringnet_http2_empty_frame_floods_total": 79, "uringnet_http2_stall_resets_total": 80,
		"uringnet_http2_refused_streams_total": 81,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %d (present %v), want %d", name, v, ok, want)
		}
	}
	if len(got) != len(infoMetrics)+len(metrics) {
		t.Errorf("%d samples, want all %d", len(got), len(infoMetrics)+len(metrics))
	}
	s := src.take(time.Unix(1, 0))
	var js statsJSON
	if err := json.Unmarshal(appendStatsJSON(nil, &s), &js); err != nil {
		t.Fatal(err)
	}
	if u := js.Upgrade; u == nil || !u.Draining || u.Inherited != "systemd" || u.Started != 42 || u.Succeeded != 43 || u.Failed != 44 || u.Ignored != 45 {
		t.Errorf("stats JSON upgrade %+v", js.Upgrade)
	}
	if js.TimeMs != 1000 || js.PID != os.Getpid() || js.Backend != "epoll" || js.Connections != 3 || js.Requests != 7 || js.WebSocket == nil || js.WebSocket.Clients != 2 {
		t.Errorf("stats JSON %+v", js)
	}
	if want := (tlsJSON{Handshakes: 13, Resumed: 14, Errors: 15, Timeouts: 16, KernelTX: 17, Handshaking: 18,
		RecordErrors: 19, Unsupported: 20, KernelTXFailed: 21}); js.TLS == nil || *js.TLS != want {
		t.Errorf("stats JSON: tls %+v, want %+v", js.TLS, want)
	}
	if want := (h2JSON{Conns: 60, ConnsOpen: 61, ALPN: 62, PriorKnowledge: 63, Upgrades: 64, Streams: 65, StreamsOpen: 66,
		NoSlot: 67, GoAwaySent: 68, ResetsSent: 69, ResetsReceived: 70, ProtocolErrors: 71, FlowControlErrors: 72,
		RapidResets: 73, ContinuationFloods: 74, HeaderListTooLarge: 75, HPACKErrors: 76, SettingsFloods: 77,
		PingFloods: 78, EmptyFrameFloods: 79, StallResets: 80, RefusedStreams: 81}); js.HTTP2 == nil || *js.HTTP2 != want {
		t.Errorf("stats JSON: http2 %+v, want %+v", js.HTTP2, want)
	}
	if want := (busJSON{State: "reconnecting", Disconnects: 39, Reconnects: 40, SlowConsumer: 41, LastError: "nats: connection refused"}); js.Bus == nil || *js.Bus != want {
		t.Errorf("stats JSON: bus %+v, want %+v", js.Bus, want)
	}
	if r := js.Rooms; r == nil || r.BusTraffic == nil || r.ChatPresence != 23 || r.Broadcasts != 26 || r.Lost != 32 ||
		r.Dropped != 28 || r.Instance != "0000000000000abc" {
		t.Errorf("stats JSON: rooms %+v", r)
	}
}

// Metrics whose source is missing are left out, and described anyway.
func TestStatsCollectorPartial(t *testing.T) {
	src := &counterSources{
		loops:    1,
		net:      func() netserver.Stats { return netserver.Stats{TLSHandshakes: 1} },
		requests: func() uint64 { return 0 },
	}
	got := parseExposition(t, scrape(t, src))
	for series := range got {
		if strings.HasPrefix(series, "uringnet_websocket_") || strings.HasPrefix(series, "uringnet_tls_") || strings.HasPrefix(series, "uringnet_backend_info") ||
			strings.HasPrefix(series, "uringnet_stdhttp_") || series == "uringnet_http_rejected_total" || series == "uringnet_access_log_dropped_total" ||
			strings.HasPrefix(series, "uringnet_rooms") || strings.HasPrefix(series, "uringnet_chat_") || strings.HasPrefix(series, "uringnet_bus_") ||
			strings.HasPrefix(series, "uringnet_http2_") {
			t.Errorf("%s reported without its source", series)
		}
	}
	if _, ok := got["uringnet_http_requests_total"]; !ok {
		t.Error("uringnet_http_requests_total missing")
	}
	s := src.take(time.Unix(1, 0))
	if b := appendStatsJSON(nil, &s); !strings.Contains(string(b), `"tls":null`) || !strings.Contains(string(b), `"rooms":null,"bus":null`) ||
		!strings.Contains(string(b), `"http2":null`) {
		t.Errorf("stats JSON without TLS, HTTP/2 and rooms: %s, want tls, http2, rooms and bus null", b)
	}
}

// An info metric is left out while its value is unknown; a label value is
// escaped as the text format wants.
func TestStatsCollectorBackendInfo(t *testing.T) {
	for _, tc := range []struct {
		backend string
		want    string // the sample line; "" for none
	}{
		{"", ""},
		{"io_uring", `uringnet_backend_info{backend="io_uring"} 1`},
		{"epoll", `uringnet_backend_info{backend="epoll"} 1`},
		{"a\\b\"c\nd", `uringnet_backend_info{backend="a\\b\"c\nd"} 1`},
	} {
		src := &counterSources{
			loops:    1,
			net:      func() netserver.Stats { return netserver.Stats{Backend: tc.backend} },
			requests: func() uint64 { return 0 },
		}
		text := scrape(t, src)
		samples := parseExposition(t, text)
		var lines []string
		for line := range strings.Lines(text) {
			if strings.HasPrefix(line, "uringnet_backend_info") {
				lines = append(lines, strings.TrimSuffix(line, "\n"))
			}
		}
		switch {
		case tc.want == "" && len(lines) != 0:
			t.Errorf("backend %q: %q, want no backend sample", tc.backend, lines)
		case tc.want != "" && (len(lines) != 1 || lines[0] != tc.want):
			t.Errorf("backend %q: %q, want %q", tc.backend, lines, tc.want)
		}
		if tc.want != "" && samples[strings.TrimSuffix(tc.want, " 1")] != 1 {
			t.Errorf("backend %q: samples %v, want %s", tc.backend, samples, tc.want)
		}
	}
}

// The demo registers nothing in Prometheus's global registry: its metrics
// live in a registry of the server's own, so two servers in one process
// do not collide.
func TestMetricsRegistryNotGlobal(t *testing.T) {
	addr, _ := startDemo(t, options{bigFile: 1 << 10})
	addr2, _ := startDemo(t, options{bigFile: 1 << 10})
	for _, a := range []string{addr, addr2} {
		if resp, body := get(t, "http://"+a+"/metrics"); resp.StatusCode != 200 || !strings.Contains(body, "uringnet_loops 1") {
			t.Errorf("%s/metrics: %d %q", a, resp.StatusCode, body)
		}
	}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "uringnet_") {
			t.Errorf("%s is in the global registry", mf.GetName())
		}
	}
}
