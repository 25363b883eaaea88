package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// runIdle measures every available peer's RSS per idle keep-alive connection: a fresh
// server of the peer, n connections that each make one GET of path and stay open, and the
// server's RSS before and after (see idleOnce).
func runIdle(ctx context.Context, g *harness.Group, peers []*peer, n int, path string) map[string]harness.IdleResult {
	var servers []harness.IdleServer
	for _, p := range peers {
		if p.specAt != nil && p.why == "" {
			servers = append(servers, harness.IdleServer{Key: p.key, Name: p.name, SpecAt: p.specAt, Tree: p.tree,
				Backend: p.backend, TLS: p.client})
		}
	}
	return harness.RunIdle(ctx, g, servers, n, progress, func(s harness.IdleServer, addr string) ([]net.Conn, error) {
		return openKeepAlive(ctx, addr, path, n, 64, 120*time.Second, s.TLS)
	})
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
func idleTable(peers []*peer, n int, res map[string]harness.IdleResult) *harness.Table {
	return harness.IdleTable("idle conns", n, peers, func(p *peer) (string, string) { return p.key, p.name }, res)
}
