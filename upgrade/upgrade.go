package upgrade

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/uringnet/uringnet/activation"
)

// The environment variables a predecessor sets for its successor.
const (
	// EnvFDs is the number of listening sockets passed, from fd 3.
	EnvFDs = "URINGNET_UPGRADE_FDS"
	// EnvReady is the descriptor of the readiness pipe's write end.
	EnvReady = "URINGNET_UPGRADE_READY"
	// EnvParent is the predecessor's process id; the variables are
	// ignored by a process whose parent is another.
	EnvParent = "URINGNET_UPGRADE_PPID"
)

// DefaultReadyTimeout is how long a successor has to become ready.
const DefaultReadyTimeout = 30 * time.Second

// maxFDs bounds the sockets a successor takes from its environment.
const maxFDs = 4096

// Errors of Upgrade.
var (
	// ErrInProgress is returned by Upgrade while another runs.
	ErrInProgress = errors.New("upgrade: an upgrade is in progress")
	// ErrNotReady is returned when the successor was not ready within
	// Config.ReadyTimeout (it has been killed).
	ErrNotReady = errors.New("upgrade: successor not ready in time")
)

// Config configures an Upgrader. Zero fields take the defaults.
type Config struct {
	// Path is the binary a successor runs. Default: this process's own
	// executable, as it was when New ran (a binary replaced on disk since
	// is the new one).
	Path string
	// Args are the successor's arguments, without the program name.
	// Default: this process's (os.Args[1:]).
	Args []string
	// Env is the successor's environment, to which the variables of this
	// package are added. Default: this process's, without them and
	// without systemd's LISTEN_* variables.
	Env []string
	// Stdout and Stderr are the successor's; default this process's.
	Stdout, Stderr io.Writer
	// ReadyTimeout bounds the time from the successor's start to its
	// Ready. Default DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Logger gets the upgrades' progress and failures. Default
	// slog.Default().
	Logger *slog.Logger
}

// Stats counts an Upgrader's upgrades.
type Stats struct {
	// Attempts is how many upgrades were started.
	Attempts uint64
	// Succeeded is how many successors became ready.
	Succeeded uint64
	// Failed is how many did not (refused to start, exited, timed out).
	Failed uint64
	// Ignored is how many upgrade requests came while one was running.
	Ignored uint64
	// Inherited says where this process's listeners came from:
	// "upgrade", "systemd", or "" (it bound its own).
	Inherited string
}

// Upgrader hands a server's listeners to a successor process, and takes
// them over from a predecessor or from systemd. Make one with New, early
// in main.
type Upgrader struct {
	cfg                                  Config
	log                                  *slog.Logger
	inherited                            []*os.File
	from                                 string
	readyW                               *os.File // a successor's end of its readiness pipe, until Ready
	readyMu                              sync.Mutex
	busy                                 atomic.Bool
	attempts, succeeded, failed, ignored atomic.Uint64
	hup                                  chan os.Signal // SIGHUPs held from New until Wait
}

// New makes an Upgrader. When this process is a successor (the
// variables of this package are set, by its parent) or socket-activated
// (LISTEN_PID is this process), it takes the sockets it was given:
// Listeners returns them. It removes those variables from the
// environment, so that no child of this process mistakes them for its
// own.
//
// From New on, SIGHUP no longer ends the process (its default action):
// one that arrives before Wait, while the server starts, is held and
// starts an upgrade once Wait runs.
func New(cfg Config) (*Upgrader, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.Path == "" {
		p, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("upgrade: own executable: %w", err)
		}
		cfg.Path = p
	}
	if cfg.Args == nil && len(os.Args) > 0 {
		cfg.Args = os.Args[1:]
	}
	u := &Upgrader{cfg: cfg, log: cfg.Logger, hup: make(chan os.Signal, 1)}
	signal.Notify(u.hup, syscall.SIGHUP)
	if err := u.inherit(); err != nil {
		return nil, err
	}
	if cfg.Env == nil {
		u.cfg.Env = cleanEnv(os.Environ())
	}
	return u, nil
}

// inherit takes the sockets of a predecessor, else of systemd.
func (u *Upgrader) inherit() error {
	nfd, ready, parent := os.Getenv(EnvFDs), os.Getenv(EnvReady), os.Getenv(EnvParent)
	for _, k := range []string{EnvFDs, EnvReady, EnvParent} {
		os.Unsetenv(k)
	}
	if nfd != "" && parent == strconv.Itoa(os.Getppid()) {
		n, err := strconv.Atoi(nfd)
		if err != nil || n < 0 || n > maxFDs {
			return fmt.Errorf("upgrade: %s=%q: not a socket count", EnvFDs, nfd)
		}
		rfd, err := strconv.Atoi(ready)
		if err != nil || rfd < 3+n {
			return fmt.Errorf("upgrade: %s=%q: not a descriptor", EnvReady, ready)
		}
		for i := 0; i < n; i++ {
			u.inherited = append(u.inherited, os.NewFile(uintptr(3+i), fmt.Sprintf("inherited-%d", i)))
		}
		u.readyW = os.NewFile(uintptr(rfd), "upgrade-ready")
		u.from = "upgrade"
		return nil
	}
	files, err := activation.Files(true)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	if len(files) > 0 {
		u.inherited, u.from = files, "systemd"
	}
	return nil
}

