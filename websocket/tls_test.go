package websocket

// WebSocket over TLS (wss://) with gorilla/websocket: echo through Send,
// Write and Writev (text and binary, up to 1 MiB), the close handshake
// from either side, and Broadcast to several clients on two loops.

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/uringnet/uringnet/internal/testcert"
)

var testPair = sync.OnceValue(func() *testcert.Pair {
	p, err := testcert.New()
	if err != nil {
		panic(err)
	}
	return p
})

// tlsProbeClient is a net/http client trusting the test CA.
func tlsProbeClient() *nethttp.Client {
	return &nethttp.Client{Transport: &nethttp.Transport{TLSClientConfig: testPair().ClientConfig()}, Timeout: 10 * time.Second}
}

// startTLS is start with the server speaking TLS.
func startTLS(t testing.TB, cfg Config, loops int) *env {
	t.Helper()
	return startWith(t, cfg, loops, testPair().ServerConfig())
}

// dialWSS opens a gorilla client over wss:// to path, with the TLS version
// at most maxVersion (0: any).
func (e *env) dialWSS(path string, maxVersion uint16) *gorilla.Conn {
	e.t.Helper()
	cc := testPair().ClientConfig()
	cc.MaxVersion = maxVersion
	d := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: cc}
	c, resp, err := d.Dial("wss://"+e.addr+path, nil)
	if err != nil {
		e.t.Fatalf("dial wss %s: %v (%v)", path, err, resp)
	}
	e.t.Cleanup(func() { c.Close() })
	if st, ok := c.NetConn().(*tls.Conn); !ok || (maxVersion != 0 && st.ConnectionState().Version != maxVersion) {
		e.t.Fatalf("dial wss %s: not the TLS connection asked for (%T)", path, c.NetConn())
	}
	return c
}

func TestTLSEcho(t *testing.T) {
	e := startTLS(t, Config{}, 1)
	rnd := rand.New(rand.NewPCG(1, 2))
	bin := make([]byte, 1<<20)
	for i := range bin {
		bin[i] = byte(rnd.Uint32())
	}
	text := []byte(strings.Repeat("héllo, wörld — ", (1<<20)/18))
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, path := range []string{"/ws", "/write", "/writev"} {
			t.Run(fmt.Sprintf("%s/%#x", path[1:], v), func(t *testing.T) {
				c := e.dialWSS(path, v)
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				for _, m := range []struct {
					typ  int
					data []byte
				}{
					{gorilla.TextMessage, []byte("hello")},
					{gorilla.BinaryMessage, []byte{0, 1, 2, 0xff}},
					{gorilla.TextMessage, []byte{}},
					{gorilla.BinaryMessage, bin},
					{gorilla.TextMessage, text},
					{gorilla.BinaryMessage, bin[:65536]},
					{gorilla.TextMessage, []byte("after the large ones")},
				} {
					errc := make(chan error, 1)
					go func() { errc <- c.WriteMessage(m.typ, m.data) }()
					typ, got, err := c.ReadMessage()
					if err != nil {
						t.Fatalf("%d bytes: %v", len(m.data), err)
					}
					if werr := <-errc; werr != nil {
						t.Fatal(werr)
					}
					if typ != m.typ || !bytes.Equal(got, m.data) {
						t.Fatalf("echo of %d bytes (type %d): %d bytes (type %d)", len(m.data), m.typ, len(got), typ)
					}
				}
				// Many small messages in a row, then their echoes in order.
				const n = 200
				errc := make(chan error, 1)
				go func() {
					for i := range n {
						if err := c.WriteMessage(gorilla.TextMessage, fmt.Appendf(nil, "msg %d", i)); err != nil {
							errc <- err
							return
						}
					}
					errc <- nil
				}()
				for i := range n {
					_, got, err := c.ReadMessage()
					if err != nil || string(got) != fmt.Sprintf("msg %d", i) {
						t.Fatalf("message %d: %q %v", i, got, err)
					}
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				// The client closes: the server answers with the same code.
				if err := c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, "done")); err != nil {
					t.Fatal(err)
				}
				_, _, err := c.ReadMessage()
				var ce *gorilla.CloseError
				if !errors.As(err, &ce) || ce.Code != 1000 {
					t.Fatalf("after the client's close: %v", err)
				}
				c.Close()
			})
		}
	}
	// The server closes: the client gets the code and reason.
	c := e.dialWSS("/ws", 0)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := c.WriteMessage(gorilla.TextMessage, []byte("close 4001 server says bye")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage()
	var ce *gorilla.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "server says bye" {
		t.Fatalf("server close: %v", err)
	}
	c.Close()
	waitFor(t, "every connection closed", func() bool { return e.hs.Stats().ConnsOpen == 0 })
	if st := e.hs.Stats(); st.TLSHandshakes != 8 || // 7 and the start probe
		st.TLSRecordErrors != 0 || st.TLSHandshakeErrors != 0 {
		t.Fatalf("stats: %s", st)
	}
	e.checkBaseline()
}

