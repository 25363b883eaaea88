package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The harness of the upgrade tests (upgrade_test.go): the demo in a child
// process (this test binary, re-executed) that upgrades on SIGHUP into
// another process of the same binary, which the test adopts as a
// subreaper, and a keep-alive load that counts every failure.

// upgradeChildEnv holds the child's flags, space-separated.
const upgradeChildEnv = "URINGNET_UPGRADE_CHILD"

// TestUpgradeChild is the child: the demo with the flags of
// upgradeChildEnv, with main's signals, until SIGTERM. Its successors run
// the same test, with the same environment.
func TestUpgradeChild(t *testing.T) {
	args := os.Getenv(upgradeChildEnv)
	if args == "" {
		t.Skip("the upgrade tests' child process")
	}
	o, err := parseFlags(strings.Fields(args), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if err := run(o, os.Stdout, sig); err != nil {
		t.Fatal(err)
	}
}

// childCommand is the command line of a demo child with the given flags.
func childCommand(args []string) (string, []string, string) {
	return os.Args[0], []string{"-test.run=^TestUpgradeChild$", "-test.count=1", "-test.timeout=0"},
		upgradeChildEnv + "=" + strings.Join(args, " ")
}

// upgraded is a demo child and its successors, as the test sees them.
type upgraded struct {
	t      *testing.T
	addr   string
	pid    atomic.Int64 // the process serving now, as the test last saw it
	first  *exec.Cmd
	stderr logFile
	lines  chan string // "listening on" lines, from every process
	mu     sync.Mutex
	pids   []int       // every process that served, in order
	tls    *tls.Config // the client's, when the demo serves HTTPS
}

// subreaper makes the test process adopt its children's orphans (an
// upgraded demo's successors, whose parent exits) so that it can wait for
// them; it is undone at the end of the test.
func subreaper(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skip("PR_SET_CHILD_SUBREAPER:", err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
}

// startUpgradable starts the demo on 127.0.0.1:0 with the extra flags and
// waits until it serves. At the end of the test whichever process serves
// then is stopped with SIGTERM and waited for.
func startUpgradable(t *testing.T, extra ...string) *upgraded {
	t.Helper()
	return startUpgradableTLS(t, nil, extra...)
}

// startUpgradableTLS is startUpgradable with the client's TLS settings
// for a demo that serves HTTPS (plain HTTP when tc is nil).
func startUpgradableTLS(t *testing.T, tc *tls.Config, extra ...string) *upgraded {
	t.Helper()
	args := append([]string{"-addr", "127.0.0.1:0", "-access-log=false", "-log-level", "info", "-loops", "2"}, extra...)
	bin, targs, env := childCommand(args)
	cmd := exec.Command(bin, targs...)
	cmd.Env = append(os.Environ(), env)
	u := launch(t, cmd)
	u.tls = tc
	select {
	case u.addr = <-u.lines:
	case <-time.After(60 * time.Second):
		t.Fatalf("the demo did not start:\n%s", u.stderr)
	}
	u.adopt()
	return u
}

// launch starts cmd (the demo, or what runs it) with the test as its
// subreaper, reading its "listening on" lines, and stops whichever process
// serves at the end of the test.
func launch(t *testing.T, cmd *exec.Cmd) *upgraded {
	t.Helper()
	subreaper(t)
	// Files, not pipes exec copies from: the successors inherit them, so
	// the copies would end only with the last process (and cmd.Wait with
	// them).
	u := &upgraded{t: t, first: cmd, stderr: logFile(filepath.Join(t.TempDir(), "stderr")), lines: make(chan string, 64)}
	errf, err := os.Create(string(u.stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	pipe, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, errf
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	u.pid.Store(int64(cmd.Process.Pid))
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				u.lines <- a
			}
		}
		io.Copy(io.Discard, pipe)
		pipe.Close()
	}()
	t.Cleanup(func() {
		pid := int(u.pid.Load())
		syscall.Kill(pid, syscall.SIGTERM)
		if !u.reap(pid, 15*time.Second) {
			t.Errorf("process %d did not stop on SIGTERM", pid)
			syscall.Kill(pid, syscall.SIGKILL)
			u.reap(pid, 5*time.Second)
		}
		if t.Failed() {
			t.Logf("the demo's log:\n%s", u.stderr)
		}
	})
	return u
}

// logFile is the demo processes' stderr, in a file.
type logFile string

// String returns what the processes have logged so far.
func (f logFile) String() string {
	b, _ := os.ReadFile(string(f))
	return string(b)
}

// adopt checks that the first process is the one serving.
func (u *upgraded) adopt() {
	u.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", u.addr) // not bound yet under systemd-socket-activate
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("%s: %v\n%s", u.addr, err, u.stderr)
		}
	}
	if pid := u.health(); pid != u.first.Process.Pid {
		u.t.Fatalf("/healthz says pid %d, the child is %d", pid, u.first.Process.Pid)
	}
	u.pids = append(u.pids, u.first.Process.Pid)
}

// health asks /healthz on a new connection which process serves.
func (u *upgraded) health() int {
	u.t.Helper()
	return healthOf(u.t, u.addr, u.tls)
}

