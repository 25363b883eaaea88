package tasks_test

import (
	"fmt"

	"github.com/uringnet/uringnet/tasks"
)

// A task's id goes into an SQE's user_data; the completion finds the task
// by it, and releasing it ends the task exactly once: the old id is stale
// from then on, even when the slot is reused.
func Example() {
	t, err := tasks.New(4)
	if err != nil {
		fmt.Println(err)
		return
	}
	id, task, _ := t.Acquire()
	task.Buf = []byte("kept alive for the kernel")
	_, ok := t.Get(id)
	fmt.Println("in flight:", t.InFlight(), "found:", ok)

	t.Release(id) // the final completion arrived
	again, _, _ := t.Acquire()
	_, ok = t.Get(id)
	fmt.Println("same slot:", again.Slot() == id.Slot(), "old id found:", ok, "stale lookups:", t.Stats().Stale)
	// Output:
	// in flight: 1 found: true
	// same slot: true old id found: false stale lookups: 1
}
