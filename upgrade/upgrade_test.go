package upgrade

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// The test binary is also the successor: helperMode says how it behaves.
const helperMode = "UPGRADE_TEST_MODE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperMode); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper is the successor process: "serve" takes the sockets, serves
// "pid N" to every connection, says it is ready and serves until SIGTERM;
// "exit" exits at once; "hang" never gets ready; "garbage" writes
// something else than the readiness line.
func helper(mode string) int {
	switch mode {
	case "exit":
		return 3
	case "garbage":
		fd, _ := strconv.Atoi(os.Getenv(EnvReady))
		os.NewFile(uintptr(fd), "ready").WriteString("hello\n")
		time.Sleep(time.Minute)
		return 0
	}
	u, err := New(Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if mode == "hang" {
		time.Sleep(time.Minute)
		return 0
	}
	h := &pidHandler{}
	s, err := netserver.New(netserver.Config{Listeners: u.Listeners(), Loops: 1}, h)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h.s = s
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go s.Serve()
	<-s.Ready()
	if err := u.Ready(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	<-sigs
	s.Close()
	return 0
}

// pidHandler answers every connection with "pid N\n" and closes it.
type pidHandler struct {
	netserver.NopHandler
	s *netserver.Server
}

func (h *pidHandler) Accept(c netserver.ClientNum) {
	h.s.Send(c, []byte(fmt.Sprintf("pid %d\n", os.Getpid())))
	h.s.RawClose(c)
}

// serveTest starts the predecessor's server: a pidHandler on 127.0.0.1.
func serveTest(t *testing.T) *netserver.Server {
	t.Helper()
	h := &pidHandler{}
	s, err := netserver.New(netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 2}, h)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); <-errc })
	return s
}

// whoServes connects to addr and returns the pid that answers.
func whoServes(t *testing.T, addr string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		out, _ := exec.Command("sh", "-c", "ss -tlnpe; ss -tnpe | grep "+strings.Split(addr, ":")[1]).CombinedOutput()
		t.Fatalf("%s: %v\n%s", addr, err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "pid ")))
	if err != nil {
		t.Fatalf("answer %q", line)
	}
	return pid
}

