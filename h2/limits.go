package h2

import "time"

// bucket is a token bucket: rate tokens a second, at most burst saved. A
// negative rate means no limit. Tokens are kept in thousandths so that a
// refill every millisecond counts.
type bucket struct {
	rate, burst int
	milli       int64 // tokens × 1000
	last        time.Time
}

func newBucket(rate, burst int) bucket {
	return bucket{rate: rate, burst: burst, milli: int64(burst) * 1000}
}

// take spends one token at now and reports whether one was there.
func (b *bucket) take(now time.Time) bool {
	if b.rate < 0 {
		return true
	}
	if !b.last.IsZero() {
		if ms := now.Sub(b.last).Milliseconds(); ms > 0 {
			b.milli = min(b.milli+ms*int64(b.rate), int64(b.burst)*1000)
			b.last = b.last.Add(time.Duration(ms) * time.Millisecond)
		}
	} else {
		b.last = now
	}
	if b.milli < 1000 {
		return false
	}
	b.milli -= 1000
	return true
}
