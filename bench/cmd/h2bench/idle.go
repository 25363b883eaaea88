package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// idleSettle is how long the idle mode waits, once every connection has its response,
// before it reads the server's RSS.
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

// runIdle measures every available peer's RSS per idle h2c connection on a fresh server.
func runIdle(ctx context.Context, g *harness.Group, peers []*peer, n int) map[string]idleResult {
	out := map[string]idleResult{}
	for _, p := range peers {
		if p.specAt == nil || p.why != "" {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		r := idleOnce(ctx, g, p, n)
		if r.err != nil {
			progress("idle %s: FAILED: %v", p.name, r.err)
		} else {
			progress("idle %s: %.2f KiB per connection", p.name, r.perConnKiB(n))
		}
		out[p.key] = r
	}
	return out
}

// idleOnce starts a fresh server of peer p on a free port, reads its RSS 0.3 s later, opens
// n h2c connections that each make one GET /plaintext (openH2), waits idleSettle, reads the
// RSS again, closes the connections and stops the server (checking a uringnet peer's backend
// in its final stats line).
func idleOnce(ctx context.Context, g *harness.Group, p *peer, n int) idleResult {
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
	if err := checkBackend(ctx, proc.Addr, p.backend); err != nil {
		return fail(err)
	}
	time.Sleep(300 * time.Millisecond)
	before, err := harness.RSS(proc.Pid(), p.tree)
	if err != nil {
		return fail(err)
	}
	conns, err := openH2(ctx, proc.Addr, "/plaintext", []byte(plaintext), n, 64, 120*time.Second)
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
	harness.CloseAll(conns)
	if p.backend != "" {
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

// openH2 opens n connections to addr, at most parallel at a time, and on each makes one
// h2c request by prior knowledge (h2Request); the connections are then left idle, and the
// caller closes them. On error every connection opened is closed.
func openH2(ctx context.Context, addr, path string, body []byte, n, parallel int, timeout time.Duration) ([]net.Conn, error) {
	conns, err := harness.OpenConns(ctx, addr, n, parallel, timeout, func(c net.Conn) error {
		return h2Request(c, addr, path, body)
	})
	if err != nil {
		return nil, fmt.Errorf("idle h2c: %w", err)
	}
	return conns, nil
}

// h2Request is the client side of an h2c connection by prior knowledge on c: the preface,
// an empty SETTINGS frame, one HEADERS frame with GET path on stream 1 (END_STREAM), then
// frames until the response has ended: it must be a 200 with body. The server's SETTINGS are
// acknowledged and its PINGs answered on the way. Nothing more is sent: the server then
// holds an idle HTTP/2 connection with one closed stream.
func h2Request(c net.Conn, authority, path string, body []byte) error {
	w := bufio.NewWriter(c)
	fr := http2.NewFramer(w, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
		{Name: ":authority", Value: authority}, {Name: ":path", Value: path},
	} {
		if err := enc.WriteField(f); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, http2.ClientPreface); err != nil {
		return err
	}
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var got []byte
	status := ""
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("h2c GET %s: %w", path, err)
		}
		ended := false
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				err = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				err = fr.WritePing(true, f.Data)
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == 1 {
				if status == "" {
					status = f.PseudoValue("status")
				}
				ended = f.StreamEnded()
			}
		case *http2.DataFrame:
			if f.StreamID == 1 {
				got = append(got, f.Data()...)
				ended = f.StreamEnded()
			}
		case *http2.RSTStreamFrame:
			return fmt.Errorf("h2c GET %s: RST_STREAM %v", path, f.ErrCode)
		case *http2.GoAwayFrame:
			return fmt.Errorf("h2c GET %s: GOAWAY %v %q", path, f.ErrCode, f.DebugData())
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			return err
		}
		if ended {
			break
		}
	}
	if status != "200" {
		return fmt.Errorf("h2c GET %s: status %q", path, status)
	}
	if !bytes.Equal(got, body) {
		return fmt.Errorf("h2c GET %s: body %q, want %q", path, got, body)
	}
	return nil
}

// idleTable is the idle mode's table.
func idleTable(peers []*peer, n int, res map[string]idleResult) *harness.Table {
	t := &harness.Table{Labels: 1, Header: []string{"server", "idle h2c conns", "RSS before MiB", "RSS after MiB", "KiB per conn"}}
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
