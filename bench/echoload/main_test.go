package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/uringnet/uringnet/bench/internal/echo"
)

func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srv echo.Server
	go srv.Serve(ln)
	defer srv.CloseConns()
	defer ln.Close()
	var out strings.Builder
	err = run(context.Background(), []string{"-addr", ln.Addr().String(), "-conns", "2", "-size", "100", "-duration", "100ms"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if msgs, _, _, _, err := echo.ParseResult(strings.TrimSpace(out.String())); err != nil || msgs == 0 {
		t.Errorf("output %q: %d msgs, %v", out.String(), msgs, err)
	}
	if err := run(context.Background(), []string{"-conns", "0"}, &out); err == nil {
		t.Error("-conns 0 accepted")
	}
	if err := run(context.Background(), []string{"-bogus"}, &out); err == nil {
		t.Error("unknown flag accepted")
	}
}
