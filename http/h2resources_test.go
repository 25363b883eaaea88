package http

// The resources test of issue 15 (docs/design/http2.md §7): many HTTP/2
// connections with concurrent streams each, then everything closed, and
// the server's fds, connections, streams, tasks and goroutines back where
// they were.

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2resStreams is the streams each connection of TestH2Resources opens at
// once.
const h2resStreams = 10

// h2resExchange writes the preface and h2resStreams GET /plaintext on c
// in one write, and reads until every stream has ended, checking each
// answer.
func h2resExchange(c net.Conn) error {
	bw := bufio.NewWriter(c)
	w := http2.NewFramer(bw, nil)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	bw.WriteString(http2.ClientPreface)
	w.WriteSettings()
	for i := range h2resStreams {
		hb.Reset()
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "x"}, {":path", "/plaintext"}} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		w.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	r := http2.NewFramer(bw, c) // SETTINGS acks go out through bw
	r.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	status := map[uint32]string{}
	body := map[uint32][]byte{}
	ended := 0
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for ended < h2resStreams {
		f, err := r.ReadFrame()
		if err != nil {
			return fmt.Errorf("after %d streams: %v", ended, err)
		}
		id := f.Header().StreamID
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				r.WriteSettingsAck()
				if err := bw.Flush(); err != nil {
					return err
				}
			}
			continue
		case *http2.MetaHeadersFrame:
			if status[id] == "" {
				status[id] = f.PseudoValue("status")
			}
		case *http2.DataFrame:
			body[id] = append(body[id], f.Data()...)
		case *http2.RSTStreamFrame:
			return fmt.Errorf("stream %d reset: %v", id, f.ErrCode)
		case *http2.GoAwayFrame:
			return fmt.Errorf("GOAWAY(%v) %q", f.ErrCode, f.DebugData())
		default:
			continue
		}
		if f.Header().Flags.Has(http2.FlagDataEndStream) { // END_STREAM, same bit on HEADERS
			if status[id] != "200" || !bytes.Equal(body[id], helloBody) {
				return fmt.Errorf("stream %d: %q %q", id, status[id], body[id])
			}
			ended++
		}
	}
	return nil
}

func TestH2Resources(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	ensureNoFile(t, uint64(2*n+512))
	warmNetpoll(t)
	cfg := Config{}
	cfg.Net.Loops = 2
	s, _, _ := startHTTP(t, cfg)
	<-s.Ready()
	time.Sleep(50 * time.Millisecond) // the loops armed
	baseFDs, baseTasks, baseNS, baseG := countFDs(t), s.Stats().TasksInFlight, s.Stats().StreamsOpen, runtime.NumGoroutine()

	start := time.Now()
	closeAll := make(chan struct{})
	sem := make(chan struct{}, 64) // connections dialling and exchanging at once
	var (
		wg, opened sync.WaitGroup
		mu         sync.Mutex
		errs       []error
	)
	for i := range n {
		wg.Add(1)
		opened.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			c, err := net.DialTimeout("tcp", s.Addr().String(), 10*time.Second)
			if err == nil {
				err = h2resExchange(c)
			}
			<-sem
			opened.Done()
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("connection %d: %v", i, err))
				mu.Unlock()
			}
			if c != nil {
				<-closeAll // every connection stays open until all have been served
				c.Close()
			}
		}()
	}
	opened.Wait()
	served := time.Since(start)
	c := s.Counters().HTTP2
	if len(errs) == 0 && (c.ConnsOpen != int64(n) || c.Conns != uint64(n) || c.Streams != uint64(n*h2resStreams)) {
		errs = append(errs, fmt.Errorf("all served: %+v", c))
	}
	close(closeAll)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, the first: %v", len(errs), errs[0])
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		c := s.Counters().HTTP2
		st := s.Stats()
		fds, g := countFDs(t), runtime.NumGoroutine()
		if c.ConnsOpen == 0 && c.StreamsOpen == 0 && st.StreamsOpen == baseNS && st.TasksInFlight == baseTasks &&
			fds <= baseFDs && g <= baseG+5 {
			t.Logf("%d connections × %d streams served in %v, all closed in %v", n, h2resStreams,
				served.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not back to the start: fds %d (%d), tasks %d (%d), netserver streams %d (%d), goroutines %d (%d); %+v",
				fds, baseFDs, st.TasksInFlight, baseTasks, st.StreamsOpen, baseNS, g, baseG, c)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c := s.Counters().HTTP2; c.Conns != uint64(n) || c.Streams != uint64(n*h2resStreams) || c.GoAwaySent != 0 || c.ResetsSent != 0 {
		t.Fatalf("counters: %+v", c)
	}
}
