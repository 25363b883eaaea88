package ring_test

import (
	"fmt"
	"os"

	"github.com/uringnet/uringnet/ring"
)

// A write and a nop, submitted with one io_uring_enter, completed and
// reaped, in liburing's style.
func Example() {
	r, err := ring.New(8, ring.Options{})
	if err != nil {
		fmt.Println(err) // no io_uring here: the error says why and what to do
		return
	}
	defer r.Close()

	f, err := os.CreateTemp("", "ring-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	data := []byte("hello, ring") // referenced until its completion

	sqe := r.GetSQE()
	sqe.PrepWrite(int(f.Fd()), data, 0)
	sqe.UserData = 1
	sqe = r.GetSQE()
	sqe.PrepNop()
	sqe.UserData = 2
	if _, err := r.SubmitAndWait(2); err != nil {
		fmt.Println(err)
		return
	}
	results := map[uint64]int32{}
	for len(results) < 2 {
		cqe, err := r.WaitCQE()
		if err != nil {
			fmt.Println(err)
			return
		}
		results[cqe.UserData] = cqe.Res
		r.CQAdvance(1)
	}
	fmt.Println("write:", results[1], "bytes; nop:", results[2])
	// Output: write: 11 bytes; nop: 0
}
