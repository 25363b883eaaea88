package eventfd_test

import (
	"fmt"
	"syscall"

	"github.com/uringnet/uringnet/eventfd"
)

// Triggers add up in the counter until it is read; a ring reads it into
// Buffer (here a plain read stands in for the ring).
func Example() {
	e, err := eventfd.Open(false)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	e.Trigger() // safe from any goroutine
	e.Trigger()
	e.Add(3)
	if _, err := syscall.Read(e.Fd(), e.Buffer()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("counter:", e.Value())
	// Output: counter: 5
}
