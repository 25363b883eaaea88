package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// The harness of the NATS tests (nats_test.go): demo instances in child
// processes (this test binary, re-executed), each on its own port and
// joined by one nats-server, and chat clients that check what they
// receive.

// natsChildEnv holds the child's flags, space-separated.
const natsChildEnv = "URINGNET_NATS_CHILD"

// TestNATSChild is the child: the demo with the flags of natsChildEnv,
// until SIGTERM (or SIGKILL).
func TestNATSChild(t *testing.T) {
	args := os.Getenv(natsChildEnv)
	if args == "" {
		t.Skip("the NATS tests' child process")
	}
	o, err := parseFlags(strings.Fields(args), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	if err := run(o, os.Stdout, sig); err != nil {
		t.Fatal(err)
	}
}

// instance is a demo child process as the test sees it.
type instance struct {
	name   string
	addr   string
	cmd    *exec.Cmd
	stderr *syncBuf
	exited chan struct{} // closed once the child has been waited for
	client *nethttp.Client
}

// startInstance starts a demo child on 127.0.0.1:0 with -nats natsURL and
// the extra flags, and waits for it to listen. It is stopped (SIGTERM,
// then SIGKILL) at the end of the test, and its log is shown if the test
// failed.
func startInstance(t *testing.T, name, natsURL string, extra ...string) *instance {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-access-log=false", "-log-level", "warn", "-loops", "2",
		"-big-file", "1024", "-nats", natsURL, "-nats-name", name}, extra...)
	cmd := exec.Command(os.Args[0], "-test.run=^TestNATSChild$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), natsChildEnv+"="+strings.Join(args, " "))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in := &instance{name: name, cmd: cmd, stderr: &syncBuf{}, exited: make(chan struct{}),
		client: &nethttp.Client{Timeout: 10 * time.Second}}
	cmd.Stderr = in.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addrc <- a
			}
		}
		io.Copy(io.Discard, pipe)
		cmd.Wait()
		close(in.exited)
	}()
	t.Cleanup(func() {
		in.client.CloseIdleConnections()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop on SIGTERM", name)
			cmd.Process.Kill()
			<-in.exited
		}
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, in.stderr)
		}
	})
	select {
	case in.addr = <-addrc:
		return in
	case <-in.exited:
		t.Fatalf("%s exited without listening: %v\n%s", name, cmd.ProcessState, in.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start", name)
	}
	return nil
}

// kill ends the instance with SIGKILL and waits for it.
func (in *instance) kill() {
	in.cmd.Process.Kill()
	<-in.exited
}

// stats reads the instance's /stats.json.
func (in *instance) stats() (statsJSON, error) {
	var s statsJSON
	resp, err := in.client.Get("http://" + in.addr + "/stats.json")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return s, fmt.Errorf("%s/stats.json: %s", in.name, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("%s/stats.json: %w", in.name, err)
	}
	if s.Rooms == nil || s.Rooms.BusTraffic == nil || s.Bus == nil {
		return s, fmt.Errorf("%s/stats.json: no rooms or bus counters (rooms %v, bus %v)", in.name, s.Rooms, s.Bus)
	}
	return s, nil
}

