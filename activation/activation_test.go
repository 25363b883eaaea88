package activation

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParse(t *testing.T) {
	const pid = 4242
	tests := []struct {
		name    string
		env     map[string]string
		n       int
		names   []string
		wantErr string // substring of the error; "" for none
	}{
		{name: "absent", env: nil},
		{name: "only fds", env: map[string]string{"LISTEN_FDS": "2"}},
		{name: "only pid", env: map[string]string{"LISTEN_PID": "4242"}},
		{name: "other pid", env: map[string]string{"LISTEN_PID": "4243", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "a:b"}},
		// Variables meant for another process are not ours to judge.
		{name: "other pid, bad count", env: map[string]string{"LISTEN_PID": "1", "LISTEN_FDS": "x"}},
		{name: "zero", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "0"}},
		{name: "one unnamed", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "1"},
			n: 1, names: []string{"unknown"}},
		{name: "two unnamed", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": ""},
			n: 2, names: []string{"unknown", "unknown"}},
		{name: "two named", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "http:https"},
			n: 2, names: []string{"http", "https"}},
		{name: "empty name kept", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "3", "LISTEN_FDNAMES": "a::c"},
			n: 3, names: []string{"a", "", "c"}},
		{name: "most", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "4096"},
			n: 4096, names: slices.Repeat([]string{"unknown"}, 4096)},
		{name: "bad pid", env: map[string]string{"LISTEN_PID": "42x", "LISTEN_FDS": "1"}, wantErr: "LISTEN_PID"},
		{name: "zero pid", env: map[string]string{"LISTEN_PID": "0", "LISTEN_FDS": "1"}, wantErr: "not a process id"},
		{name: "negative pid", env: map[string]string{"LISTEN_PID": "-4242", "LISTEN_FDS": "1"}, wantErr: "not a process id"},
		{name: "bad count", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "two"}, wantErr: "LISTEN_FDS"},
		{name: "overflowing count", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "99999999999999999999"}, wantErr: "LISTEN_FDS"},
		{name: "negative count", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "-1"}, wantErr: "negative"},
		{name: "huge count", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "4097"}, wantErr: "more than 4096"},
		{name: "too few names", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "a"}, wantErr: "names 1 descriptors"},
		{name: "too many names", env: map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "a:b"}, wantErr: "names 2 descriptors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, names, err := Parse(env(tt.env), pid)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "activation: ") {
					t.Fatalf("Parse: err %v, want one containing %q", err, tt.wantErr)
				}
				if n != 0 || names != nil {
					t.Errorf("Parse with error: n %d, names %q; want 0, nil", n, names)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n != tt.n || !slices.Equal(names, tt.names) {
				t.Errorf("Parse: n %d, names %q; want %d, %q", n, names, tt.n, tt.names)
			}
		})
	}
}

func TestParseWrapsNumError(t *testing.T) {
	_, _, err := Parse(env(map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "x"}), 4242)
	if !errors.Is(err, strconv.ErrSyntax) {
		t.Errorf("err %v does not wrap strconv.ErrSyntax", err)
	}
}

// freeFDs returns the first of n consecutive closed descriptors at or above
// 100, so that tests can dup sockets there as if they had been passed.
func freeFDs(t *testing.T, n int) int {
	t.Helper()
	for first := 100; first < 1000; first++ {
		ok := true
		for fd := first; fd < first+n; fd++ {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
				ok = false
				break
			}
		}
		if ok {
			return first
		}
	}
	t.Fatalf("no %d consecutive free descriptors", n)
	return 0
}

