package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	nethttp "net/http"
	"os"
	"sync/atomic"
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

// wsStats are the WebSocket counters the metrics and the live page show.
type wsStats struct {
	Clients    uint64 `json:"clients"`     // WebSocket connections open now
	Upgrades   uint64 `json:"upgrades"`    // handshakes completed
	MessagesIn uint64 `json:"messages_in"` // messages received
	// MessagesOut counts the messages sent by this instance's echo and
	// chat (a broadcast counts once per client); the chat messages of
	// other instances (-nats) are the rooms' "received".
	MessagesOut uint64 `json:"messages_out"`
	// Connections closed with 1008 by the send queue policy and the
	// message timeout (websocket.Config).
	QueueOverflows    uint64 `json:"queue_overflows"`    // reached the hard send queue limit
	SlowConsumers     uint64 `json:"slow_consumers"`     // stalled over the soft send queue limit
	MessageTimeouts   uint64 `json:"message_timeouts"`   // took longer than the message timeout to send a message
	BroadcastsDropped uint64 `json:"broadcasts_dropped"` // broadcast shares a loop too far behind did not get
}

// snapshot is everything the demo counts, taken at one moment.
type snapshot struct {
	Time time.Time
	CGI  *cgi.Stats // nil without -cgi-dir
	// PID is the server's process id: the live page tells an upgraded
	// server (a new process on the same address) by it.
	PID      int
	Loops    int
	Net      netserver.Stats
	Requests uint64 // HTTP request heads parsed
	HTTP     *http.Counters
	WS       *wsStats // nil while the demo has no WebSocket server
	// Rooms is the chat's Hub (nil without one): its rooms, and with a
	// bus (-nats) the bus's state and traffic.
	Rooms *roomsSample
	// Adapter is what the stdhttp adapter counted (nil without one): all
	// requests in -stdlib mode, those of /metrics in native mode.
	Adapter *stdhttp.Counters
	Bounds  bounds
	// AccessLog tells whether the access log is on; AccessDropped is how
	// many of its lines were dropped.
	AccessLog     bool
	AccessDropped uint64
	// TLS tells whether the listener speaks TLS: the TLS counters of Net
	// are shown only then.
	TLS bool
	// HTTP2 tells whether HTTP/2 is on: the HTTP/2 counters of HTTP are
	// shown only then.
	HTTP2 bool
	// Upgrade is this process's upgrades and drain (nil without an
	// upgrader).
	Upgrade *upgradeSample
	// FastCGI is the FastCGI client's counters (nil without -fastcgi).
	FastCGI *fastcgi.Stats
}

// upgradeSample is what the demo shows of its upgrades: the Upgrader's
// counters and whether the HTTP server drains.
type upgradeSample struct {
	upgrade.Stats
	Draining bool
}

// bounds are the memory limits in effect (as configured; 0 means none).
type bounds struct {
	MaxQueued   int
	MaxMemory   int64
	MaxBuffered int
}

// counterSources is where snapshots come from. ws is the hook for the
// WebSocket server's counters: nil leaves the WebSocket metrics out.
type counterSources struct {
	loops    int
	net      func() netserver.Stats
	requests func() uint64
	http     func() http.Counters // nil leaves the HTTP counters out
	ws       func() wsStats
	rooms    func() roomsSample      // nil leaves the rooms' metrics out
	adapter  func() stdhttp.Counters // nil leaves the adapter's counters out
	bounds   bounds
	access   *accessLog           // nil when the access log is off
	tls      bool                 // the listener speaks TLS: the TLS counters are shown
	http2    bool                 // HTTP/2 is on: the HTTP/2 counters are shown
	upgrade  func() upgradeSample // nil leaves the upgrade metrics out
	fastcgi  func() fastcgi.Stats // nil leaves the FastCGI metrics out
	cgi      func() cgi.Stats     // nil leaves the CGI counters out (no -cgi-dir)
}

// processID is the process id the stats report, read once. It is atomic
// for the tests, which make a demo stand for another process with it.
var processID atomic.Int64

func init() { processID.Store(int64(os.Getpid())) }

// take reads every counter now.
func (src *counterSources) take(now time.Time) snapshot {
	s := snapshot{Time: now, PID: int(processID.Load()), Loops: src.loops, Net: src.net(), Requests: src.requests(), Bounds: src.bounds, TLS: src.tls, HTTP2: src.http2}
	if src.http != nil {
		c := src.http()
		s.HTTP = &c
	}
	if src.access != nil {
		s.AccessLog, s.AccessDropped = true, src.access.dropped.Load()
	}
	if src.ws != nil {
		w := src.ws()
		s.WS = &w
	}
	if src.adapter != nil {
		a := src.adapter()
		s.Adapter = &a
	}
	if src.rooms != nil {
		r := src.rooms()
		s.Rooms = &r
	}
	if src.upgrade != nil {
		u := src.upgrade()
		s.Upgrade = &u
	}
	if src.fastcgi != nil {
		f := src.fastcgi()
		s.FastCGI = &f
	}
	if src.cgi != nil {
		c := src.cgi()
		s.CGI = &c
	}
	return s
}

