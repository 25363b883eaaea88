package harness

import (
	"math"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	// Every value falls in a bucket whose bounds hold it, buckets are increasing, and the
	// bucket width is at most 1/32 of the value.
	vals := []int64{0, 1, 31, 32, 63, 64, 65, 100, 1000, 4095, 4096, 1e6, 1e9, 1<<40 + 12345, math.MaxInt64}
	for v := int64(1); v < 1<<62; v = v*3 + 1 {
		vals = append(vals, v, v-1, v+1)
	}
	for _, v := range vals {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		hi := bucketHigh(i)
		if hi < v {
			t.Errorf("value %d: bucket %d ends at %d", v, i, hi)
		}
		if i > 0 {
			lo := bucketHigh(i-1) + 1
			if lo > v {
				t.Errorf("value %d: bucket %d starts at %d", v, i, lo)
			}
			if width := hi - lo + 1; v >= 64 && float64(width) > float64(v)/32+1 {
				t.Errorf("value %d: bucket width %d too wide", v, width)
			}
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Count() != 0 {
		t.Fatal("empty histogram not zero")
	}
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	h.Record(-time.Second) // counts as zero
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, 0},
		{0.5, 500 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, 1000 * time.Microsecond},
		{2, 1000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := h.Quantile(tt.q)
		if tt.want == 0 {
			if got != 0 {
				t.Errorf("Quantile(%v) = %v, want 0", tt.q, got)
			}
			continue
		}
		if got < tt.want || float64(got) > float64(tt.want)*(1+1.0/32) {
			t.Errorf("Quantile(%v) = %v, want %v within 3%%", tt.q, got, tt.want)
		}
	}
	if h.Count() != 1001 || h.Max() != time.Millisecond {
		t.Errorf("Count, Max = %d, %v", h.Count(), h.Max())
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b Histogram
	a.Record(time.Millisecond)
	b.Record(time.Second)
	b.Record(time.Second)
	a.Merge(&b)
	if a.Count() != 3 || a.Max() != time.Second || a.Quantile(0.5) < time.Second*31/32 {
		t.Errorf("merged: count %d max %v p50 %v", a.Count(), a.Max(), a.Quantile(0.5))
	}
	if q := a.Quantile(0.1); q < time.Millisecond || q > time.Millisecond*33/32 {
		t.Errorf("merged p10 = %v", q)
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	h := new(Histogram)
	d := time.Duration(0)
	if n := testing.AllocsPerRun(1000, func() { d += 977; h.Record(d) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}

func TestMedian(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5}, 5},
		{[]float64{nan, 7, nan}, 7},
	}
	for _, tt := range tests {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, in := range [][]float64{nil, {nan}} {
		if got := Median(in); !math.IsNaN(got) {
			t.Errorf("Median(%v) = %v, want NaN", in, got)
		}
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 {
		t.Error("Median reordered its argument")
	}
}
