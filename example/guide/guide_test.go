// Package guide_test builds and runs the guide's programs (docs/guide.md):
// each must start, do what the guide says, and stop cleanly on SIGTERM.
package guide_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// program is a built guide program, running.
type program struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  []string // stdout lines
	done chan struct{}
}

// start builds ./NAME and runs it with -addr 127.0.0.1:0 and args.
func start(t *testing.T, name string, args ...string) *program {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "./"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", name, err, out)
	}
	p := &program{cmd: exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				ready <- a
			}
		}
	}()
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	select {
	case p.addr = <-ready:
	case <-p.done:
		t.Fatalf("%s exited before listening", name)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no listening line", name)
	}
	return p
}

// stop sends SIGTERM and returns the last line printed; the program must
// exit with status 0.
func (p *program) stop(t *testing.T) string {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out[len(p.out)-1]
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestEcho(t *testing.T) {
	p := start(t, "echo")
	c := dial(t, p.addr)
	msg := strings.Repeat("echo me ", 1000)
	go c.Write([]byte(msg))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo: %v, %d bytes", err, len(got))
	}
	c.Close()
	if last := p.stop(t); !strings.HasPrefix(last, "stats conns_open=0 accepted=1 ") {
		t.Errorf("last line %q", last)
	}
}

func TestHello(t *testing.T) {
	p := start(t, "hello")
	for path, want := range map[string]string{
		"/hello?name=gopher": "Hello, gopher!\n",
		"/slow":              "done after 100 ms\n",
		"/":                  "try /hello?name=you or /slow\n",
	} {
		resp, err := http.Get("http://" + p.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, b)
		}
	}
	resp, err := http.Get("http://" + p.addr + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /nope: %d", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	if last := p.stop(t); !strings.HasSuffix(last, "requests=4") {
		t.Errorf("last line %q", last)
	}
}

func TestEvents(t *testing.T) {
	p := start(t, "events", "-every", "50ms")
	c := dial(t, p.addr)
	r := bufio.NewReader(c)
	// EventPrepare (a command to the loop) and EventTrigger (a write to
	// the eventfd) may be handled in either order, so a tick may repeat
	// the info before it; the ticks still move on.
	var first, line string
	for i := range 4 {
		var err error
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatalf("tick %d: %v", i, err)
		}
		if !strings.HasPrefix(line, "tick ") {
			t.Fatalf("line %q", line)
		}
		if i == 0 {
			first = line
		}
	}
	if line == first {
		t.Fatalf("four ticks, all %q", line)
	}
	c.Close()
	if last := p.stop(t); !strings.HasPrefix(last, "stats ") || strings.Contains(last, " events=0") {
		t.Errorf("last line %q", last)
	}
}

func TestBatch(t *testing.T) {
	p := start(t, "batch")
	for range 3 {
		c := dial(t, p.addr)
		b, err := io.ReadAll(c) // the group ends with a close: EOF
		c.Close()
		if err != nil || string(b) != "uringnet batch demo\nthese two lines were written by one linked group\n" {
			t.Fatalf("banner %q, %v", b, err)
		}
	}
	if last := p.stop(t); !strings.HasSuffix(last, " writes=6 failed=0") {
		t.Errorf("last line %q", last)
	}
}

func TestChat(t *testing.T) {
	p := start(t, "chat")
	resp, err := http.Get("http://" + p.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if !strings.Contains(string(b), `id="message"`) {
		t.Fatalf("page: %d %q", resp.StatusCode, b)
	}
	var conns []*websocket.Conn
	for range 2 {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		conns = append(conns, c)
	}
	// Both are members once the handshakes are done: one message reaches both.
	if err := conns[0].WriteMessage(websocket.TextMessage, []byte("hello room")); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		_, msg, err := c.ReadMessage()
		if err != nil || string(msg) != "hello room" {
			t.Fatalf("client %d: %q, %v", i, msg, err)
		}
		c.Close()
	}
	if last := p.stop(t); !strings.HasSuffix(last, " upgrades=2") {
		t.Errorf("last line %q", last)
	}
}
