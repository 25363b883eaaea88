// Package cref builds the C reference servers under bench/cref (a liburing echo server) with
// gcc at run time. A machine without gcc or liburing gets an *Unavailable error that says
// which is missing and how to install it, so the benchmarks report the reference as n/a and
// the tests skip.
package cref

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Unavailable says why a reference server cannot be built here (a missing compiler or
// library), as opposed to a build that failed for another reason.
type Unavailable struct{ Reason string }

func (u *Unavailable) Error() string { return u.Reason }

// IsUnavailable reports whether err is (or wraps) an *Unavailable.
func IsUnavailable(err error) bool {
	var u *Unavailable
	return errors.As(err, &u)
}

// EchoSource is the echo server's source, relative to the repository root.
const EchoSource = "bench/cref/echo.c"

// CC returns the C compiler to use: $CC when set, else gcc.
func CC() string {
	if cc := os.Getenv("CC"); cc != "" {
		return cc
	}
	return "gcc"
}

// BuildEcho compiles the liburing echo server from repo/bench/cref/echo.c into out.
func BuildEcho(ctx context.Context, repo, out string) error {
	return build(ctx, filepath.Join(repo, EchoSource), out, "-luring")
}

// build runs "$CC -O2 -o out src libs..." and classifies a failure.
func build(ctx context.Context, src, out string, libs ...string) error {
	cc := CC()
	if _, err := exec.LookPath(cc); err != nil {
		return &Unavailable{Reason: fmt.Sprintf("no C compiler (%s not found; apt-get install gcc)", cc)}
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("cref: %w", err)
	}
	args := append([]string{"-O2", "-Wall", "-o", out, src}, libs...)
	cmd := exec.CommandContext(ctx, cc, args...)
	b, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	msg := string(b)
	if strings.Contains(msg, "liburing.h") || strings.Contains(msg, "-luring") {
		return &Unavailable{Reason: "liburing is not installed (apt-get install liburing-dev)"}
	}
	return fmt.Errorf("cref: %s %s: %w\n%s", cc, strings.Join(args, " "), err, strings.TrimSpace(msg))
}
