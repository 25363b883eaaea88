// Command example is the uringnet demo HTTP server:
//
//	go run ./example -addr 127.0.0.1:8080 [-root DIR] [-loops N]
//
// Routes: /plaintext answers "Hello, World!" (text/plain), /json answers
// {"message":"Hello, World!"}, POST /echo sends the request body back, and
// every other GET or HEAD is a file under -root. Without -root it serves a
// small site embedded in the binary, written to a temporary directory at
// start (so that it goes through the same SendFile path as a real root)
// and removed at exit. It prints "listening on ADDR", stops gracefully on
// SIGINT or SIGTERM and prints its final stats line.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

//go:embed site
var site embed.FS

// Response bodies, built once.
var (
	helloBody = []byte("Hello, World!")
	jsonBody  = []byte(`{"message":"Hello, World!"}`)
)

// demo routes requests.
type demo struct {
	http.NopHTTPHandler
	s *http.Server
}

func (d *demo) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	switch string(req.Path) {
	case "/plaintext":
		d.s.Respond(c, 200, "text/plain", helloBody)
	case "/json":
		d.s.Respond(c, 200, "application/json", jsonBody)
	case "/echo":
		if string(req.Method) != "POST" {
			d.s.RespondError(c, 405)
			return
		}
		d.s.CollectBody(c, 0)
	default:
		d.s.SendFile(req, c, "")
	}
}

// HTTPBody gets the whole body of POST /echo.
func (d *demo) HTTPBody(data []byte, c netserver.ClientNum, last bool) {
	d.s.Respond(c, 200, "application/octet-stream", data)
}

func main() {
	fl := flag.NewFlagSet("example", flag.ExitOnError)
	addr := fl.String("addr", "127.0.0.1:8080", "address to listen on")
	root := fl.String("root", "", "directory to serve (default: the embedded site)")
	loops := fl.Int("loops", 0, "event loops (default GOMAXPROCS)")
	fl.Parse(os.Args[1:])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if err := run(*addr, *root, *loops, os.Stdout, sig); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run serves until stop delivers a signal.
func run(addr, root string, loops int, out io.Writer, stop <-chan os.Signal) error {
	if root == "" {
		dir, err := writeSite()
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		root = dir
	}
	d := &demo{}
	s, err := http.NewServer(http.Config{
		Net:  netserver.Config{Addrs: []string{addr}, Loops: loops},
		Root: root,
	}, d)
	if err != nil {
		return err
	}
	d.s = s
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	fmt.Fprintf(out, "listening on %s\n", s.Addr())
	select {
	case err := <-errc:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Net().Shutdown(ctx)
	if err := <-errc; err != nil && !errors.Is(err, netserver.ErrServerClosed) {
		return err
	}
	fmt.Fprintf(out, "stats %s requests=%d\n", s.Stats(), s.Requests())
	return nil
}

// writeSite copies the embedded site to a new temporary directory.
func writeSite() (string, error) {
	dir, err := os.MkdirTemp("", "uringnet-site-")
	if err != nil {
		return "", fmt.Errorf("embedded site: %w", err)
	}
	err = fs.WalkDir(site, "site", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("site", p)
		dst := filepath.Join(dir, rel)
		if de.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := site.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("embedded site: %w", err)
	}
	return dir, nil
}
