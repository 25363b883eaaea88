// Command fcgiapp is the Go FastCGI application of the CGI benchmark (cmd/cgibench): a
// hello world on net/http/fcgi. Every request, whatever its path, gets 200 with
// "Content-Type: text/plain" and "Hello, World!\n", the body of the benchmark's CGI script.
//
//	fcgiapp -listen unix:/path/app.sock    (or -listen tcp:127.0.0.1:9000)
//
// It prints "listening on ADDR" once it accepts connections, makes a Unix socket readable
// and writable by everyone (nginx's workers run as nobody when nginx starts as root), and
// removes it on SIGINT or SIGTERM. Run it with GOMAXPROCS=1 to pin it like the servers.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
)

// body is the response of every request.
const body = "Hello, World!\n"

func main() {
	listen := flag.String("listen", "", "where to listen: unix:PATH or tcp:HOST:PORT")
	flag.Parse()
	network, addr, ok := strings.Cut(*listen, ":")
	if !ok || (network != "unix" && network != "tcp") || addr == "" {
		fmt.Fprintln(os.Stderr, "fcgiapp: -listen unix:PATH or tcp:HOST:PORT")
		os.Exit(2)
	}
	if network == "unix" {
		os.Remove(addr)
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fcgiapp:", err)
		os.Exit(1)
	}
	if network == "unix" {
		if err := os.Chmod(addr, 0o666); err != nil {
			fmt.Fprintln(os.Stderr, "fcgiapp:", err)
			os.Exit(1)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	var stopped atomic.Bool
	go func() {
		<-sig
		stopped.Store(true)
		ln.Close()
	}()
	fmt.Printf("listening on %s:%s\n", network, ln.Addr())
	err = fcgi.Serve(ln, http.HandlerFunc(hello))
	if network == "unix" {
		os.Remove(addr)
	}
	if err != nil && !stopped.Load() {
		fmt.Fprintln(os.Stderr, "fcgiapp:", err)
		os.Exit(1)
	}
}

func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Write([]byte(body))
}
