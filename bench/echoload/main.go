package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/echo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoload:", err)
		os.Exit(1)
	}
}

// run parses the flags, runs the load and prints the result line to w.
func run(ctx context.Context, args []string, w io.Writer) error {
	var cfg echo.LoadConfig
	fs := flag.NewFlagSet("echoload", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9000", "echo server address")
	fs.IntVar(&cfg.Conns, "conns", 64, "connections, one message in flight on each")
	fs.IntVar(&cfg.Size, "size", 64, "message size in bytes")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long to send messages")
	fs.Float64Var(&cfg.Rate, "rate", 0, "offered messages per second over all connections, each on a fixed schedule (0: as fast as echoes return)")
	fs.DurationVar(&cfg.Grace, "grace", 5*time.Second, "how long an echo may still take after -duration (also the dial timeout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := echo.RunLoad(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, res.Line(cfg))
	return err
}
