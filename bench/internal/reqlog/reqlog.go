// Package reqlog is what bench/upgradeload hands to bench/cmd/upgradebench: every request's
// start time and latency in a binary file, and a JSON summary with every failure and when it
// happened, so that the benchmark can cut the run into windows (around each upgrade, and far
// from any) after the fact.
//
// Times are wall-clock Unix nanoseconds, the one clock both processes read alike. It must
// never drop a failure: each one is listed with its time.
package reqlog

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
)

// Record is one completed request.
type Record struct {
	// Start is when the request began (the dial, when it needed a new connection, else the
	// write), in Unix nanoseconds.
	Start int64
	// Latency is from Start until the whole response was read, in nanoseconds.
	Latency int64
	// Lag is how late Start was on the connection's schedule, in nanoseconds (0 when on
	// time); Latency+Lag is the latency from the scheduled start.
	Lag int64
	// Dialed is set when the request opened a new connection (its Latency includes the dial).
	Dialed bool
}

// recordSize is a Record's size in the file: three little-endian int64s and a flags byte.
const recordSize = 25

// Failure is one failed request.
type Failure struct {
	At  int64  `json:"at_ns"` // when the request began, Unix nanoseconds
	Err string `json:"err"`   // what failed: "dial: ...", "write: ...", "response: ..."
}

// Summary is upgradeload's JSON output (one line on stdout).
type Summary struct {
	Conns       int       `json:"conns"`        // connections (workers)
	Rate        float64   `json:"rate"`         // offered requests per second, all connections
	StartNs     int64     `json:"start_ns"`     // the load's start, Unix nanoseconds
	EndNs       int64     `json:"end_ns"`       // when the last worker stopped
	Requests    int64     `json:"requests"`     // completed requests (200, full body)
	Failed      int64     `json:"failed"`       // failed requests: len(Failures)
	Failures    []Failure `json:"failures"`     // every failure, in no particular order
	Closes      int64     `json:"closes"`       // responses with "Connection: close"
	IdleClosed  int64     `json:"idle_closed"`  // idle connections found closed by the server before a request was sent on them
	Dials       int64     `json:"dials"`        // connections opened
	Skipped     int64     `json:"skipped"`      // scheduled requests dropped by a connection more than MaxBehind late
	RecordsFile string    `json:"records_file"` // where the Records are
}

// Elapsed returns the load's length.
func (s *Summary) Elapsed() time.Duration { return time.Duration(s.EndNs - s.StartNs) }

// Writer writes Records to a file.
type Writer struct {
	f   *os.File
	w   *bufio.Writer
	buf [recordSize]byte
}

// Create creates (or truncates) path for Records.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("reqlog: %w", err)
	}
	return &Writer{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// Write appends r.
func (w *Writer) Write(r Record) error {
	binary.LittleEndian.PutUint64(w.buf[0:], uint64(r.Start))
	binary.LittleEndian.PutUint64(w.buf[8:], uint64(r.Latency))
	binary.LittleEndian.PutUint64(w.buf[16:], uint64(r.Lag))
	w.buf[24] = 0
	if r.Dialed {
		w.buf[24] = 1
	}
	_, err := w.w.Write(w.buf[:])
	return err
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reqlog: %w", err)
	}
	return nil
}

// Read reads every Record of the file at path.
func Read(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reqlog: %w", err)
	}
	defer f.Close()
	return decode(bufio.NewReaderSize(f, 1<<20))
}

func decode(r io.Reader) ([]Record, error) {
	var out []Record
	var b [recordSize]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, fmt.Errorf("reqlog: record %d: %w", len(out), err)
		}
		out = append(out, Record{
			Start:   int64(binary.LittleEndian.Uint64(b[0:])),
			Latency: int64(binary.LittleEndian.Uint64(b[8:])),
			Lag:     int64(binary.LittleEndian.Uint64(b[16:])),
			Dialed:  b[24]&1 != 0,
		})
	}
}
