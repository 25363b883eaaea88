package cref

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uringnet/uringnet/bench/internal/echo"
	"github.com/uringnet/uringnet/bench/internal/harness"
)

// buildEcho builds the echo server into a temporary directory, skipping the test when the
// machine cannot build it.
func buildEcho(t *testing.T) string {
	t.Helper()
	repo, err := harness.FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "echo")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := BuildEcho(ctx, repo, out); IsUnavailable(err) {
		t.Skip("C reference not buildable here:", err)
	} else if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEcho runs the C echo server under each of its modes and checks every echoed byte
// (echoload verifies them), including messages larger than one 16 KiB receive buffer, and
// its stats line.
func TestEcho(t *testing.T) {
	bin := buildEcho(t)
	for _, mode := range []string{"", "multishot", "bufring"} {
		t.Run("disable="+mode, func(t *testing.T) {
			cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "CREF_DISABLE="+mode)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			sc := bufio.NewScanner(stdout)
			if !sc.Scan() {
				cmd.Wait()
				if s := stderr.String(); strings.Contains(s, "io_uring_queue_init") {
					t.Skip("io_uring unavailable:", s)
				}
				t.Fatalf("no listening line; stderr %q", stderr.String())
			}
			addr, ok := strings.CutPrefix(sc.Text(), "listening on ")
			if !ok {
				t.Fatalf("first line %q", sc.Text())
			}
			for _, size := range []int{1, 64, 40_000} {
				cfg := echo.LoadConfig{Addr: addr, Conns: 4, Size: size, Duration: 150 * time.Millisecond}
				res, err := echo.RunLoad(context.Background(), cfg)
				if err != nil {
					t.Fatalf("size %d: %v", size, err)
				}
				if res.Messages == 0 {
					t.Fatalf("size %d: no message echoed", size)
				}
			}
			time.Sleep(200 * time.Millisecond) // let the server see the last closes
			cmd.Process.Signal(syscall.SIGINT)
			var stats string
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "stats ") {
					stats = sc.Text()
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v; stderr %q", err, stderr.String())
			}
			kv, err := harness.ParseKV(stats, "stats")
			if err != nil {
				t.Fatalf("stats line %q: %v", stats, err)
			}
			acc, _ := kv.Int("accepted")
			closed, _ := kv.Int("closed")
			enters, _ := kv.Int("enters")
			if acc != 12 || closed != 12 || enters == 0 {
				t.Errorf("stats %q: want accepted=12 closed=12 and some enters", stats)
			}
		})
	}
}

// TestBuildUnavailable: a missing compiler is reported as unavailable, not as a failure.
func TestBuildUnavailable(t *testing.T) {
	t.Setenv("CC", "no-such-cc-for-cref-test")
	err := BuildEcho(context.Background(), "/nonexistent", filepath.Join(t.TempDir(), "x"))
	if !IsUnavailable(err) || !strings.Contains(err.Error(), "no C compiler") {
		t.Fatalf("err = %v, want Unavailable: no C compiler", err)
	}
}

// TestBuildBrokenSource: a compile error that is not about liburing is a real failure.
func TestBuildBrokenSource(t *testing.T) {
	if _, err := exec.LookPath(CC()); err != nil {
		t.Skip("no C compiler")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "bad.c")
	if err := os.WriteFile(src, []byte("int main(void) { return missing; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := build(context.Background(), src, filepath.Join(dir, "bad"))
	if err == nil || IsUnavailable(err) {
		t.Fatalf("err = %v, want a build failure", err)
	}
}
