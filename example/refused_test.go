package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	gorilla "github.com/gorilla/websocket"
	"golang.org/x/sys/unix"

	"github.com/uringnet/uringnet/netserver"
)

// refusedChildEnv names the errno (EPERM or ENOSYS) with which the child of
// TestDemoWhereIOUringIsRefused has its io_uring system calls refused.
const refusedChildEnv = "URINGNET_REFUSED_CHILD"

// refusedBigFile is the size of the child's /big.bin: above the file
// cache's entry limit, so that it goes out through sendfile/.
const refusedBigFile = 1 << 20

// refusedErrnos are the answers a seccomp filter may give the io_uring
// system calls: EPERM as Docker's default profile (and containerd's and
// Kubernetes' RuntimeDefault) does, ENOSYS as gVisor does.
var refusedErrnos = map[string]unix.Errno{"EPERM": unix.EPERM, "ENOSYS": unix.ENOSYS}

// denyIOUring installs, on every thread of the process, a seccomp filter
// that answers io_uring_setup, io_uring_enter and io_uring_register with
// errno and allows every other system call.
func denyIOUring(errno unix.Errno) error {
	const (
		ldAbs    = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq      = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret      = unix.BPF_RET | unix.BPF_K
		allow    = 0x7fff0000 // SECCOMP_RET_ALLOW
		retErrno = 0x00050000 // SECCOMP_RET_ERRNO, with the errno in the low 16 bits
		tsync    = 1          // SECCOMP_FILTER_FLAG_TSYNC
		filter   = 1          // SECCOMP_SET_MODE_FILTER
		nrOff    = 0          // offsetof(struct seccomp_data, nr)
		setup    = unix.SYS_IO_URING_SETUP
		enter    = unix.SYS_IO_URING_ENTER
		reg      = unix.SYS_IO_URING_REGISTER
	)
	prog := []unix.SockFilter{
		{Code: ldAbs, K: nrOff},
		{Code: jeq, K: setup, Jt: 3},
		{Code: jeq, K: enter, Jt: 2},
		{Code: jeq, K: reg, Jt: 1},
		{Code: ret, K: allow},
		{Code: ret, K: retErrno | uint32(errno)&0xffff},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, filter, tsync, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w", e)
	}
	return nil
}

// TestRefusedChild is the child of TestDemoWhereIOUringIsRefused: the demo
// under the seccomp filter, serving until SIGTERM. A failed run exits with
// status 3.
func TestRefusedChild(t *testing.T) {
	name := os.Getenv(refusedChildEnv)
	if name == "" {
		t.Skip("the child of TestDemoWhereIOUringIsRefused")
	}
	errno, ok := refusedErrnos[name]
	if !ok {
		t.Fatalf("%s=%q: want EPERM or ENOSYS", refusedChildEnv, name)
	}
	// Before the filter: the demo's loops are created after it, on threads
	// that inherit it; TSYNC covers the threads that exist already.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	if err := denyIOUring(errno); err != nil {
		t.Fatal(err)
	}
	args := []string{"-addr", "127.0.0.1:0", "-loops", "2", "-access-log=false", "-big-file", fmt.Sprint(refusedBigFile)}
	if os.Getenv(refusedStdlibEnv) != "" {
		args = append(args, "-stdlib")
	}
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(o, os.Stdout, stop); err != nil {
		os.Stderr.WriteString("run: " + err.Error() + "\n")
		os.Exit(3)
	}
}

// childEnv is the environment of a child: this one's, with backend as
// URINGNET_BACKEND whatever the test runs with.
func childEnv(errno, backend string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, netserver.EnvBackend+"=") && !strings.HasPrefix(kv, refusedChildEnv+"=") &&
			!strings.HasPrefix(kv, refusedStdlibEnv+"=") {
			env = append(env, kv)
		}
	}
	return append(env, refusedChildEnv+"="+errno, netserver.EnvBackend+"="+backend)
}

// refusedStdlibEnv, when set, makes the child serve in -stdlib mode.
const refusedStdlibEnv = "URINGNET_REFUSED_STDLIB"

