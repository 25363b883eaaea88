package ring

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// UnavailableError says why io_uring cannot be used on this machine and what
// to do about it.
type UnavailableError struct {
	Err   error  // the errno from io_uring_setup
	Cause string // what is in the way
	Fix   string // what to do
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("io_uring unavailable: %s (%v); fix: %s", e.Cause, e.Err, e.Fix)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// sysctlDisabled is the path of the kernel.io_uring_disabled sysctl (6.6+).
const sysctlDisabled = "/proc/sys/kernel/io_uring_disabled"

func classifySetupError(err error, flags uint32) error {
	switch {
	case errors.Is(err, unix.ENOSYS):
		return &UnavailableError{Err: err,
			Cause: "the kernel has no io_uring (ENOSYS: built without CONFIG_IO_URING, or older than 5.1)",
			Fix:   "run on Linux 5.10 or newer built with CONFIG_IO_URING=y"}
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		if v := readSysctl(sysctlDisabled); v == "1" || v == "2" {
			return &UnavailableError{Err: err,
				Cause: "io_uring is disabled by the sysctl kernel.io_uring_disabled=" + v,
				Fix:   "run `sysctl -w kernel.io_uring_disabled=0`, or with value 1 add the user to the group in kernel.io_uring_group"}
		}
		return &UnavailableError{Err: err,
			Cause: "io_uring_setup is denied, most likely by a seccomp profile (Docker's and many sandboxes' default block io_uring)",
			Fix:   "allow io_uring_setup, io_uring_enter and io_uring_register in the seccomp profile (e.g. docker run --security-opt seccomp=<profile>)"}
	case errors.Is(err, unix.ENOMEM):
		return &UnavailableError{Err: err,
			Cause: "the ring's memory could not be locked (ENOMEM; kernels before 5.12 charge rings to RLIMIT_MEMLOCK)",
			Fix:   "raise RLIMIT_MEMLOCK (ulimit -l) or use fewer or smaller rings"}
	}
	return fmt.Errorf("ring: io_uring_setup(flags=%#x): %w", flags, err)
}

func readSysctl(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
