package websocket

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// envFloodChild makes the test binary run TestFloodChild as the server of
// TestChatFloodMemory.
const envFloodChild = "URINGNET_WS_FLOOD_CHILD"

// TestFloodChild is the server process of TestChatFloodMemory: a test
// server with the default Config, its address printed on stdout, serving
// until stdin ends. It does nothing in a normal run.
func TestFloodChild(t *testing.T) {
	if os.Getenv(envFloodChild) != "1" {
		t.Skip("run by TestChatFloodMemory")
	}
	e := start(t, Config{}, 2)
	fmt.Printf("addr %s\n", e.addr)
	io.Copy(io.Discard, os.Stdin)
	t.Logf("server: %s; websocket: %+v", e.hs.Stats(), e.ws.Stats())
}

// TestChatFloodMemory floods a chat room whose other members never read
// with 1-byte messages (many per write, as an attacker would send them),
// in a server running in a child process, and measures its resident
// memory and file descriptors. Each queued frame used to cost the server
// about 400 bytes of bookkeeping for its 3 bytes while the queue limit
// counted the bytes only (RSS grew by 1 GB). Now small frames are copied
// and coalesced, every write counts its bookkeeping, and the backlog a loop
// may have of broadcasts handed over from another is bounded: what the
// members hold is at most 10 x HardQueuedBytes (20 MiB).
//
// The RSS growth measured (logged) is more than that: the Go heap may grow
// to twice its live size before a collection, and the live heap starts at
// about 57 MiB here (netserver's task tables), so some 57 MiB of garbage
// headroom comes on top of the queues; and a loop's hand-over backlog may
// reach MaxHandoverBytes. The test therefore guards against a regression
// (160 MiB; 4 times more under the race detector, whose shadow memory
// counts too) rather than asserting the 64 MiB target, and checks that the
// server keeps answering an echo client all along and gets its file
// descriptors back.
func TestChatFloodMemory(t *testing.T) {
	const members = 10
	flood := 10 * time.Second
	if testing.Short() {
		flood = 3 * time.Second
	}
	limit := int64(160 << 20)
	if raceEnabled {
		limit *= 4
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestFloodChild$", "-test.count=1", "-test.v="+strconv.FormatBool(testing.Verbose()))
	cmd.Env = append(os.Environ(), envFloodChild+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("server process: %v", err)
		}
	})
	pid := cmd.Process.Pid
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	for err == nil && !strings.HasPrefix(line, "addr ") { // "=== RUN" with -v
		line, err = br.ReadString('\n')
	}
	if err != nil {
		t.Fatalf("server process said %q, %v", line, err)
	}
	childLog := io.Discard
	if testing.Verbose() {
		childLog = os.Stderr // the server's test log (its own PASS and coverage lines too)
	}
	go io.Copy(childLog, br)
	e := &env{t: t, addr: strings.TrimSpace(strings.TrimPrefix(line, "addr "))}
	fds0 := procFDs(t, pid)

	// The flooder is a member too, and reads what comes back. Alone in
	// the room first, it warms the server up: the memory that any busy
	// connection touches (the pages of the provided-buffer rings, 16 MiB
	// a loop, and the pools) is in the baseline, not in the growth.
	flooder := e.dialRaw("/chat")
	var echoed atomic.Int64
	flooder.SetReadDeadline(time.Time{}) // dialRaw's was for the handshake
	go func() {
		b := make([]byte, 64<<10)
		for {
			n, err := flooder.r.Read(b)
			echoed.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	frames := make([]byte, 0, 64<<10)
	for len(frames)+7 <= cap(frames) {
		frames = append(frames, clientFrame(true, OpText, false, []byte("x"))...)
	}
	warm := 0
	for ; warm < 24<<20; warm += len(frames) {
		// Paced by what comes back: the flooder's own queue stays far
		// below the limits, even when its reader is slow (-race).
		for t0 := time.Now(); int64(warm/7*3)-echoed.Load() > 256<<10; time.Sleep(time.Millisecond) {
			if time.Since(t0) > 20*time.Second {
				t.Fatalf("warm-up: %d bytes of echoes after %d bytes sent, want %d", echoed.Load(), warm, warm/7*3)
			}
		}
		flooder.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := flooder.Write(frames); err != nil {
			t.Fatalf("warm-up: %v", err)
		}
	}
	// Each 7-byte message comes back as a 3-byte frame.
	waitFor(t, "warm-up messages back", func() bool { return echoed.Load() == int64(warm/7*3) })

	// Members that never read, with small socket buffers.
	small := &gorilla.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: stingyDialer.DialContext}
	idle := make([]*gorilla.Conn, members)
	for i := range idle {
		idle[i] = e.dialGorilla("/chat", small)
	}
	// An echo client, to see that the server keeps answering.
	echo := e.dialGorilla("/ws", nil)
	time.Sleep(100 * time.Millisecond)
	rss0 := procRSS(t, pid)

	stop := make(chan struct{})
	uploaded := make(chan int64, 1)
	go func() {
		var n int64
		defer func() { uploaded <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			flooder.SetWriteDeadline(time.Now().Add(time.Second))
			k, err := flooder.Write(frames)
			n += int64(k)
			if err != nil && !os.IsTimeout(err) {
				// Cut off: its queue (it reads less than it makes the
				// server send it), or 1013 when a loop fell too far
				// behind its broadcasts.
				t.Logf("flooder cut off: %v", err)
				return
			}
		}
	}()
	peak, fdsPeak := rss0, procFDs(t, pid)
	echoes := 0
	for t0 := time.Now(); time.Since(t0) < flood; echoes++ {
		peak = max(peak, procRSS(t, pid))
		fdsPeak = max(fdsPeak, procFDs(t, pid))
		// A liveness check, not a speed one: the deadline is generous
		// (the race detector slows the server down tenfold).
		echo.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if err := echo.WriteMessage(gorilla.TextMessage, []byte("ping "+strconv.Itoa(echoes))); err != nil {
			t.Fatalf("echo write during the flood: %v", err)
		}
		echo.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, p, err := echo.ReadMessage(); err != nil || string(p) != "ping "+strconv.Itoa(echoes) {
			t.Fatalf("echo during the flood: %q %v", p, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	n := <-uploaded
	peak = max(peak, procRSS(t, pid))
	t.Logf("%v of flood: %d MB uploaded (%d messages), %d echoes; RSS %d MiB before, peak %d MiB (+%d MiB); fds %d before, at most %d with %d clients",
		flood, n>>20, n/7, echoes, rss0>>20, peak>>20, (peak-rss0)>>20, fds0, fdsPeak, members+2)
	if peak-rss0 > limit {
		t.Errorf("RSS grew by %d MiB, want at most %d MiB", (peak-rss0)>>20, limit>>20)
	}
	for _, c := range idle {
		c.Close()
	}
	echo.Close()
	flooder.Close()
	deadline := time.Now().Add(60 * time.Second) // -race: a backlog to work off first
	for procFDs(t, pid) != fds0 {
		if time.Now().After(deadline) {
			t.Fatalf("server fds: %d, want %d as before", procFDs(t, pid), fds0)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procRSS returns the resident memory of process pid (VmRSS), in bytes.
func procRSS(t testing.TB, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// procFDs returns the number of open file descriptors of process pid.
func procFDs(t testing.TB, pid int) int {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
