package eventfd

import (
	"errors"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func read(t *testing.T, e *EventFD) (uint64, error) {
	t.Helper()
	_, err := unix.Read(e.Fd(), e.Buffer())
	return e.Value(), err
}

func TestSemaphoreCountsEveryTrigger(t *testing.T) {
	e, err := Open(true)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const goroutines, each = 8, 1000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := e.Trigger(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	for {
		v, err := read(t, e)
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil || v != 1 {
			t.Fatalf("read %d %v", v, err)
		}
		n++
	}
	if n != goroutines*each {
		t.Fatalf("read %d triggers, want %d", n, goroutines*each)
	}
}

func TestPlainMergesTriggers(t *testing.T) {
	e, err := Open(false)
	if err != nil {
		t.Fatal(err)
	}
	e.Trigger()
	e.Add(41)
	if v, err := read(t, e); err != nil || v != 42 {
		t.Fatalf("read %d %v", v, err)
	}
	if _, err := read(t, e); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("second read: %v (want EAGAIN, the fd is non-blocking)", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := e.Trigger(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Trigger after Close: %v", err)
	}
}

func TestAddOverflow(t *testing.T) {
	e, _ := Open(false)
	defer e.Close()
	if err := e.Add(^uint64(0) - 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Add(1); err == nil {
		t.Fatal("adding past the maximum succeeded")
	}
}
