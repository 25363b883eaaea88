package netserver

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// Stats are a server's counters, summed over its loops.
type Stats struct {
	Backend       string // the kernel interface the loops run on: "io_uring" or "epoll"
	ConnsOpen     uint64 // connections open now
	Accepted      uint64 // connections accepted
	Closed        uint64 // clients closed (connections and adopted fds)
	Rejected      uint64 // connections closed at once because MaxConns was reached
	AcceptErrors  uint64 // failed accepts (EMFILE, ENFILE, ...), each followed by a back-off
	AcceptRearms  uint64 // accepts re-armed on a shared listener whose backlog waited (watch.go)
	TasksInFlight uint64 // operations in flight on the rings
	SQEs          uint64 // submission queue entries submitted
	Enters        uint64 // io_uring_enter calls
	BytesIn       uint64 // bytes read from clients
	BytesOut      uint64 // bytes written to clients
	Stale         uint64 // completions whose task had already ended (bugs; must stay 0)
	Panics        uint64 // callbacks that panicked
	NoBuffers     uint64 // recvs that found the buffer ring empty (re-armed)
	Events        uint64 // event triggers delivered
	Congested     uint64 // clients whose reads wait now because their output backlog reached MaxQueued
	Congestions   uint64 // times a client's backlog reached MaxQueued
	QueuedBytes   uint64 // output backlog now, as charged against MaxQueued and MaxMemory
	HeldBytes     uint64 // input read but not yet delivered (held while reads wait)
	OverBudget    uint64 // loops over their share of MaxMemory now (delivering no reads)
	BudgetPauses  uint64 // times a loop went over its share of MaxMemory
	Streams       uint64 // virtual clients made (NewStream); not counted as connections
	StreamsOpen   uint64 // virtual clients open now

	TLSHandshakes        uint64 // TLS handshakes that ended well
	TLSResumed           uint64 // of which resumed a session (a ticket)
	TLSHandshakeErrors   uint64 // handshakes that failed (garbage, no shared version or suite, unknown name, timeouts, ...)
	TLSHandshakeTimeouts uint64 // of which ran past HandshakeTimeout
	TLSHandshaking       int64  // TLS connections whose handshake has not ended (running or waiting)
	TLSRecordErrors      uint64 // connections closed on a record that did not open (bad MAC, cut mid-record, ...)
	TLSUnsupported       uint64 // connections closed on a post-handshake message the server does not answer (see ErrTLSUnsupported)
	TLSKernelTX          uint64 // connections whose records the kernel sealed (kTLS TX)
	TLSKernelTXFailed    uint64 // connections whose key the kernel refused after taking the "tls" ULP
}

// String formats the stats as one line of key=value pairs.
func (s Stats) String() string {
	var b strings.Builder
	for i, kv := range []struct {
		k string
		v uint64
	}{
		{"conns_open", s.ConnsOpen}, {"accepted", s.Accepted}, {"closed", s.Closed},
		{"rejected", s.Rejected}, {"accept_errors", s.AcceptErrors}, {"accept_rearms", s.AcceptRearms},
		{"tasks_inflight", s.TasksInFlight}, {"sqes", s.SQEs}, {"enters", s.Enters},
		{"bytes_in", s.BytesIn}, {"bytes_out", s.BytesOut}, {"stale", s.Stale},
		{"panics", s.Panics}, {"nobufs", s.NoBuffers}, {"events", s.Events},
		{"congested", s.Congested}, {"congestions", s.Congestions},
		{"queued_bytes", s.QueuedBytes}, {"held_bytes", s.HeldBytes},
		{"over_budget", s.OverBudget}, {"budget_pauses", s.BudgetPauses},
		{"streams", s.Streams}, {"streams_open", s.StreamsOpen},
		{"tls_handshakes", s.TLSHandshakes}, {"tls_resumed", s.TLSResumed},
		{"tls_handshake_errors", s.TLSHandshakeErrors}, {"tls_handshake_timeouts", s.TLSHandshakeTimeouts},
		{"tls_handshaking", uint64(max(s.TLSHandshaking, 0))}, {"tls_record_errors", s.TLSRecordErrors},
		{"tls_unsupported", s.TLSUnsupported}, {"tls_ktls_tx", s.TLSKernelTX},
		{"tls_ktls_tx_failed", s.TLSKernelTXFailed},
	} {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", kv.k, kv.v)
	}
	if s.Backend != "" {
		b.WriteString(" backend=" + s.Backend)
	}
	return b.String()
}

