package natstest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a bus server process (nats-server or redis-server) on
// 127.0.0.1.
type Server struct {
	tb   testing.TB
	bin  string
	args []string // after the binary; "PORT" stands for the port
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	out    *bytes.Buffer
}

// binary returns the program to run: $env, or name on PATH, or "" when
// there is none.
func binary(env, name string) string {
	if b := os.Getenv(env); b != "" {
		return b
	}
	b, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return b
}

// Binary returns the nats-server to run: $NATS_SERVER, or nats-server on
// PATH, or "" when there is none.
func Binary() string { return binary("NATS_SERVER", "nats-server") }

// Start runs a nats-server on a free port and stops it at the end of the
// test. Without a nats-server it skips the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, Binary(), "nats-server", "NATS_SERVER", "-a", "127.0.0.1", "-p", "PORT")
}

// StartRedis runs a redis-server (Debian's redis-server package, or
// $REDIS_SERVER) on a free port, without persistence, and stops it at the
// end of the test. Without one it skips the test.
func StartRedis(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, binary("REDIS_SERVER", "redis-server"), "redis-server", "REDIS_SERVER",
		"--bind", "127.0.0.1", "--port", "PORT", "--save", "", "--appendonly", "no")
}

func start(tb testing.TB, bin, name, env string, args ...string) *Server {
	tb.Helper()
	if bin == "" {
		tb.Skipf("natstest: no %s (install Debian's %s package, or set %s); .ci/run installs it", name, name, env)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("natstest: free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{tb: tb, bin: bin, args: args, port: port}
	s.Restart()
	tb.Cleanup(s.Stop)
	return s
}

// URL is the server's client URL (for NATS).
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Restart starts the server (again) on its port and waits until it
// accepts connections.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.tb.Fatalf("natstest: Restart of a running server")
	}
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.out = new(bytes.Buffer)
		args := make([]string, len(s.args))
		for i, a := range s.args {
			if a == "PORT" {
				a = strconv.Itoa(s.port)
			}
			args[i] = a
		}
		cmd := exec.Command(s.bin, args...)
		cmd.Stdout, cmd.Stderr = s.out, s.out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err = cmd.Start(); err != nil {
			s.tb.Fatalf("natstest: start %s: %v", s.bin, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if err = waitListening(s.Addr(), exited, deadline); err == nil {
			s.cmd, s.exited = cmd, exited
			return
		}
		cmd.Process.Kill()
		<-exited
		if time.Now().After(deadline) {
			s.tb.Fatalf("natstest: %s did not start on %s: %v\n%s", s.bin, s.Addr(), err, s.out)
		}
		// The port may still be held after a stop (TIME_WAIT is fine for
		// a listener, but an old process may linger): try again.
		time.Sleep(100 * time.Millisecond)
	}
}

// waitListening waits until addr accepts a connection, the process
// exits, or deadline passes.
func waitListening(addr string, exited <-chan struct{}, deadline time.Time) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return err
		}
	}
}

// Stop kills the server and waits for it to exit; a stopped server is
// left alone.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// Log returns what the server printed since it was last started.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.out.String())
}
