package stdhttp

import (
	"sync"
)

// maxIdleWorkers bounds the worker goroutines kept parked between
// requests.
const maxIdleWorkers = 128

// slots bounds the handlers running at once and runs them on worker
// goroutines that live on between requests (a new goroutine per request
// would grow a fresh stack each time). Requests over the bound wait in
// order of arrival. It also keeps the calls in progress, for CancelAll.
type slots struct {
	mu       sync.Mutex
	max      int
	running  int
	waiting  []*call
	idle     []*worker // parked, most recently parked last
	calls    *call     // running and waiting calls (a list through call.prev/next)
	canceled bool      // CancelAll ran: calls from now on start cancelled
}

// worker is a goroutine that runs calls.
type worker struct {
	s  *slots
	ch chan *call
}

// start runs cl on a worker, or queues it when max handlers run and
// returns false.
func (s *slots) start(cl *call) bool {
	s.mu.Lock()
	s.link(cl)
	if s.running >= s.max {
		s.waiting = append(s.waiting, cl)
		s.mu.Unlock()
		return false
	}
	s.running++
	s.dispatch(cl)
	return true
}

// link adds cl to the calls in progress (s.mu held).
func (s *slots) link(cl *call) {
	if s.canceled {
		cl.cancel()
	}
	cl.next = s.calls
	if s.calls != nil {
		s.calls.prev = cl
	}
	s.calls = cl
}

// unlink removes cl from the calls in progress (s.mu held).
func (s *slots) unlink(cl *call) {
	if cl.prev != nil {
		cl.prev.next = cl.next
	} else if s.calls == cl {
		s.calls = cl.next
	}
	if cl.next != nil {
		cl.next.prev = cl.prev
	}
	cl.prev, cl.next = nil, nil
}

// dispatch hands cl, which holds a slot, to an idle worker or a new one.
// It unlocks s.mu.
func (s *slots) dispatch(cl *call) {
	if n := len(s.idle); n > 0 {
		w := s.idle[n-1]
		s.idle[n-1] = nil
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		w.ch <- cl
		return
	}
	s.mu.Unlock()
	w := &worker{s: s, ch: make(chan *call, 1)}
	go w.run(cl)
}

// leave gives up cl's slot while its handler goes on (it hijacked the
// connection, or handed it to the loops): a hijacked connection is not a
// request in progress, and must not hold a slot or Shutdown.
func (s *slots) leave(cl *call) {
	cl.left.Store(true)
	if next := s.next(cl); next != nil {
		next.a.ns.RunOnLoop(next.c.Loop(), func() { next.resume(pauseWaiting) })
		s.mu.Lock()
		s.dispatch(next)
	}
}

// run serves calls, and parks between them; it ends when enough workers
// are parked already.
func (w *worker) run(cl *call) {
	for cl != nil {
		for cl != nil {
			cl.run()
			if cl.left.Load() {
				break // its slot went on when it left
			}
			cl = w.s.next(cl)
			if cl != nil {
				next := cl
				next.a.ns.RunOnLoop(next.c.Loop(), func() { next.resume(pauseWaiting) })
			}
		}
		cl = w.park()
	}
}

// next ends done (unless it left before) and gives its slot to the first
// waiting request whose client is still there, or releases the slot and
// returns nil.
func (s *slots) next(done *call) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unlink(done)
	for len(s.waiting) > 0 {
		cl := s.waiting[0]
		s.waiting[0] = nil
		s.waiting = s.waiting[1:]
		if len(s.waiting) == 0 {
			s.waiting = nil
		}
		if !cl.isGone() {
			return cl
		}
		s.unlink(cl)
	}
	s.running--
	return nil
}

// park waits for the next call; nil means enough workers wait already,
// and this one ends.
func (w *worker) park() *call {
	s := w.s
	s.mu.Lock()
	if len(s.idle) >= maxIdleWorkers {
		s.mu.Unlock()
		return nil
	}
	s.idle = append(s.idle, w)
	s.mu.Unlock()
	return <-w.ch
}

// cancelAll cancels every call in progress, and the calls to come.
func (s *slots) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.canceled = true
	for cl := s.calls; cl != nil; cl = cl.next {
		cl.cancel()
	}
}

// load returns the handlers running and the requests waiting.
func (s *slots) load() (running, waiting int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, len(s.waiting)
}
