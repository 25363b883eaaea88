package wsbench

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/bench/internal/harness"
)

// EchoConfig describes one echo run.
type EchoConfig struct {
	Addr     string // host:port; the echo is at /ws
	Conns    int
	Size     int
	Duration time.Duration
}

// EchoResult is the outcome of an echo run.
type EchoResult struct {
	Messages uint64
	Elapsed  time.Duration
	Latency  *harness.Histogram
}

// PerSec returns messages per second.
func (r EchoResult) PerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Messages) / r.Elapsed.Seconds()
}

// Line formats the result as a "result key=value ..." line.
func (r EchoResult) Line(cfg EchoConfig) string {
	return fmt.Sprintf("result conns=%d size=%d msgs=%d secs=%.3f msgs_per_sec=%.0f p50_us=%.1f p99_us=%.1f",
		cfg.Conns, cfg.Size, r.Messages, r.Elapsed.Seconds(), r.PerSec(),
		float64(r.Latency.Quantile(0.5))/1e3, float64(r.Latency.Quantile(0.99))/1e3)
}

var dialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 8192, WriteBufferSize: 8192}

// Echo runs the echo load: each connection sends a binary message of
// cfg.Size bytes, waits for the identical echo, and repeats until
// cfg.Duration has passed.
func Echo(ctx context.Context, cfg EchoConfig) (EchoResult, error) {
	conns := make([]*websocket.Conn, cfg.Conns)
	for i := range conns {
		c, _, err := dialer.DialContext(ctx, "ws://"+cfg.Addr+"/ws", nil)
		if err != nil {
			return EchoResult{}, fmt.Errorf("dial %d: %w", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	var msgs atomic.Uint64
	var mu sync.Mutex
	hist := &harness.Histogram{}
	errc := make(chan error, len(conns))
	start := time.Now()
	stop := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := &harness.Histogram{}
			msg := make([]byte, cfg.Size)
			for seq := uint64(0); time.Now().Before(stop); seq++ {
				fill(msg, uint64(i), seq)
				t0 := time.Now()
				c.SetWriteDeadline(t0.Add(10 * time.Second))
				if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
					errc <- err
					return
				}
				c.SetReadDeadline(t0.Add(10 * time.Second))
				_, got, err := c.ReadMessage()
				if err != nil {
					errc <- err
					return
				}
				if !bytes.Equal(got, msg) {
					errc <- fmt.Errorf("conn %d: wrong echo of message %d", i, seq)
					return
				}
				local.Record(time.Since(t0))
				msgs.Add(1)
			}
			mu.Lock()
			hist.Merge(local)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return EchoResult{}, err
	}
	return EchoResult{Messages: msgs.Load(), Elapsed: elapsed, Latency: hist}, nil
}

// fill writes a pattern that differs per connection and message.
func fill(b []byte, conn, seq uint64) {
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:8], conn)
	binary.LittleEndian.PutUint64(hdr[8:], seq)
	n := copy(b, hdr[:])
	x := byte(conn*131 + seq*7)
	for i := n; i < len(b); i++ {
		b[i] = x
		x = x*29 + 1
	}
}

// BroadcastConfig describes a broadcast run.
type BroadcastConfig struct {
	Addr string // host:port; the room is at /chat
	// More are other instances sharing the room (bench/roomsd over NATS):
	// the clients are spread over Addr and More in turn, client 0, the
	// sender, on Addr. Before measuring, every instance's GET /stats?room=chat
	// must count Clients members (presence=): each one's subscription is up.
	More    []string
	Clients int
	Size    int
	Rounds  int           // messages, one at a time
	Pid     int           // the server's pid, for its RSS (0: not measured)
	Settle  time.Duration // wait after connecting, before measuring
}

// BroadcastResult is the outcome of a broadcast run.
type BroadcastResult struct {
	Connect   time.Duration   // time to connect every client
	RSSBefore int64           // server RSS before the clients connected (bytes)
	RSSAfter  int64           // ... and after
	Times     []time.Duration // per round: send to the last client's receipt
}

