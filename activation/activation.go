package activation

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FirstFD is the first file descriptor passed by socket activation
// (SD_LISTEN_FDS_START).
const FirstFD = 3

// maxFDs bounds LISTEN_FDS: no real service is handed more sockets than
// this, and a larger count is a corrupt environment, not a request to wrap
// thousands of descriptors.
const maxFDs = 4096

// The environment variables of the protocol.
const (
	envPID     = "LISTEN_PID"
	envFDs     = "LISTEN_FDS"
	envFDNames = "LISTEN_FDNAMES"
)

// unknownName is the name of a descriptor when LISTEN_FDNAMES is absent, as
// sd_listen_fds_with_names(3) reports it.
const unknownName = "unknown"

// Parse reads the socket activation variables through getenv for the
// process pid. It returns n == 0 and a nil error when the process was not
// activated: LISTEN_PID or LISTEN_FDS is absent, LISTEN_PID names another
// process (the variables were inherited from a parent that did not unset
// them), or LISTEN_FDS is 0. Otherwise the descriptors are FirstFD through
// FirstFD+n-1, and names holds one name per descriptor: the entries of
// LISTEN_FDNAMES, whose count must be n, or "unknown" for each when
// LISTEN_FDNAMES is absent or empty.
//
// A malformed LISTEN_PID or LISTEN_FDS, a negative or absurdly large count,
// or a LISTEN_FDNAMES that does not name exactly n descriptors is an error.
func Parse(getenv func(string) string, pid int) (n int, names []string, err error) {
	pidStr := getenv(envPID)
	if pidStr == "" {
		return 0, nil, nil
	}
	listenPID, err := strconv.Atoi(pidStr)
	if err != nil {
		return 0, nil, fmt.Errorf("activation: %s=%q: %w", envPID, pidStr, err)
	}
	if listenPID <= 0 {
		return 0, nil, fmt.Errorf("activation: %s=%q: not a process id", envPID, pidStr)
	}
	if listenPID != pid {
		return 0, nil, nil
	}
	fdsStr := getenv(envFDs)
	if fdsStr == "" {
		return 0, nil, nil
	}
	n, err = strconv.Atoi(fdsStr)
	if err != nil {
		return 0, nil, fmt.Errorf("activation: %s=%q: %w", envFDs, fdsStr, err)
	}
	switch {
	case n < 0:
		return 0, nil, fmt.Errorf("activation: %s=%q: negative count", envFDs, fdsStr)
	case n > maxFDs:
		return 0, nil, fmt.Errorf("activation: %s=%q: more than %d descriptors", envFDs, fdsStr, maxFDs)
	case n == 0:
		return 0, nil, nil
	}
	namesStr := getenv(envFDNames)
	if namesStr == "" {
		// getenv cannot tell an empty variable from an absent one; both
		// mean "no names" (systemd would reject an empty one for n > 0).
		names = make([]string, n)
		for i := range names {
			names[i] = unknownName
		}
		return n, names, nil
	}
	// As systemd splits it: separators are not coalesced, so "a::b" names
	// three descriptors, the second with an empty name.
	names = strings.Split(namesStr, ":")
	if len(names) != n {
		return 0, nil, fmt.Errorf("activation: %s=%q names %d descriptors, %s=%d",
			envFDNames, namesStr, len(names), envFDs, n)
	}
	return n, names, nil
}

// Files returns the descriptors passed to this process by socket
// activation, one *os.File per descriptor FirstFD through FirstFD+n-1, in
// order, each named after its LISTEN_FDNAMES entry ("unknown" without
// names), and marks each close-on-exec, as sd_listen_fds(3) does. It
// returns nil, nil when the process was not activated (see Parse).
//
// When unsetEnv is true, Files unsets LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES whatever the outcome, as sd_listen_fds(3) does, so that
// child processes do not inherit them.
//
// Files does not check what the descriptors are; net.FileListener does,
// and the caller closes each *os.File once done with it.
func Files(unsetEnv bool) ([]*os.File, error) {
	return files(os.Getenv, os.Getpid(), FirstFD, unsetEnv)
}

// files is Files with the environment, process id and first descriptor as
// parameters, so that tests can run it in the test process itself on
// descriptors of their choosing.
func files(getenv func(string) string, pid, first int, unsetEnv bool) ([]*os.File, error) {
	if unsetEnv {
		defer func() {
			for _, k := range []string{envPID, envFDs, envFDNames} {
				os.Unsetenv(k) // fails only for an invalid key
			}
		}()
	}
	n, names, err := Parse(getenv, pid)
	if err != nil || n == 0 {
		return nil, err
	}
	// Check and mark every descriptor before wrapping any: an *os.File
	// closes its descriptor when garbage collected, which must not happen
	// to descriptors handed back with an error.
	for fd := first; fd < first+n; fd++ {
		if err := closeOnExec(fd); err != nil {
			return nil, fmt.Errorf("activation: descriptor %d of %s=%d: %w", fd, envFDs, n, err)
		}
	}
	fs := make([]*os.File, n)
	for i := range fs {
		fs[i] = os.NewFile(uintptr(first+i), names[i])
	}
	return fs, nil
}

// closeOnExec sets FD_CLOEXEC on fd, failing (EBADF) if fd is not open.
func closeOnExec(fd int) error {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return fmt.Errorf("fcntl F_GETFD: %w", err)
	}
	if flags&unix.FD_CLOEXEC != 0 {
		return nil
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC); err != nil {
		return fmt.Errorf("fcntl F_SETFD: %w", err)
	}
	return nil
}
