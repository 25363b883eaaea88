package tasks

import (
	"runtime"
	"testing"
	"weak"
)

func TestAcquireGetRelease(t *testing.T) {
	tb, err := New(4)
	if err != nil {
		t.Fatal(err)
	}
	id, task, ok := tb.Acquire()
	if !ok || id == 0 || id.Gen() != 1 || id.Slot() != 0 {
		t.Fatalf("first acquire: %v %v", id, ok)
	}
	task.Kind, task.Client = 3, 42
	got, ok := tb.Get(id)
	if !ok || got.Kind != 3 || got.Client != 42 {
		t.Fatalf("Get: %+v %v", got, ok)
	}
	if !tb.Release(id) {
		t.Fatal("Release failed")
	}
	if tb.Release(id) {
		t.Fatal("second Release succeeded: a task must end exactly once")
	}
	if _, ok := tb.Get(id); ok {
		t.Fatal("Get of a released id succeeded")
	}
	id2, task2, _ := tb.Acquire()
	if id2.Slot() != id.Slot() || id2.Gen() != id.Gen()+1 || task2.Kind != 0 {
		t.Fatalf("reused slot: %v gen %d task %+v", id2, id2.Gen(), task2)
	}
	// The old id stays stale after its slot is reused.
	if _, ok := tb.Get(id); ok {
		t.Fatal("stale generation matched the new task")
	}
	s := tb.Stats()
	if s.Stale != 3 || s.InFlight != 1 || s.Acquired != 2 || s.Released != 1 || s.Capacity != 4 {
		t.Fatalf("stats %+v", s)
	}
}

func TestStaleIDs(t *testing.T) {
	tb, _ := New(2)
	cases := []ID{0, makeID(5, 1), makeID(1, 1), makeID(0, 7)}
	for _, id := range cases {
		if _, ok := tb.Get(id); ok {
			t.Errorf("Get(%#x) succeeded on an empty table", uint64(id))
		}
	}
	if tb.Stats().Stale != uint64(len(cases)) {
		t.Fatalf("stale = %d", tb.Stats().Stale)
	}
}

func TestExhaustionAndBackpressure(t *testing.T) {
	const n = 8
	tb, _ := New(n)
	var ids []ID
	for i := 0; i < n; i++ {
		id, _, ok := tb.Acquire()
		if !ok {
			t.Fatalf("acquire %d failed", i)
		}
		ids = append(ids, id)
	}
	if _, _, ok := tb.Acquire(); ok {
		t.Fatal("acquire on a full table succeeded")
	}
	if tb.Free() != 0 || tb.InFlight() != n || tb.Stats().Full != 1 {
		t.Fatalf("full table stats %+v", tb.Stats())
	}
	count := 0
	tb.ForEach(func(ID, *Task) { count++ })
	if count != n {
		t.Fatalf("ForEach saw %d", count)
	}
	tb.Release(ids[3])
	id, _, ok := tb.Acquire()
	if !ok || id.Slot() != ids[3].Slot() {
		t.Fatalf("acquire after release: %v %v", id, ok)
	}
	for _, id := range append(ids[:3], ids[4:]...) {
		tb.Release(id)
	}
	tb.Release(id)
	if tb.InFlight() != 0 {
		t.Fatalf("in flight %d after releasing all", tb.InFlight())
	}
}

func TestReleaseDropsReferences(t *testing.T) {
	tb, _ := New(1)
	id, task, _ := tb.Acquire()
	buf := new([1 << 16]byte)
	w := weak.Make(buf)
	task.Buf = buf[:]
	buf = nil
	runtime.GC()
	if w.Value() == nil {
		t.Fatal("buffer freed while its task was in flight")
	}
	tb.Release(id)
	for i := 0; i < 5 && w.Value() != nil; i++ {
		runtime.GC()
	}
	if w.Value() != nil {
		t.Fatal("buffer still referenced after Release")
	}
}

