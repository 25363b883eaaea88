package echo

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// startServer runs a Server on a loopback port until the test ends.
func startServer(t *testing.T) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := new(Server)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.CloseConns()
	})
	return s, ln.Addr().String()
}

func TestLoadAgainstServer(t *testing.T) {
	for _, size := range []int{1, 64, 16 << 10, 100_000} {
		s, addr := startServer(t)
		cfg := LoadConfig{Addr: addr, Conns: 4, Size: size, Duration: 200 * time.Millisecond}
		res, err := RunLoad(context.Background(), cfg)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if res.Messages == 0 || res.Latency.Count() != res.Messages || res.PerSec() <= 0 {
			t.Errorf("size %d: %+v", size, res)
		}
		if res.Elapsed < cfg.Duration {
			t.Errorf("size %d: elapsed %v < %v", size, res.Elapsed, cfg.Duration)
		}
		// Round trips went through the server: it saw exactly the bytes of every message.
		time.Sleep(50 * time.Millisecond)
		kv, err := harness.ParseKV(s.StatsLine(), "stats")
		if err != nil {
			t.Fatal(err)
		}
		in, _ := kv.Int("bytes_in")
		acc, _ := kv.Int("accepted")
		if acc != 4 || in != int64(res.Messages)*int64(size) {
			t.Errorf("size %d: server stats %q, want accepted=4 bytes_in=%d", size, s.StatsLine(), int64(res.Messages)*int64(size))
		}
		msgs, perSec, p50, p99, err := ParseResult(res.Line(cfg))
		if err != nil || msgs != int64(res.Messages) || perSec <= 0 || p50 <= 0 || p99 < p50 {
			t.Errorf("ParseResult(%q) = %d %v %v %v %v", res.Line(cfg), msgs, perSec, p50, p99, err)
		}
	}
}

// badServer echoes with one byte changed from the 100th message on, or closes at once.
func badServer(t *testing.T, mode string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if mode == "close" {
					return
				}
				buf := make([]byte, 64)
				for n := 0; ; n++ {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					if n >= 100 {
						buf[k-1] ^= 0xff
					}
					c.Write(buf[:k])
				}
			})
		}
	})
	return ln.Addr().String()
}

func TestLoadCatchesWrongEcho(t *testing.T) {
	cfg := LoadConfig{Addr: badServer(t, "flip"), Conns: 2, Size: 32, Duration: 5 * time.Second, Grace: time.Second}
	start := time.Now()
	_, err := RunLoad(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "differs at byte 31") {
		t.Errorf("RunLoad = %v, want a wrong-echo error", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("the failure did not end the run early (%v)", time.Since(start))
	}
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := RunLoad(ctx, LoadConfig{Addr: "x", Conns: 0, Size: 1, Duration: time.Second}); err == nil {
		t.Error("zero connections accepted")
	}
	_, err := RunLoad(ctx, LoadConfig{Addr: badServer(t, "close"), Conns: 2, Size: 8, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "read echo") {
		t.Errorf("closing server: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := RunLoad(ctx, LoadConfig{Addr: addr, Conns: 1, Size: 8, Duration: time.Second}); err == nil || !strings.Contains(err.Error(), "dial") {
		t.Errorf("no server: %v", err)
	}
	// Cancelling the caller's context ends the run without an error once messages flowed.
	_, good := startServer(t)
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	res, err := RunLoad(cctx, LoadConfig{Addr: good, Conns: 2, Size: 8, Duration: time.Minute})
	if err != nil || res.Messages == 0 || res.Elapsed > 10*time.Second {
		t.Errorf("cancelled run: %+v, %v", res, err)
	}
}

func TestFill(t *testing.T) {
	seen := map[string]bool{}
	for conn := range uint64(3) {
		for seq := range uint64(3) {
			for _, size := range []int{1, 16, 40} {
				b := make([]byte, size)
				fill(b, conn, seq)
				key := string(b)
				if size >= 16 && seen[key] {
					t.Errorf("fill(%d, %d) of %d bytes repeats an earlier message", conn, seq, size)
				}
				seen[key] = true
			}
		}
	}
}

func TestParseResultErrors(t *testing.T) {
	for _, line := range []string{
		"stats msgs=1",
		"result msgs_per_sec=1 p50_us=1 p99_us=1",
		"result msgs=1 p50_us=1 p99_us=1",
		"result msgs=1 msgs_per_sec=1 p99_us=1",
		"result msgs=1 msgs_per_sec=1 p50_us=1",
	} {
		if _, _, _, _, err := ParseResult(line); err == nil {
			t.Errorf("ParseResult(%q) succeeded", line)
		}
	}
	if (LoadResult{}).PerSec() != 0 {
		t.Error("PerSec of an empty result")
	}
}

func TestOpenIdle(t *testing.T) {
	s, addr := startServer(t)
	conns, err := OpenIdle(context.Background(), addr, 200, 16, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 200 || s.accepted.Load() != 200 {
		t.Errorf("%d connections, server accepted %d", len(conns), s.accepted.Load())
	}
	CloseAll(conns)
	deadline := time.Now().Add(5 * time.Second)
	for s.closed.Load() != 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.closed.Load() != 200 {
		t.Errorf("server closed %d of 200", s.closed.Load())
	}
	if _, err := OpenIdle(context.Background(), badServer(t, "close"), 5, 2, 5*time.Second); err == nil {
		t.Error("OpenIdle against a closing server succeeded")
	}
	if _, err := OpenIdle(context.Background(), addr, 1, 0, time.Second); err == nil {
		t.Error("parallel=0 accepted")
	}
}

func TestServeErrors(t *testing.T) {
	var s Server
	if err := s.Serve(failingListener{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Serve = %v", err)
	}
}

type failingListener struct{ net.Listener }

func (failingListener) Accept() (net.Conn, error) { return nil, errors.New("boom") }

func FuzzParseResult(f *testing.F) {
	f.Add("result conns=64 size=64 msgs=1000 secs=5.000 msgs_per_sec=200 p50_us=150.0 p99_us=900.5 max_us=1000.0")
	f.Add("result msgs=1 msgs_per_sec=NaN p50_us=1e3 p99_us=-1")
	f.Fuzz(func(t *testing.T, line string) {
		_, _, _, _, err := ParseResult(line)
		if err == nil && !strings.Contains(line, "result") {
			t.Fatalf("ParseResult(%q) succeeded without the tag", line)
		}
	})
}

// TestLoadAtRate: with Rate set, the load sends on a schedule: about Rate x Duration messages
// (never more than the schedule allows), every echo still checked.
func TestLoadAtRate(t *testing.T) {
	_, addr := startServer(t)
	cfg := LoadConfig{Addr: addr, Conns: 4, Size: 100, Duration: 500 * time.Millisecond, Rate: 400}
	res, err := RunLoad(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 200 scheduled sends; a busy machine may lose some, but none beyond the schedule.
	if res.Messages > 200+uint64(cfg.Conns) || res.Messages < 60 {
		t.Errorf("messages = %d, want about 200", res.Messages)
	}
	if !strings.Contains(res.Line(cfg), " rate=400 ") {
		t.Errorf("line %q lacks the rate", res.Line(cfg))
	}
	if _, err := RunLoad(context.Background(), LoadConfig{Addr: addr, Conns: 1, Size: 1, Duration: time.Second, Rate: -1}); err == nil {
		t.Error("negative rate accepted")
	}
}
