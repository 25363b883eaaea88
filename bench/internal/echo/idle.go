package echo

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// OpenIdle opens n connections to addr, at most parallel at a time, and has each echo one
// byte so that the server has surely accepted it and set it up. The connections are then
// left idle; the caller closes them. On error every connection opened is closed.
func OpenIdle(ctx context.Context, addr string, n, parallel int, timeout time.Duration) ([]net.Conn, error) {
	conns, err := harness.OpenConns(ctx, addr, n, parallel, timeout, echoOne)
	if err != nil {
		return nil, fmt.Errorf("open idle: %w", err)
	}
	return conns, nil
}

// echoOne has c echo one byte.
func echoOne(c net.Conn) error {
	b := [1]byte{'x'}
	if _, err := c.Write(b[:]); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 'x' {
		return fmt.Errorf("one-byte echo: got %q, %v", b[0], err)
	}
	return nil
}

// CloseAll closes every non-nil connection.
func CloseAll(conns []net.Conn) { harness.CloseAll(conns) }