// TestTLSBroadcast broadcasts over TLS: every client of /chat, on two
// loops, gets every message once, in each sender's order; the shared
// frames are sealed per client.
func TestTLSBroadcast(t *testing.T) {
	e := startTLS(t, Config{}, 2)
	const clients, perClient = 8, 50
	conns := make([]*gorilla.Conn, clients)
	for i := range conns {
		conns[i] = e.dialWSS("/chat", 0)
	}
	for range clients {
		<-e.h.opened
	}
	waitFor(t, "every client in the room", func() bool {
		e.h.mu.Lock()
		defer e.h.mu.Unlock()
		return len(e.h.room) == clients
	})
	var wg sync.WaitGroup
	errs := make(chan error, 2*clients)
	for i, c := range conns {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for k := range perClient {
				msg := fmt.Appendf(nil, "%d %d %s", i, k, strings.Repeat("x", (k*997)%3000))
				if err := c.WriteMessage(gorilla.TextMessage, msg); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			next := make([]int, clients)
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			for range clients * perClient {
				_, m, err := c.ReadMessage()
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				var from, k int
				var pad string
				fmt.Sscanf(string(m), "%d %d %s", &from, &k, &pad)
				if from < 0 || from >= clients || k != next[from] || len(pad) != (k*997)%3000 {
					errs <- fmt.Errorf("client %d: got %.20q, want message %d from %d", i, m, next[from], from)
					return
				}
				next[from]++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""))
		c.Close()
	}
	waitFor(t, "every connection closed", func() bool { return e.hs.Stats().ConnsOpen == 0 })
	if st := e.hs.Stats(); st.TLSRecordErrors != 0 || st.TLSHandshakeErrors != 0 {
		t.Fatalf("stats: %s", st)
	}
	e.checkBaseline()
}

// TestTLSSlowConsumer: a wss client that sends and never reads what comes
// back is cut off (its queue passes the limits while the kernel takes
// nothing), and everything it held is released.
func TestTLSSlowConsumer(t *testing.T) {
	e := startTLS(t, Config{MaxQueuedBytes: 64 << 10, StallTimeout: 200 * time.Millisecond, CloseTimeout: 300 * time.Millisecond}, 1)
	cc := testPair().ClientConfig()
	d := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: cc, NetDialContext: stingyDialer.DialContext}
	c, resp, err := d.Dial("wss://"+e.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer c.Close()
	sc := <-e.h.opened
	msg := make([]byte, 16<<10)
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	sent := 0
	for ; sent < 4096 && !e.h.isClosed(sc); sent++ {
		if err := c.WriteMessage(gorilla.BinaryMessage, msg); err != nil {
			break // the server closed
		}
	}
	waitFor(t, "the slow consumer closed", func() bool { return e.h.isClosed(sc) })
	t.Logf("the client sent %d messages of 16 KiB before it was cut off", sent)
	c.Close()
	waitFor(t, "every connection closed", func() bool { return e.hs.Stats().ConnsOpen == 0 })
	e.checkBaseline()
}
