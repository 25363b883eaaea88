package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEchoUpgrade builds the echo server, connects, and upgrades it: the
// connection stays with the old process and still echoes; new ones go to
// the successor; the old process exits once its client leaves.
func TestEchoUpgrade(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the server with:", err)
	}
	bin := filepath.Join(t.TempDir(), "echo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-loops", "1", "-drain-timeout", "20s")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w // files: the successor inherits them
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("output ended before %q", prefix)
				}
				if rest, found := strings.CutPrefix(l, prefix); found {
					return rest
				}
			case <-timeout:
				t.Fatalf("no %q line", prefix)
			}
		}
	}
	addr := next("listening on ")
	echo := func(c net.Conn, msg string) {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
			t.Fatalf("echo %q: %q, %v", msg, got, err)
		}
	}
	c1, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	echo(c1, "before")
	cmd.Process.Signal(syscall.SIGHUP)
	if got := next("listening on "); got != addr {
		t.Fatalf("the successor listens on %s, want %s", got, addr)
	}
	var succ int
	for deadline := time.Now().Add(10 * time.Second); succ == 0; time.Sleep(10 * time.Millisecond) {
		// Any of its threads may have forked it.
		paths, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", cmd.Process.Pid))
		for _, p := range paths {
			b, _ := os.ReadFile(p)
			if f := strings.Fields(string(b)); len(f) > 0 {
				succ, _ = strconv.Atoi(f[0])
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no successor process")
		}
	}
	t.Cleanup(func() { syscall.Kill(succ, syscall.SIGKILL) })
	echo(c1, "during the drain") // the old process keeps its client
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	echo(c2, "to the successor")
	c1.Close()
	if st := next("stats "); !strings.Contains(st, "accepted=1 ") {
		t.Errorf("the old process's stats: %s", st)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the old process: %v", err)
	}
	echo(c2, "still")
	c2.Close()
	syscall.Kill(succ, syscall.SIGTERM)
	if st := next("stats "); !strings.Contains(st, "accepted=1 ") {
		t.Errorf("the successor's stats: %s", st)
	}
}
