package echo

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// OpenIdle opens n connections to addr, at most parallel at a time, and has each echo one
// byte so that the server has surely accepted it and set it up. The connections are then
// left idle; the caller closes them. On error every connection opened is closed.
func OpenIdle(ctx context.Context, addr string, n, parallel int, timeout time.Duration) ([]net.Conn, error) {
	if n < 0 || parallel < 1 {
		return nil, fmt.Errorf("open idle: bad n=%d parallel=%d", n, parallel)
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
			conns[i], errs[i] = openOne(ctx, addr)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			CloseAll(conns)
			return nil, fmt.Errorf("open idle connection %d of %d: %w", i+1, n, err)
		}
	}
	return conns, nil
}

func openOne(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	var b [1]byte
	b[0] = 'x'
	if _, err := c.Write(b[:]); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 'x' {
		c.Close()
		return nil, fmt.Errorf("one-byte echo: got %q, %v", b[0], err)
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