// poll calls cond every 100 ms until it returns nil, and fails the test
// with its last error if that takes longer than limit.
func poll(t *testing.T, what string, limit time.Duration, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v: %v", what, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitPresence waits until every instance in insts counts want members in
// /chat across the instances, and local[i] of its own. An instance counts
// another's members once it has received that one's heartbeat: each is
// then subscribed to the room, and a message sent after this reaches every
// instance.
func waitPresence(t *testing.T, insts []*instance, local []int, want int, limit time.Duration) time.Duration {
	t.Helper()
	return poll(t, fmt.Sprintf("every instance counting %d chat members", want), limit, func() error {
		for i, in := range insts {
			s, err := in.stats()
			if err != nil {
				return err
			}
			if s.Rooms.ChatMembers != local[i] || s.Rooms.ChatPresence != want {
				return fmt.Errorf("%s: %d members here, %d in all (want %d and %d); bus %+v",
					in.name, s.Rooms.ChatMembers, s.Rooms.ChatPresence, local[i], want, *s.Bus)
			}
		}
		return nil
	})
}

// chatMsg is the text of message seq from sender (tag marks a phase of
// the test, "-" for none).
func chatMsg(sender, seq int, tag string) string {
	return "m " + strconv.Itoa(sender) + " " + strconv.Itoa(seq) + " " + tag
}

// parseChatMsg undoes chatMsg.
func parseChatMsg(b []byte) (sender, seq int, tag string, ok bool) {
	f := strings.Fields(string(b))
	if len(f) != 4 || f[0] != "m" {
		return 0, 0, "", false
	}
	sender, err1 := strconv.Atoi(f[1])
	seq, err2 := strconv.Atoi(f[2])
	return sender, seq, f[3], err1 == nil && err2 == nil
}

// chatClient is a gorilla/websocket client in /chat of one instance. Its
// reader records, per sender, how many messages arrived and whether they
// came in order, once each; its sender (send) numbers its messages from 1.
type chatClient struct {
	id   int
	inst int // index of its instance
	conn *gorilla.Conn
	sent atomic.Int64  // messages written
	done chan struct{} // closed when the reader stops

	mu       sync.Mutex
	got      map[int]int // sender: messages received
	last     map[int]int // sender: the last number received
	faults   []string    // out of order or twice
	localOut int         // messages from same-instance senders received while the bus was out
	readErr  error
}

// dialChat connects a client to in's /chat; inst is in's index, and
// senderInst maps a sender's id to its instance's (for the local count
// during an outage, which outage tells).
func dialChat(t *testing.T, id, inst int, in *instance, senderInst func(int) int, outage *atomic.Bool) *chatClient {
	t.Helper()
	d := gorilla.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.Dial("ws://"+in.addr+"/chat", nil)
	if err != nil {
		t.Fatalf("client %d: dial %s: %v", id, in.name, err)
	}
	c := &chatClient{id: id, inst: inst, conn: conn, done: make(chan struct{}), got: map[int]int{}, last: map[int]int{}}
	t.Cleanup(func() {
		conn.Close()
		<-c.done
	})
	go c.read(senderInst, outage)
	return c
}

// read records what arrives until the connection ends.
func (c *chatClient) read(senderInst func(int) int, outage *atomic.Bool) {
	defer close(c.done)
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		sender, seq, _, ok := parseChatMsg(b)
		if !ok {
			continue
		}
		c.mu.Lock()
		if seq <= c.last[sender] {
			if len(c.faults) < 10 {
				c.faults = append(c.faults, fmt.Sprintf("from %d: #%d after #%d", sender, seq, c.last[sender]))
			}
		} else {
			c.last[sender] = seq
			c.got[sender]++
			if outage != nil && outage.Load() && senderInst(sender) == c.inst {
				c.localOut++
			}
		}
		c.mu.Unlock()
	}
}

// send writes n messages (n < 0: until stop is closed), one every gap,
// tagged by tag(); it stops at the first error.
func (c *chatClient) send(n int, gap time.Duration, stop <-chan struct{}, tag func() string) error {
	t := time.NewTicker(gap)
	defer t.Stop()
	for i := 0; n < 0 || i < n; i++ {
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
		seq := int(c.sent.Load()) + 1
		c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := c.conn.WriteMessage(gorilla.TextMessage, []byte(chatMsg(c.id, seq, tag()))); err != nil {
			return fmt.Errorf("client %d: send #%d: %w", c.id, seq, err)
		}
		c.sent.Store(int64(seq))
	}
	return nil
}

// received returns how many messages from sender arrived.
func (c *chatClient) received(sender int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[sender]
}

// checkOrder reports the messages that came out of order or twice.
func (c *chatClient) checkOrder(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.faults) > 0 {
		t.Errorf("client %d (instance %d): messages out of order or twice: %v", c.id, c.inst, c.faults)
	}
}