// newTest makes an Upgrader whose successor is this binary in mode.
func newTest(t *testing.T, mode string, timeout time.Duration) *Upgrader {
	t.Helper()
	u, err := New(Config{Path: os.Args[0], Args: []string{}, ReadyTimeout: timeout,
		Env: append(os.Environ(), helperMode+"="+mode), Stdout: io.Discard,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if u.Listeners() != nil || u.Inherited() != "" {
		t.Fatalf("the test process inherited %v from %q", u.Listeners(), u.Inherited())
	}
	return u
}

// gone waits until process pid no longer exists (it has been reaped).
func gone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still there", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// children lists this process's child processes.
func children(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil || len(paths) == 0 {
		t.Skip("no /proc children lists:", err)
	}
	var out []string
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

func TestUpgradeHandsOver(t *testing.T) {
	s := serveTest(t)
	addr := s.Addr().String()
	if got := whoServes(t, addr); got != os.Getpid() {
		t.Fatalf("served by %d before the upgrade", got)
	}
	u := newTest(t, "serve", 20*time.Second)
	files, err := s.ListenerFiles()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := u.Upgrade(context.Background(), files)
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if err := s.StopAccepting(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if got := whoServes(t, addr); got != pid {
			t.Fatalf("connection %d served by %d, want the successor %d", i, got, pid)
		}
	}
	if st := u.Stats(); st.Attempts != 1 || st.Succeeded != 1 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	gone(t, pid)
}

func TestUpgradeFails(t *testing.T) {
	s := serveTest(t)
	addr := s.Addr().String()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name, mode string
		path       string
		ctx        context.Context
		want       string
	}{
		{"exits at once", "exit", "", context.Background(), "exited before it was ready: exit status 3"},
		{"never ready", "hang", "", context.Background(), "not ready in time"},
		{"wrong message", "garbage", "", context.Background(), "unexpected readiness message"},
		{"missing binary", "serve", "/nonexistent/server", context.Background(), "starting /nonexistent/server"},
		{"context ends", "hang", "", canceled, "context canceled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := children(t)
			u := newTest(t, tt.mode, 500*time.Millisecond)
			if tt.path != "" {
				u.cfg.Path = tt.path
			}
			files, err := s.ListenerFiles()
			if err != nil {
				t.Fatal(err)
			}
			_, err = u.Upgrade(tt.ctx, files)
			for _, f := range files {
				f.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Upgrade: %v, want %q", err, tt.want)
			}
			if got := whoServes(t, addr); got != os.Getpid() {
				t.Errorf("served by %d after a failed upgrade", got)
			}
			if st := u.Stats(); st.Attempts != 1 || st.Failed != 1 {
				t.Errorf("stats %+v", st)
			}
			if after := children(t); len(after) != len(before) {
				t.Errorf("children: %v after, %v before", after, before)
			}
		})
	}
}

// TestWaitSignals drives Wait's loop with signals on a channel: a SIGHUP
// during an upgrade is ignored, a failed upgrade leaves Wait waiting,
// SIGTERM stops it, and a good upgrade returns Upgraded.
func TestWaitSignals(t *testing.T) {
	s := serveTest(t)
	u := newTest(t, "hang", time.Second)
	sigs := make(chan os.Signal, 4)
	out := make(chan Outcome, 1)
	go func() { out <- u.WaitSignals(context.Background(), s, sigs) }()
	sigs <- syscall.SIGHUP
	for !u.InProgress() {
		time.Sleep(time.Millisecond)
	}
	sigs <- syscall.SIGHUP // ignored
	for u.Stats().Failed == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case o := <-out:
		t.Fatalf("Wait returned %v after a failed upgrade", o)
	case <-time.After(50 * time.Millisecond):
	}
	sigs <- syscall.SIGTERM
	if o := <-out; o != Stopped {
		t.Errorf("after SIGTERM: %v", o)
	}
	if st := u.Stats(); st.Ignored != 1 || st.Attempts != 1 {
		t.Errorf("stats %+v", st)
	}

	u = newTest(t, "serve", 20*time.Second)
	go func() { out <- u.WaitSignals(context.Background(), s, sigs) }()
	sigs <- syscall.SIGHUP
	if o := <-out; o != Upgraded {
		t.Fatalf("after a good upgrade: %v", o)
	}
	s.StopAccepting()
	pid := whoServes(t, s.Addr().String())
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if pid == os.Getpid() {
		t.Fatal("still served by the predecessor")
	}
	if _, err := s.ListenerFiles(); err == nil {
		t.Error("ListenerFiles after StopAccepting")
	}
	sigs <- syscall.SIGHUP // no listeners left: logged, Wait goes on
	ctx, cancel := context.WithCancel(context.Background())
	go func() { out <- u.WaitSignals(ctx, s, sigs) }()
	cancel()
	if o := <-out; o != Stopped || o.String() != "stopped" {
		t.Errorf("after ctx ended: %v", o)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	gone(t, pid)
}

// TestWaitRealSignal sends this process SIGTERM: Wait catches it.
func TestWaitRealSignal(t *testing.T) {
	guard := make(chan os.Signal, 1) // SIGTERM never kills the test binary
	signal.Notify(guard, syscall.SIGTERM)
	defer signal.Stop(guard)
	u := newTest(t, "hang", time.Second)
	out := make(chan Outcome, 1)
	go func() { out <- u.Wait(context.Background(), serveTest(t)) }()
	for {
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case o := <-out:
			if o != Stopped {
				t.Fatalf("Wait: %v", o)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestEarlySIGHUP: a SIGHUP that arrives after New but before Wait (while
// the server starts) does not end the process; Wait starts the upgrade.
func TestEarlySIGHUP(t *testing.T) {
	u := newTest(t, "exit", time.Second)
	syscall.Kill(os.Getpid(), syscall.SIGHUP) // the default action would end the test binary
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Outcome, 1)
	go func() { out <- u.Wait(ctx, serveTest(t)) }()
	deadline := time.Now().Add(10 * time.Second)
	for u.Stats().Failed == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the early SIGHUP started no upgrade: %+v", u.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if o := <-out; o != Stopped {
		t.Fatalf("Wait: %v", o)
	}
	if st := u.Stats(); st.Attempts != 1 {
		t.Errorf("attempts %d, want 1", st.Attempts)
	}
}

func TestInheritEnv(t *testing.T) {
	ppid := strconv.Itoa(os.Getppid())
	for _, tt := range []struct {
		name            string
		fds, ready, par string
		want            string // error, "" for none
		from            string
	}{
		{"none", "", "", "", "", ""},
		{"not our parent", "1", "4", strconv.Itoa(os.Getppid() + 1), "", ""},
		{"bad count", "x", "4", ppid, "not a socket count", ""},
		{"negative count", "-1", "4", ppid, "not a socket count", ""},
		{"bad ready fd", "1", "3", ppid, "not a descriptor", ""},
		{"no sockets", "0", "", ppid, "", "upgrade"}, // the pipe's descriptor is set below
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvFDs, tt.fds)
			t.Setenv(EnvReady, tt.ready)
			t.Setenv(EnvParent, tt.par)
			var readyFD *os.File
			if tt.from == "upgrade" {
				// The readiness descriptor, which Ready closes: a
				// duplicate of a pipe's write end.
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				defer w.Close()
				wfd, err := syscall.Dup(int(w.Fd()))
				if err != nil {
					t.Fatal(err)
				}
				t.Setenv(EnvReady, strconv.Itoa(wfd))
				readyFD = r
			}
			u, err := New(Config{Path: "/bin/true", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("New: %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Inherited() != tt.from {
				t.Errorf("Inherited = %q, want %q", u.Inherited(), tt.from)
			}
			for _, k := range []string{EnvFDs, EnvReady, EnvParent} {
				if v, ok := os.LookupEnv(k); ok {
					t.Errorf("%s=%q left in the environment", k, v)
				}
			}
			if err := u.Ready(); err != nil {
				t.Fatal(err)
			}
			if readyFD != nil {
				line, _ := bufio.NewReader(readyFD).ReadString('\n')
				if want := fmt.Sprintf("ready %d\n", os.Getpid()); line != want {
					t.Errorf("readiness line %q, want %q", line, want)
				}
			}
			if err := u.Ready(); err != nil {
				t.Errorf("second Ready: %v", err)
			}
		})
	}
}

func TestCleanEnv(t *testing.T) {
	got := cleanEnv([]string{"A=1", EnvFDs + "=2", "LISTEN_FDS=1", "LISTEN_PID=5", "LISTEN_FDNAMES=x", EnvReady + "=5", EnvParent + "=1", "B=2"})
	if strings.Join(got, " ") != "A=1 B=2" {
		t.Errorf("cleanEnv = %v", got)
	}
}

func TestNotifySystemd(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run(fmt.Sprint("abstract=", abstract), func(t *testing.T) {
			name := t.TempDir() + "/notify"
			env := name
			if abstract {
				name = fmt.Sprintf("\x00uringnet-notify-%d", os.Getpid())
				env = "@" + name[1:]
			}
			ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			t.Setenv("NOTIFY_SOCKET", env)
			u := newTest(t, "serve", time.Second)
			if err := u.Ready(); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 256)
			ln.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := ln.Read(buf)
			if want := fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()); err != nil || string(buf[:n]) != want {
				t.Errorf("systemd got %q (%v), want %q", buf[:n], err, want)
			}
		})
	}
	t.Setenv("NOTIFY_SOCKET", "/nonexistent/notify")
	if err := notifySystemd("READY=1"); err == nil {
		t.Error("no error for a socket that is not there")
	}
}
