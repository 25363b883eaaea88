// Command upgradeload is the load generator of the upgrade benchmark (bench/cmd/upgradebench):
// -conns keep-alive HTTP/1.1 connections, each with one request at a time, "GET -path" on a
// fixed schedule (-rate requests per second over all connections, each connection -conns/-rate
// apart, the connections' phases spread evenly), reading every response whole (status 200 and
// a Content-Length body). A response with "Connection: close" ends its connection: the next
// request dials a new one (to whichever process accepts it then), and its latency includes the
// dial.
//
//	upgradeload -addr 127.0.0.1:8080 -conns 64 -rate 20000 -duration 20s -records FILE
//
// Every completed request goes to -records (package reqlog: start time, latency, lag behind
// the schedule); the summary, with every failure and its time, is one JSON line on stdout
// (reqlog.Summary). A failure is a dial that fails, a write that fails, or a connection that
// ends (or errs, or times out after -timeout) before a complete 200 response. An idle
// connection that the server closed before the request was written (seen by a read that
// finds EOF just before the write) is not one: the request goes on a new connection, as any
// HTTP client's would, and idle_closed counts it. A connection more than 50 ms behind its
// schedule drops the requests it missed (skipped counts them) rather than send them in a
// burst.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/bench/internal/reqlog"
	"golang.org/x/sys/unix"
)

// maxBehind is how far a connection may fall behind its schedule before the requests it
// missed are dropped rather than caught up (echoload's rule).
const maxBehind = 50 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "upgradeload:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	addr, path, records string
	conns               int
	rate                float64
	duration, timeout   time.Duration
}

