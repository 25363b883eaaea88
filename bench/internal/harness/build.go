package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// RootModule is the module path of the uringnet repository root.
const RootModule = "github.com/uringnet/uringnet"

// moduleOf returns the module path declared in dir/go.mod, or "" when there is none.
func moduleOf(dir string) string {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	return ""
}

// FindRepoRoot walks up from start to the directory whose go.mod declares RootModule.
func FindRepoRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		if moduleOf(dir) == RootModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repo root: no go.mod declaring %s above %s", RootModule, start)
		}
		dir = parent
	}
}

// GoBuild runs "go build -o out pkg" in dir and returns go's output in the error.
func GoBuild(ctx context.Context, dir, pkg, out string, env ...string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (in %s): %w\n%s", pkg, dir, err, indent(strings.TrimSpace(string(b))))
	}
	return nil
}

// PinCPU returns cpu when processes can be pinned to it (taskset exists and the CPU is
// online), or "" and the reason when they cannot.
func PinCPU(cpu int) (string, error) {
	if _, err := exec.LookPath("taskset"); err != nil {
		return "", fmt.Errorf("not pinning to CPU %d: %w", cpu, err)
	}
	if n := OnlineCPUs(); cpu >= n {
		return "", fmt.Errorf("not pinning to CPU %d: %d CPUs online", cpu, n)
	}
	return fmt.Sprint(cpu), nil
}

// FreePort returns a TCP address on 127.0.0.1 that was free a moment ago.
func FreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// RaiseNoFile raises the soft RLIMIT_NOFILE to at least want (and the hard limit too when
// the process may), so that this process and the children it starts, which inherit it, can
// hold that many descriptors. It returns the soft limit in force afterwards.
func RaiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit nofile: %w", err)
	}
	if lim.Max < want {
		up := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up); err == nil {
			return want, nil
		}
	}
	// Set it explicitly even when it already looks right: Go raises its own soft limit at
	// start-up but restores the old one in children unless the program called Setrlimit.
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("setrlimit nofile: %w", err)
	}
	if lim.Cur < want {
		return lim.Cur, errors.New("RLIMIT_NOFILE hard limit is below what was asked for")
	}
	return lim.Cur, nil
}

// RepoRoot returns repo, or when it is "" the repository root found from the working
// directory (FindRepoRoot).
func RepoRoot(repo string) (string, error) {
	if repo != "" {
		return repo, nil
	}
	return FindRepoRoot(".")
}
