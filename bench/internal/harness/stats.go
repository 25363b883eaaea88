package harness

import (
	"math"
	"slices"
)

// Median returns the median of xs (the mean of the two middle values for an even count),
// ignoring NaNs. It returns NaN when no value is left.
func Median(xs []float64) float64 {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

// MedianOf returns the median (see Median) of f over the samples ss.
func MedianOf[S any](ss []S, f func(S) float64) float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return Median(xs)
}

// Floor says whether v reaches limit (atLeast) or stays at or under it (!atLeast): pass or
// fail, or NA when v is not a measure (NaN, infinite or negative, or 0 for a floor with
// zeroUnknown).
func Floor(v, limit float64, atLeast, zeroUnknown bool, pass, fail string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (atLeast && zeroUnknown && v == 0) {
		return NA
	}
	if (atLeast && v >= limit) || (!atLeast && v <= limit) {
		return pass
	}
	return fail
}
