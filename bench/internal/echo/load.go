package echo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// LoadConfig describes one load run.
type LoadConfig struct {
	Addr     string        // server address, host:port
	Conns    int           // connections, each with one message in flight
	Size     int           // message size in bytes
	Duration time.Duration // how long to send new messages
	// Grace is how long a message may take after Duration ends before the run fails;
	// 0 means 5 s. It is also the dial timeout.
	Grace time.Duration
	// Rate, when positive, is the offered load in messages per second over all connections:
	// each connection sends on a fixed schedule (Conns/Rate apart, the connections' phases
	// spread evenly) instead of as fast as echoes come back. A connection that falls behind
	// its schedule sends at once, catching up by at most MaxBehind's worth of messages, so
	// the achieved rate equals Rate whenever the server keeps up. 0 is a closed loop.
	Rate float64
}

// MaxBehind is how far a rate-paced connection may fall behind its schedule before the
// missed sends are dropped rather than caught up.
const MaxBehind = 50 * time.Millisecond

// LoadResult is the outcome of a load run.
type LoadResult struct {
	Messages uint64             // complete, verified round trips
	Elapsed  time.Duration      // from the first message to the last echo
	Latency  *harness.Histogram // round-trip times
}

// PerSec returns messages per second.
func (r LoadResult) PerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Messages) / r.Elapsed.Seconds()
}

// Line returns the result as a "result key=value ..." line, the form echoload prints and
// ParseResult reads.
func (r LoadResult) Line(cfg LoadConfig) string {
	return fmt.Sprintf("result conns=%d size=%d rate=%.0f msgs=%d secs=%.3f msgs_per_sec=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f",
		cfg.Conns, cfg.Size, cfg.Rate, r.Messages, r.Elapsed.Seconds(), r.PerSec(),
		us(r.Latency.Quantile(0.50)), us(r.Latency.Quantile(0.99)), us(r.Latency.Max()))
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fill writes the message for connection conn, sequence number seq, into b: a pattern that
// differs per connection and per message, so a mixed-up or stale echo is caught.
func fill(b []byte, conn, seq uint64) {
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:8], conn)
	binary.LittleEndian.PutUint64(hdr[8:], seq)
	n := copy(b, hdr[:])
	x := byte(conn*131 + seq*7)
	for i := n; i < len(b); i++ {
		b[i] = x + byte(i)
	}
}

// RunLoad dials cfg.Conns connections, then, until cfg.Duration has passed, has each one
// write a message and read the whole echo back, verifying every byte. Any error (dial,
// I/O, a wrong byte, a deadline) fails the run.
func RunLoad(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	if cfg.Conns < 1 || cfg.Size < 1 || cfg.Duration <= 0 || cfg.Rate < 0 {
		return LoadResult{}, fmt.Errorf("echo load: need conns, size and duration > 0 and rate >= 0 (got %d, %d, %v, %v)",
			cfg.Conns, cfg.Size, cfg.Duration, cfg.Rate)
	}
	grace := cfg.Grace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	conns := make([]net.Conn, 0, cfg.Conns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	d := net.Dialer{Timeout: grace}
	for i := range cfg.Conns {
		c, err := d.DialContext(ctx, "tcp", cfg.Addr)
		if err != nil {
			return LoadResult{}, fmt.Errorf("echo load: dial %d of %d: %w", i+1, cfg.Conns, err)
		}
		conns = append(conns, c)
	}

	start := time.Now()
	end := start.Add(cfg.Duration)
	hists := make([]harness.Histogram, cfg.Conns)
	counts := make([]uint64, cfg.Conns)
	errs := make([]error, cfg.Conns)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var interval time.Duration // between two sends of one connection; 0: closed loop
	if cfg.Rate > 0 {
		interval = time.Duration(float64(cfg.Conns) / cfg.Rate * float64(time.Second))
		interval = max(interval, 1)
	}
	for i, c := range conns {
		first := start
		if interval > 0 {
			first = start.Add(interval * time.Duration(i) / time.Duration(cfg.Conns))
		}
		wg.Go(func() {
			errs[i] = loop(ctx, c, uint64(i), cfg.Size, first, interval, end, end.Add(grace), &hists[i], &counts[i])
			if errs[i] != nil {
				cancel() // one failure ends the run
			}
		})
	}
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			c.SetDeadline(time.Now()) // unblock everyone
		}
	})
	wg.Wait()
	stop()
	elapsed := time.Since(start)

	res := LoadResult{Elapsed: elapsed, Latency: new(harness.Histogram)}
	for i := range hists {
		res.Latency.Merge(&hists[i])
		res.Messages += counts[i]
	}
	for i, err := range errs {
		// Connections stopped by another's failure, or by the caller, report the context's
		// error; the failure itself is what counts.
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return res, fmt.Errorf("echo load: connection %d: %w", i, err)
		}
	}
	if err := ctx.Err(); err != nil && res.Messages == 0 {
		return res, fmt.Errorf("echo load: %w", err)
	}
	return res, nil
}

// loop runs the write-then-read-echo cycle of one connection until end: back to back when
// interval is 0, else one send every interval from first on (see LoadConfig.Rate).
func loop(ctx context.Context, c net.Conn, id uint64, size int, first time.Time, interval time.Duration, end, hard time.Time, h *harness.Histogram, count *uint64) error {
	if err := c.SetDeadline(hard); err != nil {
		return err
	}
	msg := make([]byte, size)
	got := make([]byte, size)
	next := first
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for seq := uint64(0); ; seq++ {
		if interval > 0 {
			if !next.Before(end) {
				return nil
			}
			if d := time.Until(next); d > 0 {
				timer.Reset(d) // Go 1.23+: no stale value to drain
				select {
				case <-timer.C:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		t0 := time.Now()
		if !t0.Before(end) {
			return nil
		}
		if interval > 0 {
			next = next.Add(interval)
			if behind := t0.Sub(next); behind > MaxBehind {
				next = t0.Add(-MaxBehind)
			}
		}
		fill(msg, id, seq)
		if _, err := c.Write(msg); err != nil {
			return ioErr(ctx, "write", seq, err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return ioErr(ctx, "read echo", seq, err)
		}
		h.Record(time.Since(t0))
		if !bytes.Equal(got, msg) {
			i := 0
			for got[i] == msg[i] {
				i++
			}
			return fmt.Errorf("message %d: echo differs at byte %d of %d (got %#x, want %#x)", seq, i, size, got[i], msg[i])
		}
		*count++
	}
}

func ioErr(ctx context.Context, op string, seq uint64, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("message %d: %s: %w", seq, op, err)
}

// ParseResult reads the numbers back from a "result ..." line: messages per second and the
// p50 and p99 round trips.
func ParseResult(line string) (msgs int64, perSec float64, p50, p99 time.Duration, err error) {
	kv, err := harness.ParseKV(line, "result")
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("echo result: %w", err)
	}
	if msgs, err = kv.Int("msgs"); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("echo result: %w", err)
	}
	if perSec, err = kv.Float("msgs_per_sec"); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("echo result: %w", err)
	}
	var a, b float64
	if a, err = kv.Float("p50_us"); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("echo result: %w", err)
	}
	if b, err = kv.Float("p99_us"); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("echo result: %w", err)
	}
	return msgs, perSec, time.Duration(a * float64(time.Microsecond)), time.Duration(b * float64(time.Microsecond)), nil
}