// passed listens on n loopback ports and dups the sockets to consecutive
// descriptors starting at the returned one, without FD_CLOEXEC, as a
// service manager passes them.
func passed(t *testing.T, n int) (first int, addrs []string) {
	t.Helper()
	first = freeFDs(t, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Dup3(int(f.Fd()), first+i, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		ln.Close()
	}
	t.Cleanup(func() {
		for fd := first; fd < first+n; fd++ {
			unix.Close(fd) // EBADF if the test's *os.File closed it
		}
	})
	return first, addrs
}

// checkListeners checks that fs are close-on-exec listening sockets on
// addrs, named names, and closes them.
func checkListeners(t *testing.T, fs []*os.File, names, addrs []string) {
	t.Helper()
	if len(fs) != len(names) {
		t.Fatalf("%d files, want %d", len(fs), len(names))
	}
	for i, f := range fs {
		if f.Name() != names[i] {
			t.Errorf("file %d named %q, want %q", i, f.Name(), names[i])
		}
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("file %d: F_GETFD %#x, %v; want FD_CLOEXEC", i, flags, err)
		}
		ln, err := net.FileListener(f)
		if err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
		if got := ln.Addr().String(); got != addrs[i] {
			t.Errorf("file %d listens on %s, want %s", i, got, addrs[i])
		}
		ln.Close()
		f.Close()
	}
}

func TestFilesInProcess(t *testing.T) {
	first, addrs := passed(t, 2)
	pid := os.Getpid()
	m := map[string]string{"LISTEN_PID": strconv.Itoa(pid), "LISTEN_FDS": "2", "LISTEN_FDNAMES": "web:admin"}
	fs, err := files(env(m), pid, first, false)
	if err != nil {
		t.Fatal(err)
	}
	checkListeners(t, fs, []string{"web", "admin"}, addrs)
}

func TestFilesUnsetEnv(t *testing.T) {
	first, addrs := passed(t, 1)
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	t.Setenv("LISTEN_FDS", "1")
	t.Setenv("LISTEN_FDNAMES", "")
	fs, err := files(os.Getenv, os.Getpid(), first, true)
	if err != nil {
		t.Fatal(err)
	}
	checkListeners(t, fs, []string{"unknown"}, addrs)
	checkUnset(t)
}

func checkUnset(t *testing.T) {
	t.Helper()
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Errorf("%s=%q still set", k, v)
		}
	}
}

func TestFilesClosedDescriptor(t *testing.T) {
	first, _ := passed(t, 1)
	// The second descriptor is not open: nothing is wrapped, and the
	// first, which is open, is left as it was.
	if _, err := unix.FcntlInt(uintptr(first+1), unix.F_GETFD, 0); err != unix.EBADF {
		t.Skipf("descriptor %d is open", first+1)
	}
	m := map[string]string{"LISTEN_PID": "7", "LISTEN_FDS": "2"}
	fs, err := files(env(m), 7, first, false)
	if fs != nil || !errors.Is(err, unix.EBADF) {
		t.Fatalf("files: %v, %v; want nil and EBADF", fs, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("descriptor %d", first+1)) {
		t.Errorf("error %q does not name descriptor %d", err, first+1)
	}
	if _, err := unix.FcntlInt(uintptr(first), unix.F_GETFD, 0); err != nil {
		t.Errorf("descriptor %d: %v", first, err)
	}
}

func TestFilesNotActivated(t *testing.T) {
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()+1))
	t.Setenv("LISTEN_FDS", "2")
	t.Setenv("LISTEN_FDNAMES", "a:b")
	fs, err := Files(false)
	if fs != nil || err != nil {
		t.Fatalf("Files for another process: %v, %v; want nil, nil", fs, err)
	}
	if os.Getenv("LISTEN_FDS") != "2" {
		t.Error("Files(false) unset LISTEN_FDS")
	}
	// sd_listen_fds unsets the variables whatever the outcome, and so
	// does Files.
	fs, err = Files(true)
	if fs != nil || err != nil {
		t.Fatalf("Files for another process: %v, %v; want nil, nil", fs, err)
	}
	checkUnset(t)
}

func TestFilesError(t *testing.T) {
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	t.Setenv("LISTEN_FDS", "-2")
	fs, err := Files(true)
	if fs != nil || err == nil {
		t.Fatalf("Files with LISTEN_FDS=-2: %v, %v; want an error", fs, err)
	}
	checkUnset(t)
}

