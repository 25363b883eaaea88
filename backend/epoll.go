package backend

import "github.com/uringnet/uringnet/epoll"

// epollBackend is the epoll proactor.
type epollBackend struct{ *epoll.Poller }

func (epollBackend) Name() string { return "epoll" }

func (b epollBackend) Probe() (Probe, error) { return b.Poller.Probe(), nil }

func (b epollBackend) RegisterBufRing(bgid uint16, entries uint32, size int) (Buffers, error) {
	bufs, err := b.Poller.RegisterBuffers(bgid, entries, size)
	if err != nil {
		return nil, err
	}
	return bufs, nil
}