func (t *tlsCounters) addTo(s *Stats) {
	s.TLSHandshakes = t.handshakes.Load()
	s.TLSResumed = t.resumed.Load()
	s.TLSHandshakeErrors = t.errors.Load()
	s.TLSHandshakeTimeouts = t.timeouts.Load()
	s.TLSHandshaking = t.handshaking.Load()
	s.TLSRecordErrors = t.records.Load()
	s.TLSUnsupported = t.unsupported.Load()
	s.TLSKernelTX = t.kernelTX.Load()
	s.TLSKernelTXFailed = t.kernelTXFailed.Load()
}

// counters are a loop's plain counters, written only by the loop.
type counters struct {
	connsOpen, accepted, closed, rejected, acceptErrors, acceptRearms uint64
	sqes, enters, bytesIn, bytesOut, panics, noBuffers, events        uint64
	congestions, budgetPauses                                         uint64
	streams, streamsOpen                                              uint64
}

// published is the copy of a loop's counters other goroutines read.
type published struct {
	c                    [17]atomic.Uint64
	tasksInFlight, stale atomic.Uint64
	congested, mem, held atomic.Uint64
	overBudget           atomic.Uint64
}

// gauges are a loop's current levels, published with its counters.
type gauges struct {
	tasksInFlight, congested int
	mem, held                int64
	overBudget               bool
	stale                    uint64
}

func (p *published) store(c *counters, g gauges) {
	for i, v := range [...]uint64{c.connsOpen, c.accepted, c.closed, c.rejected, c.acceptErrors,
		c.sqes, c.enters, c.bytesIn, c.bytesOut, c.panics, c.noBuffers, c.events,
		c.congestions, c.budgetPauses, c.acceptRearms, c.streams, c.streamsOpen} {
		p.c[i].Store(v)
	}
	p.congested.Store(uint64(g.congested))
	p.mem.Store(uint64(max(g.mem, 0)))
	p.held.Store(uint64(max(g.held, 0)))
	ob := uint64(0)
	if g.overBudget {
		ob = 1
	}
	p.overBudget.Store(ob)
	p.tasksInFlight.Store(uint64(g.tasksInFlight))
	p.stale.Store(g.stale)
}

func (p *published) addTo(s *Stats) {
	s.ConnsOpen += p.c[0].Load()
	s.Accepted += p.c[1].Load()
	s.Closed += p.c[2].Load()
	s.Rejected += p.c[3].Load()
	s.AcceptErrors += p.c[4].Load()
	s.SQEs += p.c[5].Load()
	s.Enters += p.c[6].Load()
	s.BytesIn += p.c[7].Load()
	s.BytesOut += p.c[8].Load()
	s.Panics += p.c[9].Load()
	s.NoBuffers += p.c[10].Load()
	s.Events += p.c[11].Load()
	s.Congestions += p.c[12].Load()
	s.BudgetPauses += p.c[13].Load()
	s.AcceptRearms += p.c[14].Load()
	s.Streams += p.c[15].Load()
	s.StreamsOpen += p.c[16].Load()
	s.Congested += p.congested.Load()
	s.QueuedBytes += p.mem.Load()
	s.HeldBytes += p.held.Load()
	s.OverBudget += p.overBudget.Load()
	s.TasksInFlight += p.tasksInFlight.Load()
	s.Stale += p.stale.Load()
}
