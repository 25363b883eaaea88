package backend

import (
	"errors"
	"fmt"

	"github.com/uringnet/uringnet/epoll"
	"github.com/uringnet/uringnet/ring"
)

// Options configures Open. The io_uring backend asks the kernel for
// SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL (else SUBMIT_ALL|COOP_TASKRUN),
// a CQ four times the SQ, and bounded waits through EXT_ARG, dropping what
// the kernel lacks; the No* fields switch those off (to test the
// fallbacks). The epoll backend has none of them.
type Options struct {
	// Entries sizes the submission queue.
	Entries uint32
	// NoDeferTaskrun leaves SINGLE_ISSUER|DEFER_TASKRUN out.
	NoDeferTaskrun bool
	// NoSetupFlags leaves SUBMIT_ALL|COOP_TASKRUN out (with NoDeferTaskrun).
	NoSetupFlags bool
	// NoExtArg bounds waits with a TIMEOUT request, as before Linux 5.11.
	NoExtArg bool
}

// ringOptions returns what ring.New is given.
func (o Options) ringOptions() ring.Options {
	var flags uint32
	switch {
	case !o.NoDeferTaskrun:
		flags = ring.SetupSingleIssuer | ring.SetupDeferTaskrun | ring.SetupSubmitAll
	case !o.NoSetupFlags:
		flags = ring.SetupSubmitAll | ring.SetupCoopTaskrun
	}
	return ring.Options{Flags: flags, CQEntries: 4 * o.Entries, Fallback: true, NoExtArg: o.NoExtArg}
}

// Resolve turns Auto into the backend Open will use, by setting up (and
// closing) a ring as opts asks: Uring when that works, Epoll with the
// reason when io_uring is refused (a *ring.UnavailableError). Uring and
// Epoll resolve to themselves. Any other ring error is returned.
func Resolve(k Kind, opts Options) (Kind, error) {
	if k != Auto {
		return k, nil
	}
	r, err := ring.New(opts.Entries, opts.ringOptions())
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
		b, err := newUring(opts.Entries, opts.ringOptions())
		if err != nil {
			return nil, err
		}
		return b, nil
	case Epoll:
		p, err := epoll.New(opts.Entries)
		if err != nil {
			return nil, err
		}
		return epollBackend{p}, nil
	}
	return nil, fmt.Errorf("backend: unknown backend %q", k)
}
