package harness

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of two, so a recorded
// value is known to within 1/32 (about 3%).
const subBits = 5

const numBuckets = (64 - subBits) << subBits

// Histogram counts durations in log-linear buckets. Its size is fixed (16 KiB), Record never
// allocates, and percentiles are exact to within about 3%. The zero value is ready to use.
// It is not safe for concurrent use; give each goroutine its own and Merge them.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	max    int64
}

// bucketOf returns the bucket index of v (in nanoseconds, v >= 0).
func bucketOf(v int64) int {
	if v < 2<<subBits {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	top := v >> shift // in [2^subBits, 2^(subBits+1))
	return (shift+1)<<subBits + int(top-(1<<subBits))
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < 2<<subBits {
		return int64(i)
	}
	shift := i>>subBits - 1
	top := int64(i&(1<<subBits-1)) + 1<<subBits
	hi := (top+1)<<shift - 1
	if hi < 0 { // the last buckets reach past MaxInt64
		return math.MaxInt64
	}
	return hi
}

// Record adds one duration. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest duration recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// Quantile returns the duration below or at which a fraction q (0..1) of the recorded
// durations lie: the upper bound of the bucket holding that rank, never above Max. It
// returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}
