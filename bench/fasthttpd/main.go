package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	root := flag.String("root", ".", "directory served for paths other than /plaintext and /json")
	flag.Parse()
	if err := run(*addr, *root); err != nil {
		fmt.Fprintln(os.Stderr, "fasthttpd:", err)
		os.Exit(1)
	}
}

func run(addr, root string) error {
	var accepted, requests atomic.Int64
	fs := &fasthttp.FS{Root: root, AcceptByteRange: true}
	files := fs.NewRequestHandler()
	srv := &fasthttp.Server{
		Name: "fasthttpd",
		Handler: func(ctx *fasthttp.RequestCtx) {
			requests.Add(1)
			switch string(ctx.Path()) {
			case "/plaintext":
				ctx.SetContentType("text/plain")
				ctx.WriteString("Hello, World!")
			case "/json":
				ctx.SetContentType("application/json")
				ctx.WriteString(`{"message":"Hello, World!"}`)
			default:
				files(ctx)
			}
		},
		ConnState: func(_ net.Conn, s fasthttp.ConnState) {
			if s == fasthttp.StateNew {
				accepted.Add(1)
			}
		},
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.ShutdownWithContext(sctx)
	})
	fmt.Printf("fasthttpd listening on %s\n", ln.Addr())
	err = srv.Serve(ln)
	fmt.Printf("stats accepted=%d requests=%d\n", accepted.Load(), requests.Load())
	return err
}
