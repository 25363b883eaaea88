package tasks

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ID identifies a task: slot index in the low 32 bits, generation in the
// high 32 bits. Generations start at 1, so the zero ID is never valid.
type ID uint64

func makeID(slot, gen uint32) ID { return ID(uint64(gen)<<32 | uint64(slot)) }

// Slot returns the slot index of the id.
func (id ID) Slot() uint32 { return uint32(id) }

// Gen returns the generation of the id.
func (id ID) Gen() uint32 { return uint32(id >> 32) }

// maxGen keeps ids away from ^uint64(0), which the ring reserves.
const maxGen = 1<<31 - 1

// Task is one operation in flight. The fields referencing memory keep it
// alive until Release; the others are for the owner's bookkeeping.
type Task struct {
	Kind   uint8  // what the operation is, in the owner's terms
	Flags  uint8  // owner-defined flags
	Client uint64 // the client the task belongs to
	Fd     int32  // the fd the operation runs on
	Off    int    // progress (bytes done) for operations resumed after a short result
	Aux    uint64 // owner-defined extra value

	Buf  []byte       // the buffer the kernel reads or writes
	Iovs []unix.Iovec // iovec array handed to the kernel
	Bufs [][]byte     // the buffers Iovs points into
	Ref  any          // any other object the kernel or the callback needs kept alive
	Next ID           // owner-defined link (e.g. the next task of a group)
}

type slot struct {
	gen  uint32
	used bool
	task Task
}

// Table is a bounded set of tasks.
type Table struct {
	chunks [][]slot // slots in fixed chunks, allocated as the table fills
	size   int      // the most slots the table may have
	n      int      // slots allocated
	free   []uint32 // stack of free slot indexes among the allocated ones
	high   int      // slots [high, n) have never been used

	acquired uint64
	released uint64
	stale    uint64
	full     uint64
}

// Stats are the table's counters.
type Stats struct {
	InFlight int    // tasks acquired and not yet released
	Capacity int    // the table's size
	Acquired uint64 // tasks ever acquired
	Released uint64 // tasks ever released
	Stale    uint64 // lookups with an id whose generation had ended (bugs; must stay 0)
	Full     uint64 // Acquire calls refused because the table was full
}

// New returns a table with room for size tasks in flight.
func New(size int) (*Table, error) {
	if size <= 0 || size > 1<<30 {
		return nil, fmt.Errorf("tasks: table size %d out of range", size)
	}
	// Slots are allocated a chunk at a time as tasks are in flight at once,
	// so a large table costs memory (and garbage-collector headroom) only
	// for the most tasks ever in flight. Chunks never move: a *Task stays
	// valid while the table grows.
	return &Table{size: size}, nil
}

// chunkBits sets the slots per chunk.
const chunkBits = 9

func (t *Table) slot(i uint32) *slot {
	return &t.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
}

// grow allocates the next chunk, or reports false at the size limit.
func (t *Table) grow() bool {
	k := min(1<<chunkBits, t.size-t.n)
	if k <= 0 {
		return false
	}
	t.chunks = append(t.chunks, make([]slot, k))
	for i := t.n + k - 1; i >= t.n; i-- {
		t.free = append(t.free, uint32(i)) // pop from the end: lowest first
	}
	t.n += k
	return true
}

// Acquire takes a free slot and returns its id and task, zeroed. It returns
// ok=false when every slot is in flight.
func (t *Table) Acquire() (id ID, task *Task, ok bool) {
	if len(t.free) == 0 && !t.grow() {
		t.full++
		return 0, nil, false
	}
	n := len(t.free)
	i := t.free[n-1]
	t.free = t.free[:n-1]
	s := t.slot(i)
	if s.gen == 0 {
		s.gen = 1
	}
	if int(i) >= t.high {
		t.high = int(i) + 1
	}
	s.used = true
	t.acquired++
	return makeID(i, s.gen), &s.task, true
}

// Get returns the task with this id. A stale or unknown id returns ok=false
// and is counted in Stats().Stale.
func (t *Table) Get(id ID) (*Task, bool) {
	i := id.Slot()
	if int(i) >= t.n {
		t.stale++
		return nil, false
	}
	s := t.slot(i)
	if !s.used || s.gen != id.Gen() {
		t.stale++
		return nil, false
	}
	return &s.task, true
}

// Release ends the task with this id: it drops every reference the task
// held and moves the slot to its next generation. Releasing a stale id is
// counted and otherwise ignored, so a task ends exactly once.
func (t *Table) Release(id ID) bool {
	if _, ok := t.Get(id); !ok {
		return false
	}
	s := t.slot(id.Slot())
	s.task = Task{}
	s.used = false
	s.gen++
	if s.gen > maxGen {
		s.gen = 1
	}
	t.free = append(t.free, id.Slot())
	t.released++
	return true
}

// InFlight returns the number of tasks acquired and not released.
func (t *Table) InFlight() int { return t.n - len(t.free) }

// Free returns the number of free slots.
func (t *Table) Free() int { return t.size - t.n + len(t.free) }

// ForEach calls f for every task in flight (for shutdown and cancellation).
// It visits only the slots used so far (released slots are reused before
// new ones), so its cost follows the peak number of tasks in flight, not
// the table's size, and it never touches memory no task has used.
func (t *Table) ForEach(f func(ID, *Task)) {
	for i := 0; i < t.high; i++ {
		if s := t.slot(uint32(i)); s.used {
			f(makeID(uint32(i), s.gen), &s.task)
		}
	}
}

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	return Stats{
		InFlight: t.InFlight(), Capacity: t.size,
		Acquired: t.acquired, Released: t.released, Stale: t.stale, Full: t.full,
	}
}
