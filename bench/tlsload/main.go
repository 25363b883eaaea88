// Command tlsload is the load generator of the HTTPS new-connection benchmark: -conns
// workers, each in a loop opening a TCP connection, making a full TLS 1.3 handshake (X25519,
// no session cache, so never a resumption), sending one "GET PATH" with "Connection:
// close", reading the whole response (which must be a 200) and then the connection until
// the server closes it, for -duration.
//
//	tlsload -addr 127.0.0.1:8443 -path /plaintext -conns 128 -duration 3s
//
// It prints one line, "TLSLOADRESULT conns=N resumed=N errors=N duration_us=N p50_us=N
// p99_us=N": the connections that completed (handshake, request, response) in the run, how
// many of them resumed a session (0 unless a server misbehaves), the failed ones, the run's
// length, and the median and 99th percentile of a connection's time from dial to response.
// The server's certificate is not checked against a root (its CertificateVerify signature
// is: TLS 1.3 requires it), which keeps the client's work per handshake small.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlsload:", err)
		os.Exit(1)
	}
}

// result is what a run measured.
type result struct {
	conns, resumed, errors int64
	duration               time.Duration
	hist                   harness.Histogram
	firstErr               error
}

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("tlsload", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8443", "HTTPS server address")
	path := fs.String("path", "/plaintext", "the path each connection GETs once")
	conns := fs.Int("conns", 128, "connections in flight (workers)")
	duration := fs.Duration("duration", 3*time.Second, "how long to open connections")
	timeout := fs.Duration("timeout", 5*time.Second, "the longest one connection may take")
	cpuprofile := fs.String("cpuprofile", "", "write the load's CPU profile to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *conns < 1 || *duration <= 0 {
		return errors.New("-conns and -duration must be positive")
	}
	r := load(ctx, *addr, *path, *conns, *duration, *timeout)
	if r.conns == 0 {
		return fmt.Errorf("no connection completed: %v", r.firstErr)
	}
	if r.firstErr != nil {
		fmt.Fprintf(os.Stderr, "tlsload: %d connections failed, the first: %v\n", r.errors, r.firstErr)
	}
	_, err := fmt.Fprintf(w, "TLSLOADRESULT conns=%d resumed=%d errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
		r.conns, r.resumed, r.errors, r.duration.Microseconds(),
		r.hist.Quantile(0.5).Microseconds(), r.hist.Quantile(0.99).Microseconds())
	return err
}

// load runs the workers for d and adds up what they measured.
func load(ctx context.Context, addr, path string, conns int, d, timeout time.Duration) *result {
	cfg := harness.ClientTLS(nil)
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
	var total result
	var mu sync.Mutex
	var stop atomic.Bool
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var r result
			for !stop.Load() && ctx.Err() == nil {
				t0 := time.Now()
				resumed, err := once(ctx, addr, cfg, req, t0.Add(timeout))
				if stop.Load() && err != nil {
					break // cut short by the end of the run: not an error of the server
				}
				if err != nil {
					r.errors++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.hist.Record(time.Since(t0))
				r.conns++
				if resumed {
					r.resumed++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			total.conns += r.conns
			total.resumed += r.resumed
			total.errors += r.errors
			total.hist.Merge(&r.hist)
			if total.firstErr == nil {
				total.firstErr = r.firstErr
			}
		})
	}
	wg.Wait()
	total.duration = time.Since(start)
	return &total
}

// once makes one connection: dial, handshake, one request and its response, then reads
// until the server closes the connection (so that the server, which closes first, keeps the
// TIME_WAIT, not the client's ephemeral port).
func once(ctx context.Context, addr string, cfg *tls.Config, req []byte, deadline time.Time) (resumed bool, err error) {
	d := net.Dialer{Deadline: deadline}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, err
	}
	defer raw.Close()
	raw.SetDeadline(deadline)
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		return false, fmt.Errorf("handshake: %w", err)
	}
	if _, err := c.Write(req); err != nil {
		return false, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %s", resp.Status)
	}
	io.Copy(io.Discard, br) // until the server's close_notify or FIN; errors do not matter now
	return c.ConnectionState().DidResume, nil
}
