package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// idleSettle is how long the idle mode waits, once every connection is open, before it
// reads the server's RSS.
const idleSettle = 2 * time.Second

// idleResult is what the idle mode measured for one peer: its RSS before and after the
// connections were opened, in bytes.
type idleResult struct {
	before, after int64
	err           error
}

// perConnKiB returns the RSS growth per connection in KiB (NaN when the run failed).
func (r idleResult) perConnKiB(n int) float64 {
	if r.err != nil || n <= 0 {
		return math.NaN()
	}
	return float64(r.after-r.before) / 1024 / float64(n)
}

// runIdle measures every available peer's RSS per idle keep-alive connection: a fresh
// server of the peer, n connections that each make one GET of path and stay open, and the
// server's RSS before and after (see idleOnce).
func runIdle(ctx context.Context, g *harness.Group, peers []*peer, n int, path string) map[string]idleResult {
	out := map[string]idleResult{}
	for _, p := range peers {
		if p.specAt == nil || p.why != "" {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		r := idleOnce(ctx, g, p, n, path)
		if r.err != nil {
			progress("idle %s: FAILED: %v", p.name, r.err)
		} else {
			progress("idle %s: %.2f KiB per connection", p.name, r.perConnKiB(n))
		}
		out[p.key] = r
	}
	return out
}

// idleOnce starts a fresh server of peer p on a free port, reads its RSS, opens n
// keep-alive connections that each make one request, waits idleSettle, reads the RSS again
// and stops the server (checking a uringnet peer's backend in its final stats line).
func idleOnce(ctx context.Context, g *harness.Group, p *peer, n int, path string) idleResult {
	fail := func(err error) idleResult { return idleResult{err: err} }
	addr, err := harness.FreePort()
	if err != nil {
		return fail(err)
	}
	spec, err := p.specAt(addr)
	if err != nil {
		return fail(err)
	}
	spec.Name = p.name + " (idle)"
	proc, err := g.Start(ctx, spec)
	if err != nil {
		return fail(errors.New(firstLine(err.Error())))
	}
	defer proc.Kill()
	if err := checkBackend(ctx, proc.Addr, p.backend, p.client); err != nil {
		return fail(err)
	}
	time.Sleep(300 * time.Millisecond)
	before, err := harness.RSS(proc.Pid(), p.tree)
	if err != nil {
		return fail(err)
	}
	conns, err := openKeepAlive(ctx, proc.Addr, path, n, 64, 120*time.Second, p.client)
	if err != nil {
		return fail(err)
	}
	defer harness.CloseAll(conns)
	time.Sleep(idleSettle)
	after, err := harness.RSS(proc.Pid(), p.tree)
	if err != nil {
		return fail(err)
	}
	if !proc.Alive() {
		return fail(errors.New("server exited"))
	}
	if p.backend != "" {
		harness.CloseAll(conns)
		stats, err := proc.Stop(5 * time.Second)
		if err == nil {
			err = finalBackend(stats, p.backend)
		}
		if err != nil {
			return fail(err)
		}
	}
	return idleResult{before: before, after: after}
}

// openKeepAlive opens n connections to addr, at most parallel at a time, and on each makes
// one HTTP/1.1 GET of path and reads the whole response, which must be a 200 that keeps the
// connection open; with tlsc, over TLS after a full handshake. The connections are then left
// idle; the caller closes them. On error every connection opened is closed.
func openKeepAlive(ctx context.Context, addr, path string, n, parallel int, timeout time.Duration, tlsc *tls.Config) ([]net.Conn, error) {
	conns, err := harness.OpenConns(ctx, addr, n, parallel, timeout, func(c net.Conn) error {
		if tlsc == nil {
			return requestOnce(c, path)
		}
		// The tls.Conn is dropped afterwards; the TCP connection under it stays open, and
		// the server sees an idle TLS connection.
		tc := tls.Client(c, tlsc)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		return requestOnce(tc, path)
	})
	if err != nil {
		return nil, fmt.Errorf("idle: %w", err)
	}
	return conns, nil
}

// requestOnce writes one GET of path on c and reads its response.
func requestOnce(c net.Conn, path string) error {
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
		return err
	}
	// The bufio.Reader may read ahead, which is harmless: nothing follows the response.
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: status %s", path, resp.Status)
	case resp.Close:
		return fmt.Errorf("GET %s: the server closes the connection", path)
	}
	return nil
}

// idleTable is the idle mode's table.
func idleTable(peers []*peer, n int, res map[string]idleResult) *harness.Table {
	t := &harness.Table{Labels: 1, Header: []string{"server", "idle conns", "RSS before MiB", "RSS after MiB", "KiB per conn"}}
	for _, p := range peers {
		r, ok := res[p.key]
		if !ok {
			continue
		}
		before, after := math.NaN(), math.NaN()
		name := p.name
		if r.err == nil {
			before, after = float64(r.before)/(1<<20), float64(r.after)/(1<<20)
		} else {
			name += " (failed, see below)"
		}
		t.AddRow(name, strconv.Itoa(n), harness.Num(before, 1), harness.Num(after, 1), harness.Num(r.perConnKiB(n), 2))
	}
	return t
}
