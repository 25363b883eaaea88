package wsbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/bench/internal/harness"
)

// StatsLine fetches GET /stats?room=ROOM from a bench/roomsd instance: its
// "stats key=value ..." line.
func StatsLine(ctx context.Context, addr, room string) (harness.KV, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := "http://" + addr + "/stats"
	if room != "" {
		u += "?room=" + url.QueryEscape(room)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	line, err := harness.FindLine(string(b), "stats")
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return harness.ParseKV(line, "stats")
}

// WaitPresence waits until every instance counts want members in each of
// rooms (presence=: its own and, from their heartbeats, the others'),
// which says that every instance has subscribed to the rooms on the bus
// and hears the others.
func WaitPresence(ctx context.Context, addrs, rooms []string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range addrs {
		for _, room := range rooms {
			for {
				kv, err := StatsLine(ctx, addr, room)
				if err != nil {
					return err
				}
				n, err := kv.Int("presence")
				if err != nil {
					return err
				}
				if n == int64(want) {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("room %s on %s: presence %d, want %d after %v", room, addr, n, want, timeout)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	return nil
}

// BusConfig describes a run of messages through the bus between
// instances of bench/roomsd.
type BusConfig struct {
	Addrs    []string // the instances (at least 2)
	Senders  int      // senders, each with a room of its own
	Size     int      // message size (at least 16)
	Duration time.Duration
	// Window is how many messages each sender may have in flight (sent
	// and not yet received on the other instance): the senders go as
	// fast as the servers and the bus take them, without outrunning
	// their bounds.
	Window int
}

// BusResult is the outcome of a bus run.
type BusResult struct {
	Sent     uint64        // messages the senders sent
	Received uint64        // ... the receivers on the other instance got
	Self     uint64        // ... the senders got back (their own room's local copy)
	Missing  uint64        // sent and never received (after the drain)
	Disorder uint64        // received out of order (a gap or a repeat)
	Send     time.Duration // from the first send to the last
	Elapsed  time.Duration // from the first send to the last receipt
	Latency  *harness.Histogram
}

// Line formats the result as a "result key=value ..." line.
func (r BusResult) Line(cfg BusConfig) string {
	return fmt.Sprintf("result senders=%d size=%d window=%d sent=%d received=%d self=%d missing=%d disorder=%d "+
		"send_secs=%.6f secs=%.6f sent_per_sec=%.0f received_per_sec=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f",
		cfg.Senders, cfg.Size, cfg.Window, r.Sent, r.Received, r.Self, r.Missing, r.Disorder,
		r.Send.Seconds(), r.Elapsed.Seconds(), float64(r.Sent)/r.Send.Seconds(), float64(r.Received)/r.Elapsed.Seconds(),
		float64(r.Latency.Quantile(0.5))/1e3, float64(r.Latency.Quantile(0.99))/1e3, float64(r.Latency.Max())/1e3)
}

// BusRoom is the room of sender i in a bus run.
func BusRoom(i int) string { return fmt.Sprintf("bus%d", i) }

// Bus runs the bus load: sender i is a member of its own room on
// instance i mod N and sends cfg.Size-byte binary messages into it, at
// most cfg.Window in flight, for cfg.Duration; the room's other member,
// the receiver, is on the next instance, so every message crosses the
// bus once (the sender also gets its own copy, locally, and discards
// it). Receivers check each message's sender and order and record its
// latency. After the senders stop, the receivers get up to 10 s to
// catch up; what never arrives is Missing.
func Bus(ctx context.Context, cfg BusConfig) (BusResult, error) {
	var res BusResult
	if len(cfg.Addrs) < 2 || cfg.Senders < 1 || cfg.Size < 16 || cfg.Window < 1 {
		return res, errors.New("bus: want 2 or more instances, 1 or more senders, size >= 16, window >= 1")
	}
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 64 << 10, WriteBufferSize: 4096,
		NetDialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext}
	dial := func(addr, room string) (*websocket.Conn, error) {
		c, _, err := d.DialContext(ctx, "ws://"+addr+"/room/"+room, nil)
		return c, err
	}
	n := len(cfg.Addrs)
	senders := make([]*websocket.Conn, cfg.Senders)
	receivers := make([]*websocket.Conn, cfg.Senders)
	names := make([]string, cfg.Senders)
	for i := range senders {
		names[i] = BusRoom(i)
		var err error
		if senders[i], err = dial(cfg.Addrs[i%n], names[i]); err != nil {
			return res, fmt.Errorf("sender %d: %w", i, err)
		}
		defer senders[i].Close()
		if receivers[i], err = dial(cfg.Addrs[(i+1)%n], names[i]); err != nil {
			return res, fmt.Errorf("receiver %d: %w", i, err)
		}
		defer receivers[i].Close()
	}
	if err := WaitPresence(ctx, cfg.Addrs, names, 2, 30*time.Second); err != nil {
		return res, err
	}

	var sent, received, self, disorder atomic.Uint64
	var lastRecv atomic.Int64 // unix ns of the latest receipt
	sentBy := make([]atomic.Uint64, cfg.Senders)
	gotBy := make([]atomic.Uint64, cfg.Senders)
	var mu sync.Mutex
	hist := &harness.Histogram{}
	errc := make(chan error, 3*cfg.Senders)
	stopRead := make(chan struct{})
	var readers sync.WaitGroup
	start := time.Now()
	stop := start.Add(cfg.Duration)
	var sendWG sync.WaitGroup
	for i := range senders {
		window := make(chan struct{}, cfg.Window)
		// The receiver: checks and counts, and gives the sender its window back.
		readers.Add(2)
		go func() {
			defer readers.Done()
			local := &harness.Histogram{}
			defer func() {
				mu.Lock()
				hist.Merge(local)
				mu.Unlock()
			}()
			var want uint64
			for {
				_, p, err := receivers[i].ReadMessage()
				if err != nil {
					select {
					case <-stopRead:
					default:
						errc <- fmt.Errorf("receiver %d: %w", i, err)
					}
					return
				}
				now := time.Now()
				if len(p) != cfg.Size || binary.LittleEndian.Uint32(p) != uint32(i) {
					errc <- fmt.Errorf("receiver %d: a message of %d bytes not from its sender", i, len(p))
					return
				}
				if seq := binary.LittleEndian.Uint32(p[4:]); uint64(seq) != want {
					disorder.Add(1)
					want = uint64(seq)
				}
				want++
				local.Record(now.Sub(time.Unix(0, int64(binary.LittleEndian.Uint64(p[8:])))))
				received.Add(1)
				gotBy[i].Add(1)
				lastRecv.Store(now.UnixNano())
				select {
				case <-window:
				default:
				}
			}
		}()
		// The sender's own copies, discarded.
		go func() {
			defer readers.Done()
			for {
				if _, _, err := senders[i].ReadMessage(); err != nil {
					select {
					case <-stopRead:
					default:
						errc <- fmt.Errorf("sender %d: %w", i, err)
					}
					return
				}
				self.Add(1)
			}
		}()
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			msg := make([]byte, cfg.Size)
			binary.LittleEndian.PutUint32(msg, uint32(i))
			for seq := uint32(0); ; seq++ {
				select {
				case window <- struct{}{}:
				case <-time.After(10 * time.Second):
					errc <- fmt.Errorf("sender %d: nothing received for 10 s", i)
					return
				}
				now := time.Now()
				if now.After(stop) {
					return
				}
				binary.LittleEndian.PutUint32(msg[4:], seq)
				binary.LittleEndian.PutUint64(msg[8:], uint64(now.UnixNano()))
				senders[i].SetWriteDeadline(now.Add(10 * time.Second))
				if err := senders[i].WriteMessage(websocket.BinaryMessage, msg); err != nil {
					errc <- fmt.Errorf("sender %d: %w", i, err)
					return
				}
				sent.Add(1)
				sentBy[i].Add(1)
			}
		}()
	}
	sendWG.Wait()
	res.Send = time.Since(start)
	// The drain: until every receiver has what its sender sent, or 10 s.
	drain := time.Now().Add(10 * time.Second)
	for time.Now().Before(drain) && received.Load() < sent.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	close(stopRead)
	for i := range senders {
		senders[i].Close()
		receivers[i].Close()
	}
	readers.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return res, err
	}
	res.Sent, res.Received, res.Self, res.Disorder = sent.Load(), received.Load(), self.Load(), disorder.Load()
	for i := range sentBy {
		if s, g := sentBy[i].Load(), gotBy[i].Load(); s > g {
			res.Missing += s - g
		}
	}
	res.Elapsed = time.Unix(0, lastRecv.Load()).Sub(start)
	res.Latency = hist
	return res, nil
}