// metric is one of the demo's Prometheus metrics: a name, its help and
// type, and how to read its value from a snapshot (ok=false leaves it out).
type metric struct {
	name, help string
	typ        prometheus.ValueType
	value      func(s *snapshot) (v uint64, ok bool)
}

// Shorthands for the tables below.
const (
	counter = prometheus.CounterValue
	gauge   = prometheus.GaugeValue
)

// netValue reads a netserver counter, which is always there.
func netValue(f func(st *netserver.Stats) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) { return f(&s.Net), true }
}

// tlsValue reads a netserver TLS counter, there when the listener speaks
// TLS.
func tlsValue(f func(st *netserver.Stats) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) { return f(&s.Net), s.TLS }
}

// httpValue reads an HTTP server counter, there when the HTTP counters are.
func httpValue(f func(c *http.Counters) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.HTTP == nil {
			return 0, false
		}
		return f(s.HTTP), true
	}
}

// h2Value reads an HTTP/2 counter, there when the HTTP counters are and
// HTTP/2 is on.
func h2Value(f func(c *http.H2Counters) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.HTTP == nil || !s.HTTP2 {
			return 0, false
		}
		return f(&s.HTTP.HTTP2), true
	}
}

// wsValue reads a WebSocket counter, there with a WebSocket server.
func wsValue(f func(w *wsStats) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.WS == nil {
			return 0, false
		}
		return f(s.WS), true
	}
}

// adapterValue reads a counter of the stdhttp adapter, there with one.
func adapterValue(f func(c *stdhttp.Counters) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.Adapter == nil {
			return 0, false
		}
		return f(s.Adapter), true
	}
}

// roomsValue reads a counter of the rooms' Hub, there with one.
func roomsValue(f func(r *roomsSample) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.Rooms == nil {
			return 0, false
		}
		return f(s.Rooms), true
	}
}

// busValue reads a counter of the Hub's traffic on the bus, or of the bus
// itself, there with a bus (-nats).
func busValue(f func(st *rooms.Stats) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.Rooms == nil || !s.Rooms.Bus {
			return 0, false
		}
		return f(&s.Rooms.Stats), true
	}
}

// upgradeValue reads an upgrade counter, there with an upgrader.
func upgradeValue(f func(u *upgradeSample) uint64) func(*snapshot) (uint64, bool) {
	return func(s *snapshot) (uint64, bool) {
		if s.Upgrade == nil {
			return 0, false
		}
		return f(s.Upgrade), true
	}
}

// infoMetric is an info metric: a gauge of value 1 whose one label carries
// a fact (the Prometheus convention for non-numeric data, e.g.
// uringnet_backend_info{backend="epoll"} 1).
type infoMetric struct {
	name, help, label string
	value             func(s *snapshot) string // "" leaves the metric out
}

// infoMetrics lists the info metrics /metrics exposes. The table is
// never modified.
var infoMetrics = []infoMetric{
	{"uringnet_backend_info", "The I/O backend the event loops run on: io_uring, or epoll where io_uring is refused.", "backend",
		func(s *snapshot) string { return s.Net.Backend }},
	{"uringnet_bus_info", "The bus's (NATS's) connection state: connected, connecting, reconnecting, draining or closed.", "state",
		func(s *snapshot) string {
			if s.Rooms == nil || !s.Rooms.Bus {
				return ""
			}
			return s.Rooms.Stats.Bus.State
		}},
}

