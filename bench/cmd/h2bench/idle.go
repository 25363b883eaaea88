package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// runIdle measures every available peer's RSS per idle h2c connection on a fresh server.
func runIdle(ctx context.Context, g *harness.Group, peers []*peer, n int) map[string]harness.IdleResult {
	var servers []harness.IdleServer
	for _, p := range peers {
		if p.specAt != nil && p.why == "" {
			servers = append(servers, harness.IdleServer{Key: p.key, Name: p.name, SpecAt: p.specAt, Tree: p.tree,
				Backend: p.backend})
		}
	}
	return harness.RunIdle(ctx, g, servers, n, progress, func(s harness.IdleServer, addr string) ([]net.Conn, error) {
		return openH2(ctx, addr, "/plaintext", []byte(plaintext), n, 64, 120*time.Second)
	})
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
func idleTable(peers []*peer, n int, res map[string]harness.IdleResult) *harness.Table {
	return harness.IdleTable("idle h2c conns", n, peers, func(p *peer) (string, string) { return p.key, p.name }, res)
}
