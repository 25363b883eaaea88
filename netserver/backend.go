package netserver

import (
	"github.com/uringnet/uringnet/backend"
)

// chooseBackend resolves Config.Backend once for all loops: "auto" sets up
// (and closes) a ring as the loops would, and falls back to epoll when
// io_uring is refused, saying why in one log line.
func (s *Server) chooseBackend() error {
	k, err := backend.ParseKind(s.cfg.Backend)
	if err != nil {
		return err
	}
	resolved, err := backend.Resolve(k, s.backendOptions())
	switch {
	case resolved == "":
		return err
	case err != nil:
		s.log.Warn("netserver: io_uring unavailable; using the epoll backend", "cause", err.Error())
	}
	s.backend, s.beName = resolved, resolved.Name()
	return nil
}

// backendOptions returns what each loop's backend is opened with.
func (s *Server) backendOptions() backend.Options {
	off := func(f Features) bool { return s.cfg.Disable&f != 0 }
	return backend.Options{
		Entries:        s.cfg.RingEntries,
		NoDeferTaskrun: off(FeatDeferTaskrun),
		NoSetupFlags:   off(FeatSetupFlags),
		NoExtArg:       off(FeatExtArg),
	}
}

// Backend returns the name of the kernel interface the loops run on:
// "io_uring" or "epoll" (Config.Backend resolved).
func (s *Server) Backend() string { return s.beName }
