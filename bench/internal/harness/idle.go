package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"math"
	"net"
	"strconv"
	"time"
)

// IdleSettle is how long the idle measure waits, once every connection has its response,
// before it reads the server's RSS.
const IdleSettle = 2 * time.Second

// IdleResult is what the idle measure found for one server: its RSS before and after the
// connections were opened, in bytes.
type IdleResult struct {
	Before, After int64
	Err           error
}

// PerConnKiB returns the RSS growth per connection in KiB (NaN when the run failed).
func (r IdleResult) PerConnKiB(n int) float64 {
	if r.Err != nil || n <= 0 {
		return math.NaN()
	}
	return float64(r.After-r.Before) / 1024 / float64(n)
}

// IdleServer is a server the idle measure starts afresh.
type IdleServer struct {
	Key     string // its key in RunIdle's results
	Name    string
	SpecAt  func(addr string) (Spec, error) // the server listening on addr
	Tree    bool                            // count child processes (nginx workers) too
	Backend string                          // the uringnet backend it must run; "" for others
	TLS     *tls.Config                     // the client configuration of its backend check; nil for HTTP
}

// IdleOnce starts a fresh server of s on a free port, reads its RSS 0.3 s later, opens the
// connections (open, given the server's address; they must be left open and idle), waits
// IdleSettle, reads the RSS again, closes the connections and stops the server (checking a
// uringnet server's backend in its final stats line).
func IdleOnce(ctx context.Context, g *Group, s IdleServer, open func(addr string) ([]net.Conn, error)) IdleResult {
	fail := func(err error) IdleResult { return IdleResult{Err: err} }
	addr, err := FreePort()
	if err != nil {
		return fail(err)
	}
	spec, err := s.SpecAt(addr)
	if err != nil {
		return fail(err)
	}
	spec.Name = s.Name + " (idle)"
	proc, err := g.Start(ctx, spec)
	if err != nil {
		return fail(errors.New(FirstLine(err.Error())))
	}
	defer proc.Kill()
	if err := CheckBackend(ctx, proc.Addr, s.Backend, s.TLS); err != nil {
		return fail(err)
	}
	time.Sleep(300 * time.Millisecond)
	before, err := RSS(proc.Pid(), s.Tree)
	if err != nil {
		return fail(err)
	}
	conns, err := open(proc.Addr)
	if err != nil {
		return fail(err)
	}
	defer CloseAll(conns)
	time.Sleep(IdleSettle)
	after, err := RSS(proc.Pid(), s.Tree)
	if err != nil {
		return fail(err)
	}
	if !proc.Alive() {
		return fail(errors.New("server exited"))
	}
	if s.Backend != "" {
		CloseAll(conns)
		stats, err := proc.Stop(5 * time.Second)
		if err == nil {
			err = FinalBackend(stats, s.Backend)
		}
		if err != nil {
			return fail(err)
		}
	}
	return IdleResult{Before: before, After: after}
}

// RunIdle measures every server's RSS per idle connection in turn (IdleOnce, n connections
// opened by open), stopping when ctx ends, and reports each result with logf. The results
// are keyed by the servers' Key.
func RunIdle(ctx context.Context, g *Group, servers []IdleServer, n int, logf func(format string, args ...any),
	open func(s IdleServer, addr string) ([]net.Conn, error)) map[string]IdleResult {
	out := map[string]IdleResult{}
	for _, s := range servers {
		if ctx.Err() != nil {
			break
		}
		r := IdleOnce(ctx, g, s, func(addr string) ([]net.Conn, error) { return open(s, addr) })
		if r.Err != nil {
			logf("idle %s: FAILED: %v", s.Name, r.Err)
		} else {
			logf("idle %s: %.2f KiB per connection", s.Name, r.PerConnKiB(n))
		}
		out[s.Key] = r
	}
	return out
}

// IdleTable is the idle measure's table of n connections a server, a row for each of the
// servers (whose key and name id returns) that res holds; connsHeader names the
// connections' column.
func IdleTable[S any](connsHeader string, n int, servers []S, id func(S) (key, name string), res map[string]IdleResult) *Table {
	t := &Table{Labels: 1, Header: []string{"server", connsHeader, "RSS before MiB", "RSS after MiB", "KiB per conn"}}
	for _, s := range servers {
		key, name := id(s)
		r, ok := res[key]
		if !ok {
			continue
		}
		before, after := math.NaN(), math.NaN()
		if r.Err == nil {
			before, after = float64(r.Before)/(1<<20), float64(r.After)/(1<<20)
		} else {
			name += " (failed, see below)"
		}
		t.AddRow(name, strconv.Itoa(n), Num(before, 1), Num(after, 1), Num(r.PerConnKiB(n), 2))
	}
	return t
}
