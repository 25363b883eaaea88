package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec describes a process to start: a server under test or a load generator.
type Spec struct {
	Name string   // shown in messages
	Path string   // the program
	Args []string // its arguments
	Env  []string // KEY=VALUE pairs added to the harness's environment
	Dir  string   // working directory; "" is the harness's
	CPU  string   // taskset CPU list such as "0"; "" runs unpinned

	// ReadyDial, when set, makes the process ready once a TCP connection to this address
	// succeeds (for programs that print nothing, such as nginx). Otherwise the process is
	// ready when it prints a line containing "listening on ADDR".
	ReadyDial string
	// ReadyUnix, when set (and ReadyDial is not), makes the process ready once a connection
	// to the Unix socket at this path succeeds (fcgiwrap, a FastCGI application).
	ReadyUnix string
	// ReadyTimeout bounds the wait for readiness; 0 means 10 s.
	ReadyTimeout time.Duration
}

// command returns the argv to exec, wrapped in taskset when a CPU is set.
func (s Spec) command() []string {
	argv := append([]string{s.Path}, s.Args...)
	if s.CPU != "" {
		argv = append([]string{"taskset", "-c", s.CPU}, argv...)
	}
	return argv
}

// tailLines is how many output lines a Proc keeps for error messages.
const tailLines = 20

// Proc is a started server. Its PID is the program's own: taskset execs it in place.
type Proc struct {
	Name string
	Addr string // the address from the "listening on" line, or Spec.ReadyDial

	cmd   *exec.Cmd
	ready chan string
	done  chan struct{} // closed when the process has been waited for
	err   error         // from cmd.Wait, valid after done

	mu    sync.Mutex
	stats string
	tail  []string
}

// Pid returns the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Alive reports whether the process has not exited yet.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Tail returns the last lines the process printed (stdout and stderr).
func (p *Proc) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// line records one line of the process's output.
func (p *Proc) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if strings.HasPrefix(s, "stats ") || s == "stats" {
		p.stats = s
	}
	if p.tail = append(p.tail, s); len(p.tail) > tailLines {
		p.tail = p.tail[1:]
	}
	if _, addr, ok := strings.Cut(s, "listening on "); ok {
		if f := strings.Fields(addr); len(f) > 0 {
			select {
			case p.ready <- f[0]:
			default: // only the first one counts
			}
		}
	}
}

// lineWriter splits what is written to it into lines.
type lineWriter struct {
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a runaway line: keep memory bounded
		w.fn(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(b), nil
}

// Group starts processes and makes sure every one of them is gone at the end: call
// KillAll (typically deferred) once the benchmark is over, including on error.
type Group struct {
	mu    sync.Mutex
	procs []*Proc
}

// Start starts the process described by s and waits until it is ready (see Spec). On any
// error the process is killed before Start returns.
func (g *Group) Start(ctx context.Context, s Spec) (*Proc, error) {
	argv := s.command()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), s.Env...)
	// Own process group, so that children (nginx workers) can be killed with it; and
	// SIGKILL if the harness dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	p := &Proc{Name: s.Name, cmd: cmd, ready: make(chan string, 1), done: make(chan struct{})}
	cmd.Stdout = &lineWriter{fn: p.line}
	cmd.Stderr = &lineWriter{fn: p.line}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.Name, err)
	}
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	timeout := s.ReadyTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	if s.ReadyDial != "" {
		err = p.waitDial(ctx, "tcp", s.ReadyDial)
	} else if s.ReadyUnix != "" {
		err = p.waitDial(ctx, "unix", s.ReadyUnix)
	} else {
		err = p.waitLine(ctx)
	}
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("start %s: %w\n%s", s.Name, err, indent(p.Tail()))
	}
	return p, nil
}

func (p *Proc) waitLine(ctx context.Context) error {
	select {
	case addr := <-p.ready:
		p.Addr = addr
		return nil
	case <-p.done:
		return fmt.Errorf("exited before printing \"listening on\" (%v)", p.err)
	case <-ctx.Done():
		return fmt.Errorf("no \"listening on\" line: %w", ctx.Err())
	}
}

func (p *Proc) waitDial(ctx context.Context, network, addr string) error {
	for {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			p.Addr = addr
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before accepting connections (%v)", p.err)
		case <-ctx.Done():
			return fmt.Errorf("%s does not accept connections: %w (last: %v)", addr, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop sends SIGINT, waits up to timeout for the process to exit (SIGKILL after that) and
// returns its final "stats ..." line ("" if it printed none). The error reports a kill or a
// non-zero exit.
func (p *Proc) Stop(timeout time.Duration) (string, error) {
	if p.Alive() {
		_ = p.cmd.Process.Signal(syscall.SIGINT)
	}
	var err error
	select {
	case <-p.done:
		if p.err != nil {
			err = fmt.Errorf("%s exited: %w\n%s", p.Name, p.err, indent(p.Tail()))
		}
	case <-time.After(timeout):
		err = fmt.Errorf("%s did not exit within %v of SIGINT; killed\n%s", p.Name, timeout, indent(p.Tail()))
	}
	p.Kill()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats, err
}

// Kill kills the process and its process group with SIGKILL and waits for it. It is safe
// to call more than once and after the process exited.
func (p *Proc) Kill() {
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the group: workers, helpers
	if p.Alive() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// KillAll kills every process the group started that is still running.
func (g *Group) KillAll() {
	g.mu.Lock()
	procs := g.procs
	g.procs = nil
	g.mu.Unlock()
	for _, p := range procs {
		p.Kill()
	}
}

// Run runs a short-lived program (a load generator) to completion within timeout and
// returns its standard output. The error includes the end of its standard error.
func Run(ctx context.Context, s Spec, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := s.command()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: %w (limit %v)", s.Name, ctx.Err(), timeout)
	}
	if err != nil {
		return out.String(), fmt.Errorf("%s: %w\n%s", s.Name, err, indent(lastLines(errb.String(), tailLines)))
	}
	return out.String(), nil
}

// FindLine returns the first line of out that starts with tag followed by a space.
func FindLine(out, tag string) (string, error) {
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, tag+" ") {
			return line, nil
		}
	}
	return "", errors.New("no \"" + tag + " ...\" line in the output")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	if s == "" {
		return "    (no output)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