func TestGenerationWrap(t *testing.T) {
	tb, _ := New(1)
	tb.grow()
	tb.slot(0).gen = maxGen
	id, _, _ := tb.Acquire()
	tb.Release(id)
	id2, _, _ := tb.Acquire()
	if id2.Gen() != 1 || uint64(id2) == ^uint64(0) {
		t.Fatalf("wrapped generation %d", id2.Gen())
	}
}

func TestNewSize(t *testing.T) {
	for _, n := range []int{0, -1, 1<<30 + 1} {
		if _, err := New(n); err == nil {
			t.Errorf("New(%d) succeeded", n)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	tb, _ := New(16)
	allocs := testing.AllocsPerRun(1000, func() {
		id, _, _ := tb.Acquire()
		tb.Get(id)
		tb.Release(id)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per acquire/get/release", allocs)
	}
}

// ForEach visits every task in flight and only those, however the slots
// were used: its scan stops at the highest slot ever used.
func TestForEachVisitsInFlightOnly(t *testing.T) {
	for _, tc := range []struct {
		name            string
		acquire, remove int // acquire tasks, then release the first remove of them
		reacquire       int // then acquire this many again
	}{
		{"empty", 0, 0, 0},
		{"one", 1, 0, 0},
		{"released", 5, 5, 0},
		{"reused", 10, 4, 2},
		{"grown after reuse", 6, 6, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb, _ := New(1 << 20)
			want := map[ID]bool{}
			var ids []ID
			for i := 0; i < tc.acquire; i++ {
				id, _, _ := tb.Acquire()
				ids = append(ids, id)
				want[id] = true
			}
			for _, id := range ids[:tc.remove] {
				tb.Release(id)
				delete(want, id)
			}
			for i := 0; i < tc.reacquire; i++ {
				id, _, _ := tb.Acquire()
				want[id] = true
			}
			got := map[ID]bool{}
			tb.ForEach(func(id ID, _ *Task) { got[id] = true })
			if len(got) != len(want) || len(got) != tb.InFlight() {
				t.Fatalf("ForEach saw %d tasks, want %d (in flight %d)", len(got), len(want), tb.InFlight())
			}
			for id := range want {
				if !got[id] {
					t.Fatalf("ForEach missed %v", id)
				}
			}
			if peak := max(tc.acquire, tc.acquire-tc.remove+tc.reacquire); tb.high != peak {
				t.Fatalf("scan bound %d, want the peak in flight %d", tb.high, peak)
			}
		})
	}
}

// The table allocates chunks only as tasks are in flight at once, up to
// its size, and pointers stay valid while it grows.
func TestLazyChunks(t *testing.T) {
	const size = 3<<chunkBits + 7
	tb, _ := New(size)
	if len(tb.chunks) != 0 || tb.Free() != size {
		t.Fatalf("new table: %d chunks, %d free", len(tb.chunks), tb.Free())
	}
	first, task, _ := tb.Acquire()
	task.Aux = 42
	var ids []ID
	for i := 1; i < size; i++ {
		id, _, ok := tb.Acquire()
		if !ok {
			t.Fatalf("acquire %d of %d failed", i, size)
		}
		ids = append(ids, id)
	}
	if _, _, ok := tb.Acquire(); ok || tb.Free() != 0 || len(tb.chunks) != 4 {
		t.Fatalf("full table: ok=%v free=%d chunks=%d", ok, tb.Free(), len(tb.chunks))
	}
	if got, _ := tb.Get(first); got != task || got.Aux != 42 {
		t.Fatal("the first task moved or changed while the table grew")
	}
	for _, id := range ids {
		tb.Release(id)
	}
	if tb.InFlight() != 1 || tb.Free() != size-1 {
		t.Fatalf("in flight %d free %d", tb.InFlight(), tb.Free())
	}
	n := 0
	tb.ForEach(func(ID, *Task) { n++ })
	if n != 1 {
		t.Fatalf("ForEach saw %d tasks, want 1", n)
	}
}
