package stdhttp

import (
	"sync"
	"time"
)

// workerIdle is how long a worker goroutine waits for a request before it
// ends.
const workerIdle = 10 * time.Second

// slots bounds the handlers running at once and runs them on worker
// goroutines that live on between requests (a new goroutine per request
// would grow a fresh stack each time). Requests over the bound wait in
// order of arrival.
type slots struct {
	mu      sync.Mutex
	max     int
	running int
	waiting []*call
	idle    []*worker // parked, most recently parked last
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
	if s.running >= s.max {
		s.waiting = append(s.waiting, cl)
		s.mu.Unlock()
		return false
	}
	s.running++
	s.dispatch(cl)
	return true
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
	if next := s.next(); next != nil {
		next.a.ns.RunOnLoop(next.c.Loop(), func() { next.resume(pauseWaiting) })
		s.mu.Lock()
		s.dispatch(next)
	}
}

// run serves calls until none comes for workerIdle.
func (w *worker) run(cl *call) {
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		for cl != nil {
			cl.run()
			if cl.left.Load() {
				break // its slot went on when it left
			}
			cl = w.s.next()
			if cl != nil {
				next := cl
				next.a.ns.RunOnLoop(next.c.Loop(), func() { next.resume(pauseWaiting) })
			}
		}
		if cl = w.park(t); cl == nil {
			return
		}
	}
}

// next gives the slot to the first waiting request whose client is still
// there, or releases it and returns nil.
func (s *slots) next() *call {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	}
	s.running--
	return nil
}

// park waits for the next call; nil means the worker idled out and
// ends.
func (w *worker) park(t *time.Timer) *call {
	s := w.s
	s.mu.Lock()
	s.idle = append(s.idle, w)
	s.mu.Unlock()
	t.Reset(workerIdle)
	select {
	case cl := <-w.ch:
		return cl
	case <-t.C:
	}
	s.mu.Lock()
	for i, x := range s.idle {
		if x == w {
			s.idle = append(s.idle[:i], s.idle[i+1:]...)
			s.mu.Unlock()
			return nil
		}
	}
	s.mu.Unlock()
	return <-w.ch // start took this worker just as the timer fired
}

// load returns the handlers running and the requests waiting.
func (s *slots) load() (running, waiting int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, len(s.waiting)
}
