package eventfd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by Trigger after Close.
var ErrClosed = errors.New("eventfd: closed")

// EventFD is one eventfd with the 8-byte buffer a ring read fills.
type EventFD struct {
	mu     sync.RWMutex // Close excludes Trigger, so no write hits a reused fd
	fd     int
	closed bool
	buf    [8]byte // read target: lives on the heap with the EventFD
}

// Open creates a non-blocking, close-on-exec eventfd. With semaphore set,
// each read returns 1 and consumes one trigger.
func Open(semaphore bool) (*EventFD, error) {
	flags := unix.EFD_NONBLOCK | unix.EFD_CLOEXEC
	if semaphore {
		flags |= unix.EFD_SEMAPHORE
	}
	fd, err := unix.Eventfd(0, flags)
	if err != nil {
		return nil, fmt.Errorf("eventfd: open: %w", err)
	}
	return &EventFD{fd: fd}, nil
}

// Fd returns the file descriptor.
func (e *EventFD) Fd() int { return e.fd }

// Buffer returns the 8-byte buffer to read the counter into. It stays valid
// as long as the EventFD is referenced.
func (e *EventFD) Buffer() []byte { return e.buf[:] }

// Value decodes the counter value last read into Buffer.
func (e *EventFD) Value() uint64 { return binary.NativeEndian.Uint64(e.buf[:]) }

// Trigger adds one to the counter. It is safe from any goroutine.
func (e *EventFD) Trigger() error { return e.Add(1) }

// Add adds n to the counter. It is safe from any goroutine. A counter at
// its maximum makes the write fail with EAGAIN, which Add reports.
func (e *EventFD) Add(n uint64) error {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], n)
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	for {
		_, err := unix.Write(e.fd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("eventfd: write: %w", err)
		}
		return nil
	}
}

// Close closes the fd once; later Triggers return ErrClosed.
func (e *EventFD) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if err := unix.Close(e.fd); err != nil {
		return fmt.Errorf("eventfd: close: %w", err)
	}
	return nil
}