// healthOf asks /healthz at addr (over TLS with tc), on a new connection,
// which process serves.
func healthOf(t *testing.T, addr string, tc *tls.Config) int {
	t.Helper()
	c := &nethttp.Client{Timeout: 10 * time.Second, Transport: &nethttp.Transport{DisableKeepAlives: true, TLSClientConfig: tc}}
	scheme := "http"
	if tc != nil {
		scheme = "https"
	}
	resp, err := c.Get(scheme + "://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	defer resp.Body.Close()
	var h struct {
		Status string
		Pid    int
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != 200 || h.Status != "ok" {
		t.Fatalf("/healthz: %d %+v %v", resp.StatusCode, h, err)
	}
	return h.Pid
}

// reap waits up to d for process pid (a child or an adopted orphan) to
// exit, and collects it. It reports whether it did.
func (u *upgraded) reap(pid int, d time.Duration) bool {
	if pid == u.first.Process.Pid {
		done := make(chan struct{})
		go func() { u.first.Wait(); close(done) }()
		select {
		case <-done:
			return true
		case <-time.After(d):
			return false
		}
	}
	deadline := time.Now().Add(d)
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if got == pid || errors.Is(err, unix.ECHILD) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// upgrade sends SIGHUP to the serving process and waits until another
// one serves (its "listening on" line, then /healthz) and the old one has
// exited. It returns the new pid and the time from SIGHUP to /healthz
// answered by it.
func (u *upgraded) upgrade() (int, time.Duration) {
	u.t.Helper()
	old := int(u.pid.Load())
	start := time.Now()
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		u.t.Fatal(err)
	}
	select {
	case <-u.lines:
	case <-time.After(30 * time.Second):
		u.t.Fatalf("no successor after SIGHUP to %d", old)
	}
	var pid int
	for pid = u.health(); pid == old; pid = u.health() {
		if time.Since(start) > 30*time.Second {
			u.t.Fatalf("still served by %d", old)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	u.pid.Store(int64(pid))
	u.mu.Lock()
	u.pids = append(u.pids, pid)
	u.mu.Unlock()
	return pid, took
}

// waitExit waits for the old process pid to have drained and exited.
func (u *upgraded) waitExit(pid int, d time.Duration) {
	u.t.Helper()
	if !u.reap(pid, d) {
		u.t.Fatalf("the old process %d is still running %v later", pid, d)
	}
}

// fds counts process pid's open descriptors.
func fds(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// children returns process pid's children (forked by any of its threads).
func children(pid int) []string {
	paths, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []string
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// loadResult is what a keep-alive load saw.
type loadResult struct {
	ok, failed, reconnects int64
	errs                   []string // the first failures
	lat                    []time.Duration
}

// p99 returns the 99th percentile of the latencies.
func (r *loadResult) p99() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), r.lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)*99/100]
}

// keepAliveLoad keeps conns keep-alive connections to addr busy with
// GET path until stop is closed, each one request at a time. A response
// with "Connection: close" ends its connection, and the next request
// goes on a new one (to whichever process accepts it). Every failure
// counts: a refused or failed dial, a failed write, and a connection that
// ends before a complete response.
func keepAliveLoad(addr, path string, conns int, stop <-chan struct{}) *loadResult {
	return keepAliveLoadTLS(addr, nil, path, conns, stop)
}

// keepAliveLoadTLS is keepAliveLoad over TLS with tc (plain when nil).
func keepAliveLoadTLS(addr string, tc *tls.Config, path string, conns int, stop <-chan struct{}) *loadResult {
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		res.failed++
		if len(res.errs) < 10 {
			res.errs = append(res.errs, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var ok, reconnects int64
			defer func() {
				mu.Lock()
				res.ok += ok
				res.reconnects += reconnects
				res.lat = append(res.lat, lat...)
				mu.Unlock()
			}()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var c net.Conn
				var err error
				if tc != nil {
					c, err = tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, tc)
				} else {
					c, err = net.DialTimeout("tcp", addr, 10*time.Second)
				}
				if err != nil {
					fail("dial: %v", err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				br := bufio.NewReader(c)
				for open := true; open; {
					select {
					case <-stop:
						c.Close()
						return
					default:
					}
					c.SetDeadline(time.Now().Add(10 * time.Second))
					t0 := time.Now()
					if _, err := c.Write(req); err != nil {
						fail("write: %v", err)
						break
					}
					closing, err := readResponse(br)
					if err != nil {
						fail("response: %v", err)
						break
					}
					lat = append(lat, time.Since(t0))
					ok++
					open = !closing
				}
				c.Close()
				reconnects++
			}
		}()
	}
	go func() { wg.Wait() }()
	<-stop
	wg.Wait()
	return &res
}

// readResponse reads one complete response with a Content-Length body,
// and reports whether it closes its connection.
func readResponse(br *bufio.Reader) (closing bool, err error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return false, fmt.Errorf("status line: %w", err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 200 ") {
		return false, fmt.Errorf("status line %q", line)
	}
	n := -1
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return false, fmt.Errorf("header: %w", err)
		}
		if h == "\r\n" {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(h), ":")
		switch strings.ToLower(k) {
		case "content-length":
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		case "connection":
			closing = strings.EqualFold(strings.TrimSpace(v), "close")
		}
	}
	if n < 0 {
		return false, errors.New("no Content-Length")
	}
	if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
		return false, fmt.Errorf("body: %w", err)
	}
	return closing, nil
}

// netListen listens on a free loopback port.
func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
