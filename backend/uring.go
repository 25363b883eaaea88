package backend

import "github.com/uringnet/uringnet/ring"

// uringBackend is io_uring itself.
type uringBackend struct{ *ring.Ring }

func (uringBackend) Name() string { return "io_uring" }

func (b uringBackend) Probe() (Probe, error) { return b.Ring.Probe() }

func (b uringBackend) RegisterBufRing(bgid uint16, entries uint32, size int) (Buffers, error) {
	br, err := b.Ring.RegisterBufRing(bgid, entries, size)
	if err != nil {
		return nil, err
	}
	return br, nil
}

// Forget has nothing to drop: the kernel keeps no state about an fd
// between requests.
func (uringBackend) Forget(int) {}

// AsRing returns the ring under b when b is the io_uring backend, for tests
// and diagnostics that look at ring setup flags.
func AsRing(b Backend) (*ring.Ring, bool) {
	u, ok := b.(uringBackend)
	return u.Ring, ok
}