// Line formats the result as a "result key=value ..." line.
func (r BroadcastResult) Line(cfg BroadcastConfig) string {
	ts := append([]time.Duration(nil), r.Times...)
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	med, worst := ts[len(ts)/2], ts[len(ts)-1]
	per := float64(r.RSSAfter-r.RSSBefore) / float64(cfg.Clients)
	return fmt.Sprintf("result clients=%d size=%d rounds=%d connect_secs=%.2f last_ms_p50=%.2f last_ms_max=%.2f rss_before_kib=%d rss_after_kib=%d bytes_per_client=%.0f",
		cfg.Clients, cfg.Size, len(ts), r.Connect.Seconds(), float64(med)/1e6, float64(worst)/1e6,
		r.RSSBefore>>10, r.RSSAfter>>10, per)
}

// Broadcast connects cfg.Clients clients to the room, then sends one
// message at a time from client 0 and measures the time until every client
// (the sender too) has received it intact.
func Broadcast(ctx context.Context, cfg BroadcastConfig) (BroadcastResult, error) {
	var res BroadcastResult
	if cfg.Pid != 0 {
		rss, err := harness.RSS(cfg.Pid, false)
		if err != nil {
			return res, err
		}
		res.RSSBefore = rss
	}
	t0 := time.Now()
	conns := make([]*websocket.Conn, cfg.Clients)
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
		NetDialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext}
	addrs := append([]string{cfg.Addr}, cfg.More...)
	for i := range conns {
		addr := addrs[i%len(addrs)]
		c, _, err := d.DialContext(ctx, "ws://"+addr+"/chat", nil)
		if err != nil {
			return res, fmt.Errorf("dial %d (%s): %w", i, addr, err)
		}
		defer c.Close()
		conns[i] = c
	}
	res.Connect = time.Since(t0)
	if len(cfg.More) > 0 {
		if err := WaitPresence(ctx, addrs, []string{"chat"}, cfg.Clients, 30*time.Second); err != nil {
			return res, err
		}
	}
	time.Sleep(cfg.Settle)
	if cfg.Pid != 0 {
		rss, err := harness.RSS(cfg.Pid, false)
		if err != nil {
			return res, err
		}
		res.RSSAfter = rss
	}
	// Every client reads in its own goroutine and reports each message.
	type got struct {
		round int
		at    time.Time
		err   error
	}
	recv := make(chan got, cfg.Clients)
	for _, c := range conns {
		go func() {
			for {
				_, p, err := c.ReadMessage()
				if err != nil {
					recv <- got{round: -1, err: err}
					return
				}
				if len(p) != cfg.Size {
					recv <- got{round: -1, err: fmt.Errorf("message of %d bytes, want %d", len(p), cfg.Size)}
					return
				}
				recv <- got{round: int(binary.LittleEndian.Uint64(p)), at: time.Now()}
			}
		}()
	}
	msg := make([]byte, cfg.Size)
	for round := 0; round < cfg.Rounds; round++ {
		binary.LittleEndian.PutUint64(msg, uint64(round))
		sent := time.Now()
		if err := conns[0].WriteMessage(websocket.TextMessage, msg); err != nil {
			return res, err
		}
		var last time.Time
		deadline := time.After(60 * time.Second)
		for n := 0; n < cfg.Clients; n++ {
			select {
			case g := <-recv:
				if g.err != nil {
					return res, fmt.Errorf("round %d: %w", round, g.err)
				}
				if g.round != round {
					return res, fmt.Errorf("round %d: got message of round %d", round, g.round)
				}
				if g.at.After(last) {
					last = g.at
				}
			case <-deadline:
				return res, fmt.Errorf("round %d: %d of %d clients got the message in 60 s", round, n, cfg.Clients)
			}
		}
		res.Times = append(res.Times, last.Sub(sent))
		time.Sleep(100 * time.Millisecond)
	}
	if len(res.Times) == 0 {
		return res, errors.New("no round")
	}
	return res, nil
}
