package backend

import (
	"fmt"
	"strings"
)

// Kind names a backend choice.
type Kind string

// The backend choices.
const (
	Auto  Kind = "auto"  // io_uring when io_uring_setup succeeds, else epoll
	Uring Kind = "uring" // io_uring, or fail
	Epoll Kind = "epoll" // epoll
)

// ParseKind parses "auto" (or ""), "uring" (or "io_uring") and "epoll",
// ignoring case and surrounding spaces.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "uring", "io_uring", "iouring":
		return Uring, nil
	case "epoll":
		return Epoll, nil
	}
	return "", fmt.Errorf("backend: unknown backend %q (want auto, uring or epoll)", s)
}

// Name returns the name of the backend Open gives for k, as
// Backend.Name tells it: "io_uring" for Uring, "epoll" for Epoll, and ""
// for Auto (resolve it first).
func (k Kind) Name() string {
	switch k {
	case Uring:
		return "io_uring"
	case Epoll:
		return "epoll"
	}
	return ""
}