// cleanEnv drops this package's variables and systemd's LISTEN_* from env.
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case EnvFDs, EnvReady, EnvParent, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Listeners returns the listening sockets this process was given (by its
// predecessor or by systemd), for netserver.Config.Listeners, or nil when
// it was given none and binds its own. The server duplicates them:
// Ready closes these files.
func (u *Upgrader) Listeners() []*os.File { return u.inherited }

// Inherited says where Listeners came from: "upgrade", "systemd", or "".
func (u *Upgrader) Inherited() string { return u.from }

// Ready tells the predecessor, if any, that this process serves: call it
// once the server's loops run (after its Ready channel is closed). The
// predecessor then stops accepting and drains. Under systemd (NOTIFY_SOCKET
// set) it also sends READY=1 and MAINPID, so that a Type=notify service
// (NotifyAccess=all) follows the upgrade. It closes the files of
// Listeners. Calling it again does nothing but notify systemd again.
func (u *Upgrader) Ready() error {
	u.readyMu.Lock()
	defer u.readyMu.Unlock()
	for _, f := range u.inherited {
		f.Close()
	}
	u.inherited = nil
	if u.readyW == nil {
		return notifySystemd(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()))
	}
	w := u.readyW
	u.readyW = nil
	_, err := fmt.Fprintf(w, "ready %d\n", os.Getpid())
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("upgrade: telling the predecessor: %w", err)
	}
	return notifySystemd(fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()))
}

// Stats returns the Upgrader's counters.
func (u *Upgrader) Stats() Stats {
	return Stats{Attempts: u.attempts.Load(), Succeeded: u.succeeded.Load(), Failed: u.failed.Load(),
		Ignored: u.ignored.Load(), Inherited: u.from}
}

// InProgress reports whether an upgrade is running.
func (u *Upgrader) InProgress() bool { return u.busy.Load() }

// Upgrade starts a successor with files (the server's listeners, from
// netserver.Server.ListenerFiles; the caller closes them afterwards) and
// waits until it is ready, it fails, ReadyTimeout passes or ctx ends. It
// returns the successor's process id once it is ready: the caller then
// stops accepting and drains. On any error the successor, if started, has
// been killed and the caller serves on. ErrInProgress is returned while
// another upgrade runs.
func (u *Upgrader) Upgrade(ctx context.Context, files []*os.File) (int, error) {
	if !u.busy.CompareAndSwap(false, true) {
		u.ignored.Add(1)
		return 0, ErrInProgress
	}
	defer u.busy.Store(false)
	u.attempts.Add(1)
	start := time.Now()
	pid, err := u.start(ctx, files)
	if err != nil {
		u.failed.Add(1)
		u.log.Error("upgrade failed: serving on", "path", u.cfg.Path, "err", err, "after", time.Since(start).String())
		return 0, err
	}
	u.succeeded.Add(1)
	u.log.Info("upgrade: successor ready", "pid", pid, "after", time.Since(start).String())
	return pid, nil
}

// start runs the successor and waits for its readiness.
func (u *Upgrader) start(ctx context.Context, files []*os.File) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("upgrade: readiness pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(u.cfg.Path, u.cfg.Args...)
	cmd.Env = append(append([]string(nil), u.cfg.Env...),
		fmt.Sprintf("%s=%d", EnvFDs, len(files)),
		fmt.Sprintf("%s=%d", EnvReady, 3+len(files)),
		fmt.Sprintf("%s=%d", EnvParent, os.Getpid()))
	cmd.ExtraFiles = append(append([]*os.File(nil), files...), w)
	cmd.Stdout, cmd.Stderr = u.cfg.Stdout, u.cfg.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	u.log.Info("upgrade: starting successor", "path", u.cfg.Path, "listeners", len(files))
	err = cmd.Start()
	w.Close() // the successor's copy is the only one left: EOF when it exits
	if err != nil {
		return 0, fmt.Errorf("upgrade: starting %s: %w", u.cfg.Path, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it whenever it exits
	readyc := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		switch {
		case err == nil && line == fmt.Sprintf("ready %d\n", pid):
			readyc <- nil
		case err == nil:
			readyc <- fmt.Errorf("upgrade: successor %d: unexpected readiness message %q", pid, line)
		default:
			readyc <- fmt.Errorf("upgrade: successor %d closed its readiness pipe without being ready", pid)
		}
	}()
	timer := time.NewTimer(u.cfg.ReadyTimeout)
	defer timer.Stop()
	kill := func(why error) (int, error) {
		cmd.Process.Kill()
		if werr := <-exited; werr != nil && !strings.Contains(werr.Error(), "killed") {
			why = fmt.Errorf("%w (%v)", why, werr)
		}
		return 0, why
	}
	select {
	case err := <-readyc:
		if err != nil {
			// Exited, probably: say how.
			select {
			case werr := <-exited:
				return 0, fmt.Errorf("upgrade: successor %d exited before it was ready: %v", pid, exitString(werr))
			case <-time.After(time.Second):
			}
			return kill(err)
		}
		return pid, nil
	case werr := <-exited:
		return 0, fmt.Errorf("upgrade: successor %d exited before it was ready: %v", pid, exitString(werr))
	case <-timer.C:
		return kill(fmt.Errorf("%w: %d killed after %v", ErrNotReady, pid, u.cfg.ReadyTimeout))
	case <-ctx.Done():
		return kill(fmt.Errorf("upgrade: successor %d: %w", pid, ctx.Err()))
	}
}

// exitString describes how a process ended.
func exitString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