// Where io_uring is refused (a seccomp filter answering its system calls
// with EPERM, as Docker's default profile does, or ENOSYS, as gVisor
// does), the demo serves on the epoll backend by default, saying why in
// its log; asked for io_uring (URINGNET_BACKEND=uring), it fails at
// start-up, saying why, and never claims to be listening.
func TestDemoWhereIOUringIsRefused(t *testing.T) {
	for _, tc := range []struct {
		errno   string
		backend string // URINGNET_BACKEND
		serves  bool
		stdlib  bool // the child runs with -stdlib
	}{
		{"EPERM", "auto", true, false},
		{"ENOSYS", "auto", true, false},
		{"EPERM", "uring", false, false},
		{"ENOSYS", "uring", false, false},
		{"EPERM", "auto", true, true},
		{"ENOSYS", "uring", false, true},
	} {
		name := tc.errno + "/" + tc.backend
		if tc.stdlib {
			name += "/stdlib"
		}
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRefusedChild$", "-test.count=1", "-test.timeout=0")
			cmd.Env = childEnv(tc.errno, tc.backend)
			if tc.stdlib {
				cmd.Env = append(cmd.Env, refusedStdlibEnv+"=1")
			}
			cause := refusedErrnos[tc.errno].Error() // "operation not permitted", "function not implemented"
			if !tc.serves {
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 3 {
					t.Fatalf("child: %v, want exit status 3 from a failed run\nstdout: %s\nstderr: %s", err, &stdout, &stderr)
				}
				if strings.Contains(stdout.String(), "listening on") {
					t.Errorf("printed %q although io_uring was refused", stdout.String())
				}
				if msg := stderr.String(); !strings.Contains(msg, "run: ") || !strings.Contains(msg, "io_uring unavailable") || !strings.Contains(msg, cause) {
					t.Errorf("the error does not say that io_uring is unavailable and why (%q): %s", cause, msg)
				}
				if strings.Contains(stderr.String(), "using the epoll backend") {
					t.Errorf("fell back to epoll although io_uring was asked for: %s", &stderr)
				}
				return
			}
			addr, child := startRefusedChild(t, cmd)
			checkDemoServes(t, addr)
			var st struct {
				Backend string `json:"backend"`
			}
			if _, body := get(t, "http://"+addr+"/stats.json"); json.Unmarshal([]byte(body), &st) != nil || st.Backend != "epoll" {
				t.Errorf("/stats.json %s: want backend epoll", body)
			}
			nethttp.DefaultClient.CloseIdleConnections()
			stdout, stderr, err := child.stop()
			if err != nil {
				t.Fatalf("child did not stop cleanly: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
			}
			if !strings.Contains(stdout, "\nstats ") || !strings.Contains(stdout, " backend=epoll") {
				t.Errorf("no final stats line naming the epoll backend: %s", stdout)
			}
			if strings.Count(stderr, "using the epoll backend") != 1 {
				t.Errorf("the log does not name the fallback once: %s", stderr)
			}
			var fallback string
			for line := range strings.Lines(stderr) {
				if strings.Contains(line, "using the epoll backend") {
					fallback = line
				}
			}
			if !strings.Contains(fallback, "level=WARN") || !strings.Contains(fallback, "cause=") || !strings.Contains(fallback, cause) {
				t.Errorf("the fallback line does not give its cause (%q) as a warning: %q", cause, fallback)
			}
		})
	}
}

// refusedChild is a running child of TestDemoWhereIOUringIsRefused.
type refusedChild struct {
	cmd    *exec.Cmd
	stdout *syncBuf
	stderr *syncBuf
	copied chan struct{} // closed once stdout reached EOF
}