// metrics lists the other metrics /metrics exposes. Names follow the
// Prometheus conventions: the uringnet_ prefix, base units, _total on
// counters. The table is never modified.
var metrics = append([]metric{
	{"uringnet_loops", "Event loops, each with its own io_uring (or epoll instance) and OS thread.", gauge,
		func(s *snapshot) (uint64, bool) { return uint64(s.Loops), true }},
	{"uringnet_connections_open", "Connections open now.", gauge,
		netValue(func(st *netserver.Stats) uint64 { return st.ConnsOpen })},
	{"uringnet_connections_accepted_total", "Connections accepted.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Accepted })},
	{"uringnet_clients_closed_total", "Clients closed (connections and adopted file descriptors).", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Closed })},
	{"uringnet_connections_rejected_total", "Connections closed at once because the connection limit was reached.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Rejected })},
	{"uringnet_accept_errors_total", "Failed accepts (EMFILE, ENFILE, ...).", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.AcceptErrors })},
	{"uringnet_accept_rearms_total", "Accepts re-armed on a listening socket shared with another process (an upgrade) whose backlog waited unaccepted.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.AcceptRearms })},
	{"uringnet_draining", "1 once this process drains (an upgrade's old process): it accepts nothing new and /readyz answers 503.", gauge,
		upgradeValue(func(u *upgradeSample) uint64 { return b2u(u.Draining) })},
	{"uringnet_upgrades_started_total", "Upgrades this process started (SIGHUP): successors started with its listening sockets.", counter,
		upgradeValue(func(u *upgradeSample) uint64 { return u.Attempts })},
	{"uringnet_upgrades_succeeded_total", "Upgrades whose successor became ready (this process then drains).", counter,
		upgradeValue(func(u *upgradeSample) uint64 { return u.Succeeded })},
	{"uringnet_upgrades_failed_total", "Upgrades whose successor failed, exited or was not ready in time (killed; this process serves on).", counter,
		upgradeValue(func(u *upgradeSample) uint64 { return u.Failed })},
	{"uringnet_upgrades_ignored_total", "SIGHUPs ignored because an upgrade was in progress.", counter,
		upgradeValue(func(u *upgradeSample) uint64 { return u.Ignored })},
	{"uringnet_http_drain_closed_total", "Idle keep-alive connections closed by a drain.", counter,
		httpValue(func(c *http.Counters) uint64 { return c.DrainClosed })},
	{"uringnet_tasks_in_flight", "Operations in flight on the loops.", gauge,
		netValue(func(st *netserver.Stats) uint64 { return st.TasksInFlight })},
	{"uringnet_sqes_submitted_total", "Operations submitted (io_uring submission queue entries, or their epoll equivalents).", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.SQEs })},
	{"uringnet_enters_total", "Waits for completions: io_uring_enter system calls (epoll_wait on the epoll backend).", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Enters })},
	{"uringnet_received_bytes_total", "Bytes read from clients.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.BytesIn })},
	{"uringnet_sent_bytes_total", "Bytes written to clients.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.BytesOut })},
	{"uringnet_stale_completions_total", "Completions whose task had already ended (a bug if not 0).", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Stale })},
	{"uringnet_panics_total", "Callbacks that panicked (each closed its client).", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Panics })},
	{"uringnet_buffer_ring_empty_total", "Receives that found the provided-buffer ring empty.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.NoBuffers })},
	{"uringnet_events_total", "Custom event (eventfd) triggers delivered.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Events })},
	{"uringnet_output_backlog_limit_bytes", "Per-client output backlog that stops reading the client (MaxQueued; 0: none).", gauge,
		func(s *snapshot) (uint64, bool) { return uint64(max(s.Bounds.MaxQueued, 0)), true }},
	{"uringnet_memory_budget_bytes", "Server-wide output backlog budget (MaxMemory; 0: none).", gauge,
		func(s *snapshot) (uint64, bool) { return uint64(max(s.Bounds.MaxMemory, 0)), true }},
	{"uringnet_input_buffer_limit_bytes", "Per-connection pipelined input buffer bound (MaxBuffered).", gauge,
		func(s *snapshot) (uint64, bool) { return uint64(max(s.Bounds.MaxBuffered, 0)), true }},
	{"uringnet_output_backlog_bytes", "Output backlog now, as charged against the limits.", gauge,
		netValue(func(st *netserver.Stats) uint64 { return st.QueuedBytes })},
	{"uringnet_held_input_bytes", "Input read but held while the client's reads wait.", gauge,
		netValue(func(st *netserver.Stats) uint64 { return st.HeldBytes })},
	{"uringnet_clients_congested", "Clients whose reads wait now because their backlog reached the limit.", gauge,
		netValue(func(st *netserver.Stats) uint64 { return st.Congested })},
	{"uringnet_congestions_total", "Times a client's backlog reached the limit.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.Congestions })},
	{"uringnet_loops_over_budget", "Loops over their share of the memory budget now (reading nothing).", gauge,
		netValue(func(st *netserver.Stats) uint64 { return st.OverBudget })},
	{"uringnet_budget_pauses_total", "Times a loop went over its share of the memory budget.", counter,
		netValue(func(st *netserver.Stats) uint64 { return st.BudgetPauses })},
	{"uringnet_tls_handshakes_total", "TLS handshakes completed (resumed sessions included).", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSHandshakes })},
	{"uringnet_tls_resumed_total", "TLS handshakes that resumed an earlier session (a session ticket).", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSResumed })},
	{"uringnet_tls_handshake_errors_total", "TLS handshakes that failed (the client was closed): garbage, no shared version or suite, a client that gave up, timeouts.", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSHandshakeErrors })},
	{"uringnet_tls_handshake_timeouts_total", "TLS handshakes that ran past the handshake timeout (counted among the errors too).", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSHandshakeTimeouts })},
	{"uringnet_tls_record_errors_total", "TLS connections closed on a record that did not open (bad MAC, cut mid-record, ...).", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSRecordErrors })},
	{"uringnet_tls_unsupported_total", "TLS connections closed on a post-handshake message the server does not answer (renegotiation, ...).", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSUnsupported })},
	{"uringnet_tls_kernel_tx_total", "TLS connections whose records the kernel seals (kTLS TX).", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSKernelTX })},
	{"uringnet_tls_kernel_tx_failed_total", "TLS connections whose keys the kernel refused after taking the tls ULP (sealed in Go instead).", counter,
		tlsValue(func(st *netserver.Stats) uint64 { return st.TLSKernelTXFailed })},
	{"uringnet_tls_handshakes_in_progress", "TLS handshakes not ended yet: running, or waiting for a handshake slot.", gauge,
		tlsValue(func(st *netserver.Stats) uint64 { return uint64(max(st.TLSHandshaking, 0)) })},
	{"uringnet_http_requests_total", "HTTP request heads parsed.", counter,
		func(s *snapshot) (uint64, bool) { return s.Requests, true }},
	{"uringnet_http_rejected_total", "HTTP requests the parser refused (400, 413, 414, 431, ...).", counter,
		httpValue(func(c *http.Counters) uint64 { return c.Rejected })},
	{"uringnet_http_header_timeouts_total", "Connections closed because a request head was too slow.", counter,
		httpValue(func(c *http.Counters) uint64 { return c.HeaderTimeouts })},
	{"uringnet_http_body_timeouts_total", "Requests whose body was too slow (408).", counter,
		httpValue(func(c *http.Counters) uint64 { return c.BodyTimeouts })},
	{"uringnet_http_idle_timeouts_total", "Keep-alive connections closed for idleness.", counter,
		httpValue(func(c *http.Counters) uint64 { return c.IdleTimeouts })},
	{"uringnet_http2_connections_total", "HTTP/2 connections begun (ALPN, prior knowledge and Upgrade: h2c).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.Conns })},
	{"uringnet_http2_conns_open", "HTTP/2 connections open now.", gauge,
		h2Value(func(c *http.H2Counters) uint64 { return uint64(max(c.ConnsOpen, 0)) })},
	{"uringnet_http2_alpn_total", "HTTP/2 connections begun over TLS by ALPN h2.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.ALPN })},
	{"uringnet_http2_prior_knowledge_total", "HTTP/2 connections begun in cleartext by the connection preface (h2c prior knowledge).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.PriorKnowledge })},
	{"uringnet_http2_upgrades_total", "HTTP/2 connections begun in cleartext by Upgrade: h2c.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.Upgrades })},
	{"uringnet_http2_streams_total", "HTTP/2 request streams served.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.Streams })},
	{"uringnet_http2_streams_open", "HTTP/2 streams open now.", gauge,
		h2Value(func(c *http.H2Counters) uint64 { return uint64(max(c.StreamsOpen, 0)) })},
	{"uringnet_http2_no_slot_total", "HTTP/2 streams refused for want of a client slot (RST_STREAM REFUSED_STREAM).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.NoSlot })},
	{"uringnet_http2_goaways_sent_total", "HTTP/2 GOAWAY frames sent (shutdown, drain, errors, defences).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.GoAwaySent })},
	{"uringnet_http2_resets_sent_total", "HTTP/2 RST_STREAM frames sent.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.ResetsSent })},
	{"uringnet_http2_resets_received_total", "HTTP/2 RST_STREAM frames received.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.ResetsReceived })},
	{"uringnet_http2_protocol_errors_total", "HTTP/2 protocol errors (PROTOCOL_ERROR) of peers.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.ProtocolErrors })},
	{"uringnet_http2_flow_control_errors_total", "HTTP/2 flow-control errors (FLOW_CONTROL_ERROR) of peers.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.FlowControlErrors })},
	{"uringnet_http2_rapid_resets_total", "HTTP/2 connections ended for resetting streams too fast (CVE-2023-44487).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.RapidResets })},
	{"uringnet_http2_continuation_floods_total", "HTTP/2 header blocks over the bound across CONTINUATION frames (CVE-2024-27316).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.ContinuationFloods })},
	{"uringnet_http2_header_list_too_large_total", "HTTP/2 requests whose decoded header list was over the bound (431).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.HeaderListTooLarge })},
	{"uringnet_http2_hpack_errors_total", "HTTP/2 header blocks HPACK could not decode (COMPRESSION_ERROR).", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.HPACKErrors })},
	{"uringnet_http2_settings_floods_total", "HTTP/2 connections ended for sending SETTINGS too fast.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.SettingsFloods })},
	{"uringnet_http2_ping_floods_total", "HTTP/2 connections ended for sending PING too fast.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.PingFloods })},
	{"uringnet_http2_empty_frame_floods_total", "HTTP/2 connections ended for sending empty frames too fast.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.EmptyFrameFloods })},
	{"uringnet_http2_stall_resets_total", "HTTP/2 streams reset because the peer kept their window shut too long.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.StallResets })},
	{"uringnet_http2_refused_streams_total", "HTTP/2 streams refused over the concurrent streams limit.", counter,
		h2Value(func(c *http.H2Counters) uint64 { return c.RefusedStreams })},
	{"uringnet_access_log_dropped_total", "Access log lines dropped because the writer was behind.", counter,
		func(s *snapshot) (uint64, bool) { return s.AccessDropped, s.AccessLog }},
	{"uringnet_websocket_clients", "WebSocket connections open now.", gauge,
		wsValue(func(w *wsStats) uint64 { return w.Clients })},
	{"uringnet_websocket_upgrades_total", "WebSocket handshakes completed.", counter,
		wsValue(func(w *wsStats) uint64 { return w.Upgrades })},
	{"uringnet_websocket_messages_received_total", "WebSocket messages received.", counter,
		wsValue(func(w *wsStats) uint64 { return w.MessagesIn })},
	{"uringnet_websocket_messages_sent_total", "WebSocket messages sent by this instance's echo and chat (a broadcast counts once per client; not the chat messages of other instances).", counter,
		wsValue(func(w *wsStats) uint64 { return w.MessagesOut })},
	{"uringnet_websocket_queue_overflows_total", "WebSocket connections closed (1008) for reaching the hard send queue limit.", counter,
		wsValue(func(w *wsStats) uint64 { return w.QueueOverflows })},
	{"uringnet_websocket_slow_consumers_total", "WebSocket connections closed (1008) for not reading while over the soft send queue limit.", counter,
		wsValue(func(w *wsStats) uint64 { return w.SlowConsumers })},
	{"uringnet_websocket_message_timeouts_total", "WebSocket connections closed (1008) for taking too long to send a message.", counter,
		wsValue(func(w *wsStats) uint64 { return w.MessageTimeouts })},
	{"uringnet_websocket_broadcasts_dropped_total", "WebSocket broadcasts not delivered to the clients of a loop that was too far behind.", counter,
		wsValue(func(w *wsStats) uint64 { return w.BroadcastsDropped })},
	{"uringnet_rooms", "Chat rooms with members on this instance.", gauge,
		roomsValue(func(r *roomsSample) uint64 { return uint64(max(r.Stats.Rooms, 0)) })},
	{"uringnet_rooms_members", "Room memberships on this instance.", gauge,
		roomsValue(func(r *roomsSample) uint64 { return uint64(max(r.Stats.Members, 0)) })},
	{"uringnet_rooms_broadcasts_total", "Messages said in a room on this instance.", counter,
		roomsValue(func(r *roomsSample) uint64 { return r.Stats.Sent })},
	{"uringnet_chat_members", "Members of /chat on this instance.", gauge,
		roomsValue(func(r *roomsSample) uint64 { return uint64(max(r.ChatMembers, 0)) })},
	{"uringnet_chat_presence", "Members of /chat on every instance (the others' from their heartbeats over the bus).", gauge,
		roomsValue(func(r *roomsSample) uint64 { return uint64(max(r.ChatPresence, 0)) })},
	{"uringnet_rooms_published_total", "Room messages the bus took, for the other instances.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Published })},
	{"uringnet_rooms_dropped_total", "Room messages not published (the bus queue was full, or the bus refused them): the other instances missed them.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Dropped })},
	{"uringnet_rooms_queued", "Room messages waiting for the bus.", gauge,
		busValue(func(st *rooms.Stats) uint64 { return uint64(max(st.Queued, 0)) })},
	{"uringnet_rooms_queued_bytes", "Memory held by the room messages waiting for the bus.", gauge,
		busValue(func(st *rooms.Stats) uint64 { return uint64(max(st.QueuedBytes, 0)) })},
	{"uringnet_rooms_holding", "1 while the messages for the bus are held: the bus is down, or the other instances are not back yet.", gauge,
		busValue(func(st *rooms.Stats) uint64 {
			if st.Holding {
				return 1
			}
			return 0
		})},
	{"uringnet_rooms_received_total", "Room messages from other instances handed to the members here.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Received })},
	{"uringnet_rooms_lost_total", "Room messages of other instances that never arrived, by their sequence numbers (a bus outage, a slow consumer).", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Lost })},
	{"uringnet_rooms_duplicates_total", "Room messages that arrived again (not delivered twice).", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Duplicates })},
	{"uringnet_rooms_echoes_total", "This instance's own room messages the bus sent back (ignored).", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Echoes })},
	{"uringnet_rooms_malformed_total", "Bus payloads that were not room messages.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Malformed })},
	{"uringnet_rooms_undelivered_total", "Room messages from the bus that a loop was too far behind to take.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Undelivered })},
	{"uringnet_rooms_heartbeats_total", "Room heartbeats published (last sequence number and members, each second).", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Heartbeats })},
	{"uringnet_rooms_subscribe_errors_total", "Rooms the bus refused to subscribe.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.SubscribeErrors })},
	{"uringnet_bus_connected", "1 while the bus (NATS) is connected, else 0.", gauge,
		busValue(func(st *rooms.Stats) uint64 {
			if st.Bus.Connected() {
				return 1
			}
			return 0
		})},
	{"uringnet_bus_disconnects_total", "Connections to the bus lost.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Bus.Disconnects })},
	{"uringnet_bus_reconnects_total", "Connections to the bus made again after one was lost.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Bus.Reconnects })},
	{"uringnet_bus_slow_consumer_total", "Times the bus dropped messages for this instance because it did not take them fast enough.", counter,
		busValue(func(st *rooms.Stats) uint64 { return st.Bus.SlowConsumer })},
	{"uringnet_stdhttp_requests_total", "Requests served by net/http handlers through the stdhttp adapter.", counter,
		adapterValue(func(c *stdhttp.Counters) uint64 { return c.Requests })},
	{"uringnet_stdhttp_handlers_running", "net/http handlers running now.", gauge,
		adapterValue(func(c *stdhttp.Counters) uint64 { return uint64(max(c.Running, 0)) })},
	{"uringnet_stdhttp_requests_waiting", "Requests waiting for a handler slot now, their connections unread.", gauge,
		adapterValue(func(c *stdhttp.Counters) uint64 { return uint64(max(c.Waiting, 0)) })},
	{"uringnet_stdhttp_requests_waited_total", "Requests that had to wait for a handler slot.", counter,
		adapterValue(func(c *stdhttp.Counters) uint64 { return c.Waited })},
	{"uringnet_stdhttp_panics_total", "net/http handlers that panicked (http.ErrAbortHandler aside).", counter,
		adapterValue(func(c *stdhttp.Counters) uint64 { return c.Panics })},
	{"uringnet_stdhttp_aborts_total", "net/http handlers that aborted with http.ErrAbortHandler.", counter,
		adapterValue(func(c *stdhttp.Counters) uint64 { return c.Aborts })},
	{"uringnet_stdhttp_hijacked_total", "Connections taken from the adapter (Hijack, or TakeOver to a WebSocket).", counter,
		adapterValue(func(c *stdhttp.Counters) uint64 { return c.Hijacked })},
}, fastcgiMetrics()...)

// statsCollector is a prometheus.Collector over the demo's counters:
// every Collect takes one snapshot, so that the metrics of one scrape are
// read at one moment, and reports each metric of infoMetrics and metrics
// the snapshot has.
type statsCollector struct {
	src   *counterSources
	now   func() time.Time
	info  []*prometheus.Desc // by infoMetrics index
	descs []*prometheus.Desc // by metrics index
}

// newStatsCollector returns a collector over src.
func newStatsCollector(src *counterSources) *statsCollector {
	c := &statsCollector{src: src, now: time.Now}
	for _, m := range infoMetrics {
		c.info = append(c.info, prometheus.NewDesc(m.name, m.help, []string{m.label}, nil))
	}
	for _, m := range metrics {
		c.descs = append(c.descs, prometheus.NewDesc(m.name, m.help, nil, nil))
	}
	return c
}

// Describe sends the descriptions of every metric the collector may report.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.info {
		ch <- d
	}
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect sends the metrics of a snapshot taken now.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.take(c.now())
	for i := range infoMetrics {
		if v := infoMetrics[i].value(&s); v != "" {
			ch <- prometheus.MustNewConstMetric(c.info[i], gauge, 1, v)
		}
	}
	for i := range metrics {
		m := &metrics[i]
		if v, ok := m.value(&s); ok {
			ch <- prometheus.MustNewConstMetric(c.descs[i], m.typ, float64(v))
		}
	}
}

// newMetricsRegistry returns a registry of its own (not Prometheus's
// global one) holding the collector over src.
func newMetricsRegistry(src *counterSources) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(newStatsCollector(src)); err != nil {
		return nil, fmt.Errorf("metrics: registering the stats collector: %w", err)
	}
	return reg, nil
}

// metricsHandler serves reg's metrics in the format the scraper asks for
// (the text format by default), logging gathering errors to log.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) nethttp.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// promLogger passes promhttp's error messages to a slog.Logger.
type promLogger struct{ log *slog.Logger }

// Println logs v as a warning.
func (l promLogger) Println(v ...any) { l.log.Warn("metrics: " + fmt.Sprint(v...)) }

// statsJSON is the body of /stats.json and of the live page's WebSocket
// messages. Counters are totals; the page turns them into rates.
type statsJSON struct {
	TimeMs        int64    `json:"t"`       // Unix milliseconds
	PID           int      `json:"pid"`     // the server's process id
	Backend       string   `json:"backend"` // "io_uring" or "epoll"
	Loops         int      `json:"loops"`
	Connections   uint64   `json:"connections"`
	Accepted      uint64   `json:"accepted"`
	Requests      uint64   `json:"requests"`
	TasksInFlight uint64   `json:"tasks_in_flight"`
	SQEs          uint64   `json:"sqes"`
	Enters        uint64   `json:"enters"`
	BytesIn       uint64   `json:"bytes_in"`
	BytesOut      uint64   `json:"bytes_out"`
	Events        uint64   `json:"events"`
	WebSocket     *wsStats `json:"websocket"` // null without a WebSocket server
	TLS           *tlsJSON `json:"tls"`       // null when the listener does not speak TLS
	HTTP2         *h2JSON  `json:"http2"`     // null with -http2=false
	// Rooms are the chat's rooms (null without them); Bus is the bus
	// they span instances on (null without -nats).
	Rooms *roomsJSON `json:"rooms"`
	Bus   *busJSON   `json:"bus"`
	// Upgrade is this process's upgrades (null without an upgrader).
	Upgrade *upgradeJSON `json:"upgrade"`
	// FastCGI is the FastCGI client's counters (absent without -fastcgi).
	FastCGI *fastcgiJSON `json:"fastcgi,omitempty"`
	// CGI is the CGI handler's counters (null without -cgi-dir).
	CGI *cgi.Stats `json:"cgi"`
}

// upgradeJSON is the upgrade part of statsJSON.
type upgradeJSON struct {
	Draining  bool   `json:"draining"`  // drains: accepts nothing new, /readyz 503
	Inherited string `json:"inherited"` // where the listeners came from: "upgrade", "systemd", ""
	Started   uint64 `json:"started"`   // upgrades started
	Succeeded uint64 `json:"succeeded"` // successors that became ready
	Failed    uint64 `json:"failed"`    // successors that did not (killed)
	Ignored   uint64 `json:"ignored"`   // SIGHUPs during an upgrade
}

// tlsJSON are the TLS counters of statsJSON.
type tlsJSON struct {
	Handshakes  uint64 `json:"handshakes"`  // completed, resumed ones included
	Resumed     uint64 `json:"resumed"`     // resumed an earlier session
	Errors      uint64 `json:"errors"`      // failed, timeouts included
	Timeouts    uint64 `json:"timeouts"`    // ran past the handshake timeout
	KernelTX    uint64 `json:"kernel_tx"`   // connections whose records the kernel seals (kTLS)
	Handshaking int64  `json:"handshaking"` // not ended: running or waiting for a slot
	// Connections closed after their handshake.
	RecordErrors uint64 `json:"record_errors"` // on a record that did not open
	Unsupported  uint64 `json:"unsupported"`   // on a post-handshake message not answered
	// KernelTXFailed counts connections whose keys the kernel refused
	// (sealed in Go instead).
	KernelTXFailed uint64 `json:"kernel_tx_failed"`
}

// h2JSON are the HTTP/2 counters of statsJSON. The engine's counters
// (goaway_sent to refused_streams) are added at each loop tick and when a
// connection ends.
type h2JSON struct {
	Conns          uint64 `json:"conns"`           // connections begun
	ConnsOpen      int64  `json:"conns_open"`      // connections open now
	ALPN           uint64 `json:"alpn"`            // begun over TLS by ALPN h2
	PriorKnowledge uint64 `json:"prior_knowledge"` // begun in cleartext by the preface
	Upgrades       uint64 `json:"upgrades"`        // begun in cleartext by Upgrade: h2c
	Streams        uint64 `json:"streams"`         // request streams served
	StreamsOpen    int64  `json:"streams_open"`    // streams open now
	NoSlot         uint64 `json:"no_slot"`         // streams refused: no client slot

	GoAwaySent         uint64 `json:"goaway_sent"`
	ResetsSent         uint64 `json:"resets_sent"`
	ResetsReceived     uint64 `json:"resets_received"`
	ProtocolErrors     uint64 `json:"protocol_errors"`
	FlowControlErrors  uint64 `json:"flow_control_errors"`
	RapidResets        uint64 `json:"rapid_resets"`
	ContinuationFloods uint64 `json:"continuation_floods"`
	HeaderListTooLarge uint64 `json:"header_list_too_large"`
	HPACKErrors        uint64 `json:"hpack_errors"`
	SettingsFloods     uint64 `json:"settings_floods"`
	PingFloods         uint64 `json:"ping_floods"`
	EmptyFrameFloods   uint64 `json:"empty_frame_floods"`
	StallResets        uint64 `json:"stall_resets"`
	RefusedStreams     uint64 `json:"refused_streams"`
}

// h2JSONOf converts the server's HTTP/2 counters.
func h2JSONOf(c *http.H2Counters) *h2JSON {
	return &h2JSON{Conns: c.Conns, ConnsOpen: max(c.ConnsOpen, 0), ALPN: c.ALPN, PriorKnowledge: c.PriorKnowledge,
		Upgrades: c.Upgrades, Streams: c.Streams, StreamsOpen: max(c.StreamsOpen, 0), NoSlot: c.NoSlot,
		GoAwaySent: c.GoAwaySent, ResetsSent: c.ResetsSent, ResetsReceived: c.ResetsReceived,
		ProtocolErrors: c.ProtocolErrors, FlowControlErrors: c.FlowControlErrors, RapidResets: c.RapidResets,
		ContinuationFloods: c.ContinuationFloods, HeaderListTooLarge: c.HeaderListTooLarge, HPACKErrors: c.HPACKErrors,
		SettingsFloods: c.SettingsFloods, PingFloods: c.PingFloods, EmptyFrameFloods: c.EmptyFrameFloods,
		StallResets: c.StallResets, RefusedStreams: c.RefusedStreams}
}

// appendStatsJSON appends s as one JSON object.
func appendStatsJSON(dst []byte, s *snapshot) []byte {
	js := statsJSON{
		TimeMs: s.Time.UnixMilli(), PID: s.PID, Backend: s.Net.Backend, Loops: s.Loops,
		Connections: s.Net.ConnsOpen, Accepted: s.Net.Accepted, Requests: s.Requests,
		TasksInFlight: s.Net.TasksInFlight, SQEs: s.Net.SQEs, Enters: s.Net.Enters,
		BytesIn: s.Net.BytesIn, BytesOut: s.Net.BytesOut, Events: s.Net.Events,
		WebSocket: s.WS, CGI: s.CGI,
	}
	if s.TLS {
		js.TLS = &tlsJSON{Handshakes: s.Net.TLSHandshakes, Resumed: s.Net.TLSResumed,
			Errors: s.Net.TLSHandshakeErrors, Timeouts: s.Net.TLSHandshakeTimeouts,
			KernelTX: s.Net.TLSKernelTX, Handshaking: max(s.Net.TLSHandshaking, 0),
			RecordErrors: s.Net.TLSRecordErrors, Unsupported: s.Net.TLSUnsupported, KernelTXFailed: s.Net.TLSKernelTXFailed}
	}
	if s.HTTP2 && s.HTTP != nil {
		js.HTTP2 = h2JSONOf(&s.HTTP.HTTP2)
	}
	if s.Rooms != nil {
		js.Rooms, js.Bus = roomsJSONOf(s.Rooms)
	}
	if u := s.Upgrade; u != nil {
		js.Upgrade = &upgradeJSON{Draining: u.Draining, Inherited: u.Inherited, Started: u.Attempts,
			Succeeded: u.Succeeded, Failed: u.Failed, Ignored: u.Ignored}
	}
	js.FastCGI = fastcgiJSONOf(s.FastCGI)
	b, err := json.Marshal(js)
	if err != nil { // cannot happen: plain numbers
		panic("example: stats JSON: " + err.Error())
	}
	return append(dst, b...)
}

// b2u is 1 for true, 0 for false (a gauge of a fact).
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
