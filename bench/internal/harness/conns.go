package harness

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// OpenConns dials n connections to addr, at most parallel at a time, and runs setup on
// each (a request, an echo: whatever proves the server has taken it on) under the
// deadline. The connections are then left idle; the caller closes them (CloseAll). On
// error every connection opened is closed.
func OpenConns(ctx context.Context, addr string, n, parallel int, timeout time.Duration, setup func(net.Conn) error) ([]net.Conn, error) {
	if n < 0 || parallel < 1 {
		return nil, fmt.Errorf("open connections: bad n=%d parallel=%d", n, parallel)
	}
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			conns[i], errs[i] = openConn(ctx, addr, setup)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			CloseAll(conns)
			return nil, fmt.Errorf("connection %d of %d: %w", i+1, n, err)
		}
	}
	return conns, nil
}

func openConn(ctx context.Context, addr string, setup func(net.Conn) error) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if err := setup(c); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// CloseAll closes every non-nil connection.
func CloseAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