// helperEnv, set by TestSocketActivate, makes TestHelperProcess act as the
// activated server.
const helperEnv = "URINGNET_ACTIVATION_HELPER"

// TestHelperProcess is the process systemd-socket-activate starts: it
// takes the sockets with Files(true), reports them on stdout, accepts one
// connection on the first and greets it, and exits.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("run by TestSocketActivate")
	}
	fs, err := Files(true)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(1)
	}
	var lns []net.Listener
	for _, f := range fs {
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		ln, lerr := net.FileListener(f)
		if lerr != nil {
			fmt.Printf("error %v\n", lerr)
			os.Exit(1)
		}
		fmt.Printf("fd %d name=%s addr=%s cloexec=%t\n", f.Fd(), f.Name(), ln.Addr(), err == nil && flags&unix.FD_CLOEXEC != 0)
		f.Close()
		lns = append(lns, ln)
	}
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		v, ok := os.LookupEnv(k)
		fmt.Printf("env %s set=%t %s\n", k, ok, v)
	}
	fmt.Println("done")
	if len(lns) > 0 {
		c, err := lns[0].Accept()
		if err == nil {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "hello from the activated process\n")
			c.Close()
		}
	}
	os.Exit(0)
}

// socketActivate finds Debian's systemd-socket-activate.
func socketActivate(t *testing.T) string {
	for _, p := range []string{"/usr/bin/systemd-socket-activate", "/lib/systemd/systemd-socket-activate"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("systemd-socket-activate"); err == nil {
		return p
	}
	t.Skip("systemd-socket-activate not found (Debian: apt-get install systemd)")
	return ""
}

// freePort returns a loopback port that was free a moment ago:
// systemd-socket-activate does not accept port 0.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestSocketActivate runs this test binary under systemd-socket-activate
// with two named sockets, and checks what the activated process found.
func TestSocketActivate(t *testing.T) {
	bin := socketActivate(t)
	var err error
	for attempt := range 3 {
		if err = trySocketActivate(t, bin); err == nil || !errors.Is(err, errPortTaken) {
			break
		}
		t.Logf("attempt %d: %v", attempt, err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

var errPortTaken = errors.New("port taken before systemd-socket-activate bound it")

func trySocketActivate(t *testing.T, bin string) error {
	p1, p2 := freePort(t), freePort(t)
	for p2 == p1 {
		p2 = freePort(t)
	}
	a1, a2 := fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)
	cmd := exec.Command(bin, "-l", a1, "-l", a2, "--fdname=first:second",
		"-E", helperEnv+"=1",
		os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	// systemd-socket-activate starts the process on the first connection.
	var c net.Conn
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		c, err = net.DialTimeout("tcp", a1, time.Second)
		if err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			if strings.Contains(stderr.String(), "in use") {
				return fmt.Errorf("%w: %s", errPortTaken, stderr.String())
			}
			return fmt.Errorf("systemd-socket-activate exited (%v) before listening: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dial %s: %v; stderr: %s", a1, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	greeting, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the greeting: %v; stdout: %s; stderr: %s", err, stdout.String(), stderr.String())
	}
	if greeting != "hello from the activated process\n" {
		t.Errorf("greeting %q", greeting)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			return fmt.Errorf("activated process: %v; stdout: %s; stderr: %s", err, stdout.String(), stderr.String())
		}
	case <-time.After(20 * time.Second):
		return fmt.Errorf("activated process did not exit; stdout: %s", stdout.String())
	}

	want := []string{
		fmt.Sprintf("fd 3 name=first addr=%s cloexec=true", a1),
		fmt.Sprintf("fd 4 name=second addr=%s cloexec=true", a2),
		"env LISTEN_PID set=false ",
		"env LISTEN_FDS set=false ",
		"env LISTEN_FDNAMES set=false ",
		"done",
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("activated process printed\n%s\nwant\n%s\nstderr: %s",
			strings.Join(got, "\n"), strings.Join(want, "\n"), stderr.String())
	}
	return nil
}

// syncBuffer is a bytes.Buffer that the error paths may read while
// os/exec's goroutines still write to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
