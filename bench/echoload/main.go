package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/echo"
)

func main() {
	var cfg echo.LoadConfig
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:9000", "echo server address")
	flag.IntVar(&cfg.Conns, "conns", 64, "connections, one message in flight on each")
	flag.IntVar(&cfg.Size, "size", 64, "message size in bytes")
	flag.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long to send messages")
	flag.DurationVar(&cfg.Grace, "grace", 5*time.Second, "how long an echo may still take after -duration (also the dial timeout)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := echo.RunLoad(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoload:", err)
		os.Exit(1)
	}
	fmt.Println(res.Line(cfg))
}
