package guide_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUpgrade: SIGHUP hands the socket to a new process, which answers
// from then on; the old one exits.
func TestUpgrade(t *testing.T) {
	p := start(t, "upgrade")
	who := func() string {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + p.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b))
	}
	first := who()
	if want := fmt.Sprintf("hello from process %d", p.cmd.Process.Pid); first != want {
		t.Fatalf("%q, want %q", first, want)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	var next string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if next = who(); next != first || time.Now().After(deadline) {
			break
		}
	}
	var pid int
	if _, err := fmt.Sscanf(next, "hello from process %d", &pid); err != nil || pid == p.cmd.Process.Pid {
		t.Fatalf("after SIGHUP: %q", next)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the old process: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the old process did not exit")
	}
	if got := who(); got != next {
		t.Errorf("%q after the old process exited", got)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil || time.Now().After(deadline) {
			break
		}
	}
}
