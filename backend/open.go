package backend

import (
	"errors"
	"fmt"

	"github.com/uringnet/uringnet/epoll"
	"github.com/uringnet/uringnet/ring"
)

// Options configures Open.
type Options struct {
	// Entries sizes the submission queue (and the epoll backend's).
	Entries uint32
	// Ring is passed to ring.New for the io_uring backend.
	Ring ring.Options
}

// Resolve turns Auto into the backend Open will use, by setting up (and
// closing) a ring as opts asks: Uring when that works, Epoll with the
// reason when io_uring is refused (a *ring.UnavailableError). Uring and
// Epoll resolve to themselves. Any other ring error is returned.
func Resolve(k Kind, opts Options) (Kind, error) {
	if k != Auto {
		return k, nil
	}
	r, err := ring.New(opts.Entries, opts.Ring)
	if err == nil {
		r.Close()
		return Uring, nil
	}
	var ue *ring.UnavailableError
	if errors.As(err, &ue) {
		return Epoll, err
	}
	return "", err
}

// Open creates a backend of kind k (Auto is resolved first).
func Open(k Kind, opts Options) (Backend, error) {
	if k == Auto {
		var err error
		if k, err = Resolve(k, opts); k == "" {
			return nil, err
		}
	}
	switch k {
	case Uring:
		r, err := ring.New(opts.Entries, opts.Ring)
		if err != nil {
			return nil, err
		}
		return uringBackend{r}, nil
	case Epoll:
		p, err := epoll.New(opts.Entries)
		if err != nil {
			return nil, err
		}
		return epollBackend{p}, nil
	}
	return nil, fmt.Errorf("backend: unknown backend %q", k)
}