// startRefusedChild starts cmd and waits for its "listening on" line. The
// child is killed at the end of the test if it is still running.
func startRefusedChild(t *testing.T, cmd *exec.Cmd) (addr string, child *refusedChild) {
	t.Helper()
	child = &refusedChild{cmd: cmd, stdout: &syncBuf{}, stderr: &syncBuf{}, copied: make(chan struct{})}
	cmd.Stderr = child.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	addrc := make(chan string, 1)
	go func() {
		defer close(child.copied)
		br := bufio.NewReader(pipe)
		for {
			line, err := br.ReadString('\n')
			child.stdout.Write([]byte(line))
			if a, ok := strings.CutPrefix(line, "listening on "); ok && strings.HasSuffix(a, "\n") {
				addrc <- strings.TrimSpace(a)
			}
			if err != nil {
				return
			}
		}
	}()
	// No deadline of ours: the child either listens or exits, and the
	// test's own -timeout catches a hang.
	select {
	case addr = <-addrc:
		return addr, child
	case <-child.copied:
		cmd.Wait()
		t.Fatalf("child exited without listening: %v\nstdout: %s\nstderr: %s", cmd.ProcessState, child.stdout, child.stderr)
	}
	return "", nil
}

// stop sends the child SIGTERM, waits for it and returns its output and
// an error unless it exited with status 0.
func (c *refusedChild) stop() (stdout, stderr string, err error) {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return c.stdout.String(), c.stderr.String(), err
	}
	<-c.copied // Wait closes the pipe: read it all first
	err = c.cmd.Wait()
	return c.stdout.String(), c.stderr.String(), err
}

// checkDemoServes checks the demo at addr (started with the embedded site
// and a /big.bin of refusedBigFile bytes) end to end with real clients: a
// page, a static file from the cache, a large file whole and by range, and
// the WebSocket echo.
func checkDemoServes(t *testing.T, addr string) {
	t.Helper()
	base := "http://" + addr
	if resp, body := get(t, base+"/plaintext"); resp.StatusCode != 200 || body != "Hello, World!" {
		t.Errorf("/plaintext: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/"); resp.StatusCode != 200 || !strings.Contains(body, "<h1>uringnet</h1>") {
		t.Errorf("/: %d %q", resp.StatusCode, body)
	}
	page, err := site.ReadFile("site/range.html")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, base+"/range.html"); resp.StatusCode != 200 || body != string(page) {
		t.Errorf("/range.html: %d, %d bytes, want the %d bytes of site/range.html", resp.StatusCode, len(body), len(page))
	}

	bigPath := filepath.Join(t.TempDir(), "big.bin")
	if err := writeBigFile(bigPath, refusedBigFile); err != nil {
		t.Fatal(err)
	}
	big, err := os.ReadFile(bigPath)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, base+"/big.bin"); resp.StatusCode != 200 || body != string(big) {
		t.Errorf("/big.bin: %d, %d bytes, want %d bytes equal to writeBigFile's", resp.StatusCode, len(body), len(big))
	}
	const first, last = 300_000, 700_122
	req, err := nethttp.NewRequest("GET", base+"/big.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", first, last))
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	wantRange := fmt.Sprintf("bytes %d-%d/%d", first, last, refusedBigFile)
	if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != wantRange || !bytes.Equal(body, big[first:last+1]) {
		t.Errorf("/big.bin bytes=%d-%d: %d, Content-Range %q, %d bytes; want 206, %q and the %d bytes of the range",
			first, last, resp.StatusCode, resp.Header.Get("Content-Range"), len(body), wantRange, last-first+1)
	}

	ws := dialWS(t, addr, "/ws")
	for _, m := range []struct {
		typ  int
		data string
	}{{gorilla.TextMessage, "hello over epoll"}, {gorilla.BinaryMessage, "\x00\xff\x01"}, {gorilla.TextMessage, strings.Repeat("x", 100<<10)}} {
		if err := ws.WriteMessage(m.typ, []byte(m.data)); err != nil {
			t.Fatalf("WebSocket write: %v", err)
		}
		typ, got, err := ws.ReadMessage()
		if err != nil || typ != m.typ || string(got) != m.data {
			t.Fatalf("WebSocket echo of %d bytes: type %d, %d bytes, %v", len(m.data), typ, len(got), err)
		}
	}
	ws.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""))
	if _, _, err := ws.ReadMessage(); !gorilla.IsCloseError(err, gorilla.CloseNormalClosure) {
		t.Errorf("WebSocket close handshake: %v, want a 1000 close", err)
	}
}
