package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const refusedChildEnv = "URINGNET_REFUSED_CHILD"

// denyIOUring installs, on every thread of the process, a seccomp filter
// that answers io_uring_setup, io_uring_enter and io_uring_register with
// EPERM, as Docker's default profile does.
func denyIOUring() error {
	const (
		ldAbs  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret    = unix.BPF_RET | unix.BPF_K
		allow  = 0x7fff0000     // SECCOMP_RET_ALLOW
		eperm  = 0x00050000 | 1 // SECCOMP_RET_ERRNO | EPERM
		tsync  = 1              // SECCOMP_FILTER_FLAG_TSYNC
		filter = 1              // SECCOMP_SET_MODE_FILTER
		nrOff  = 0              // offsetof(struct seccomp_data, nr)
		setup  = unix.SYS_IO_URING_SETUP
		enter  = unix.SYS_IO_URING_ENTER
		reg    = unix.SYS_IO_URING_REGISTER
	)
	prog := []unix.SockFilter{
		{Code: ldAbs, K: nrOff},
		{Code: jeq, K: setup, Jt: 3},
		{Code: jeq, K: enter, Jt: 2},
		{Code: jeq, K: reg, Jt: 1},
		{Code: ret, K: allow},
		{Code: ret, K: eperm},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, filter, tsync, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return e
	}
	return nil
}

// TestRefusedChild is the child of TestDemoWhereIOUringIsRefused: the demo
// under the seccomp filter.
func TestRefusedChild(t *testing.T) {
	if os.Getenv(refusedChildEnv) == "" {
		t.Skip("the child of TestDemoWhereIOUringIsRefused")
	}
	if err := denyIOUring(); err != nil {
		t.Fatalf("seccomp: %v", err)
	}
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-access-log=false"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.logOut = nil
	if err := run(o, os.Stdout, make(chan os.Signal)); err != nil {
		os.Stderr.WriteString("run: " + err.Error() + "\n")
		os.Exit(3)
	}
}

// Where io_uring is refused the demo fails at start-up, saying why, and
// never claims to be listening.
func TestDemoWhereIOUringIsRefused(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRefusedChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), refusedChildEnv+"=1")
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
	if !strings.Contains(stderr.String(), "io_uring") {
		t.Errorf("the error does not name io_uring: %s", &stderr)
	}
}