func run(ctx context.Context, args []string, w io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("upgradeload", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "HTTP server address")
	fs.StringVar(&cfg.path, "path", "/plaintext", "the path every request GETs")
	fs.StringVar(&cfg.records, "records", "", "write every completed request to this file (required)")
	fs.IntVar(&cfg.conns, "conns", 64, "keep-alive connections, one request at a time each")
	fs.Float64Var(&cfg.rate, "rate", 20000, "offered requests per second over all connections")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long to start requests")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "the longest a request (dial included) may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.conns < 1 || cfg.rate <= 0 || cfg.duration <= 0 || cfg.timeout <= 0 || cfg.records == "" {
		return errors.New("need -records, and -conns, -rate, -duration and -timeout > 0")
	}
	rw, err := reqlog.Create(cfg.records)
	if err != nil {
		return err
	}
	sum, recs := load(ctx, cfg)
	for _, r := range recs {
		if err := rw.Write(r); err != nil {
			rw.Close()
			return err
		}
	}
	if err := rw.Close(); err != nil {
		return err
	}
	sum.RecordsFile = cfg.records
	if sum.Failed > 0 {
		fmt.Fprintf(os.Stderr, "upgradeload: %d requests FAILED, the first: %s\n", sum.Failed, sum.Failures[0].Err)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// worker is one connection's schedule and what it saw.
type worker struct {
	cfg                                config
	req                                []byte
	recs                               []reqlog.Record
	failures                           []reqlog.Failure
	closes, idleClosed, dials, skipped int64

	c  net.Conn
	br *bufio.Reader
}

// load runs the workers for cfg.duration and gathers what they measured.
func load(ctx context.Context, cfg config) (*reqlog.Summary, []reqlog.Record) {
	interval := max(time.Duration(float64(cfg.conns)/cfg.rate*float64(time.Second)), 1)
	req := []byte("GET " + cfg.path + " HTTP/1.1\r\nHost: bench\r\n\r\n")
	workers := make([]*worker, cfg.conns)
	start := time.Now()
	end := start.Add(cfg.duration)
	var wg sync.WaitGroup
	for i := range workers {
		wk := &worker{cfg: cfg, req: req}
		workers[i] = wk
		first := start.Add(interval * time.Duration(i) / time.Duration(cfg.conns))
		wg.Go(func() { wk.run(ctx, first, interval, end) })
	}
	wg.Wait()
	sum := &reqlog.Summary{Conns: cfg.conns, Rate: cfg.rate, StartNs: start.UnixNano(), EndNs: time.Now().UnixNano(),
		Failures: []reqlog.Failure{}}
	var recs []reqlog.Record
	for _, wk := range workers {
		recs = append(recs, wk.recs...)
		sum.Failures = append(sum.Failures, wk.failures...)
		sum.Closes += wk.closes
		sum.IdleClosed += wk.idleClosed
		sum.Dials += wk.dials
		sum.Skipped += wk.skipped
	}
	sum.Requests = int64(len(recs))
	sum.Failed = int64(len(sum.Failures))
	return sum, recs
}

// run sends one request every interval from first until end.
func (wk *worker) run(ctx context.Context, first time.Time, interval time.Duration, end time.Time) {
	defer wk.drop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	next := first
	for ctx.Err() == nil {
		if !next.Before(end) {
			return
		}
		if d := time.Until(next); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		lag := max(t0.Sub(next), 0)
		next = next.Add(interval)
		if behind := t0.Sub(next); behind > maxBehind {
			skip := t0.Add(-maxBehind)
			wk.skipped += int64(skip.Sub(next) / interval)
			next = skip
		}
		dialed, err := wk.once(t0)
		if err != nil {
			wk.failures = append(wk.failures, reqlog.Failure{At: t0.UnixNano(), Err: err.Error()})
			wk.drop()
			continue
		}
		wk.recs = append(wk.recs, reqlog.Record{Start: t0.UnixNano(), Latency: int64(time.Since(t0)), Lag: int64(lag), Dialed: dialed})
	}
}

// drop closes the connection, if any.
func (wk *worker) drop() {
	if wk.c != nil {
		wk.c.Close()
		wk.c, wk.br = nil, nil
	}
}

// once makes one request, on the open connection or a new one, and reports whether it
// dialed.
func (wk *worker) once(t0 time.Time) (dialed bool, err error) {
	deadline := t0.Add(wk.cfg.timeout)
	if wk.c != nil && wk.closedIdle() {
		wk.idleClosed++
		wk.drop()
	}
	if wk.c == nil {
		c, err := net.DialTimeout("tcp", wk.cfg.addr, wk.cfg.timeout)
		if err != nil {
			return true, fmt.Errorf("dial: %w", err)
		}
		dialed = true
		wk.dials++
		wk.c, wk.br = c, bufio.NewReaderSize(c, 4096)
	}
	wk.c.SetDeadline(deadline)
	if _, err := wk.c.Write(wk.req); err != nil {
		return dialed, fmt.Errorf("write: %w", err)
	}
	closing, err := readResponse(wk.br)
	if err != nil {
		return dialed, fmt.Errorf("response: %w", err)
	}
	if closing {
		wk.closes++
		wk.drop()
	}
	return dialed, nil
}

// closedIdle reports whether the server has closed the idle connection: a non-blocking
// peek (recv with MSG_PEEK|MSG_DONTWAIT) finds EOF or an error. Bytes waiting are not
// expected between responses: they count as closed too, and the connection is dropped.
func (wk *worker) closedIdle() bool {
	if wk.br.Buffered() > 0 {
		return true
	}
	tc, ok := wk.c.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		closed = !errors.Is(err, unix.EAGAIN) // EOF (0 bytes), unexpected bytes, or an error
		return true                           // never wait
	})
	return closed || err != nil
}

// readResponse reads one complete response with a Content-Length body, which must be a 200,
// and reports whether it closes its connection.
func readResponse(br *bufio.Reader) (closing bool, err error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return false, fmt.Errorf("status line: %w", err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 200 ") {
		return false, fmt.Errorf("status line %q", strings.TrimSpace(line))
	}
	n := -1
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return false, fmt.Errorf("header: %w", err)
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return false, fmt.Errorf("header line %q", h)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-length":
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				return false, fmt.Errorf("content-length %q", v)
			}
		case "connection":
			closing = closing || strings.EqualFold(v, "close")
		}
	}
	if n < 0 {
		return false, errors.New("no content-length")
	}
	if _, err := br.Discard(n); err != nil {
		return false, fmt.Errorf("body: %w", err)
	}
	return closing, nil
}
