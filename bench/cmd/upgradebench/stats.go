package main

import (
	"math"
	"slices"
	"time"

	"github.com/uringnet/uringnet/bench/internal/reqlog"
)

// window is a span of request start times, [from, to), in Unix nanoseconds.
type window struct{ from, to int64 }

// contains reports whether t lies in w.
func (w window) contains(t int64) bool { return t >= w.from && t < w.to }

// inAny reports whether t lies in one of ws.
func inAny(t int64, ws []window) bool {
	for _, w := range ws {
		if w.contains(t) {
			return true
		}
	}
	return false
}

// event is one upgrade as the benchmark saw it, in Unix nanoseconds.
type event struct {
	hup    int64         // SIGHUP sent to the serving process
	served int64         // the first /healthz answered by the new process
	exited int64         // the old process exited (reaped)
	after  time.Duration // the old process's own "upgrade: successor ready ... after=" (0: not logged)
}

// toServe is the time from SIGHUP to the new process answering /healthz.
func (e event) toServe() time.Duration { return time.Duration(e.served - e.hup) }

// windows returns the spans "during an upgrade", from each SIGHUP to the old process's exit
// (inclusive), and "without one", the baseline before each SIGHUP, cut so that it starts no
// earlier than notBefore and than settle after the previous upgrade's old process exited.
// A baseline cut to nothing is left out.
func windows(evs []event, baseline, settle time.Duration, notBefore int64) (during, without []window) {
	prevEnd := notBefore
	for _, e := range evs {
		during = append(during, window{e.hup, e.exited + 1})
		from := max(e.hup-int64(baseline), prevEnd)
		if from < e.hup {
			without = append(without, window{from, e.hup})
		}
		prevEnd = e.exited + int64(settle)
	}
	return during, without
}

// latencies are the figures of a set of requests.
type latencies struct {
	n             int
	p50, p99, max time.Duration
}

// quantile returns the nearest-rank q-quantile of sorted (ascending): the smallest value
// with at least a fraction q of the values at or below it; 0 for none.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// summarize sorts ds in place and returns their figures.
func summarize(ds []time.Duration) latencies {
	slices.Sort(ds)
	l := latencies{n: len(ds), p50: quantile(ds, 0.50), p99: quantile(ds, 0.99)}
	if len(ds) > 0 {
		l.max = ds[len(ds)-1]
	}
	return l
}

// analysis is one round's figures.
type analysis struct {
	during, without           latencies // latency from the request's start (dial or write)
	duringSched, withoutSched latencies // latency from the request's scheduled start
	duringDialed              latencies // during an upgrade, the requests that opened a connection
	failed, failedDuring      int       // failed requests: all, and started during an upgrade
	firstFailure              string
}

// ratio is p99 during an upgrade over p99 without one.
func (a analysis) ratio() float64 {
	if a.without.p99 <= 0 || a.during.n == 0 {
		return math.NaN()
	}
	return float64(a.during.p99) / float64(a.without.p99)
}

// analyze sorts the round's requests into the windows and summarizes each set.
func analyze(recs []reqlog.Record, fails []reqlog.Failure, during, without []window) analysis {
	var d, w, ds, ws, dd []time.Duration
	for _, r := range recs {
		switch {
		case inAny(r.Start, during):
			d = append(d, time.Duration(r.Latency))
			ds = append(ds, time.Duration(r.Latency+r.Lag))
			if r.Dialed {
				dd = append(dd, time.Duration(r.Latency))
			}
		case inAny(r.Start, without):
			w = append(w, time.Duration(r.Latency))
			ws = append(ws, time.Duration(r.Latency+r.Lag))
		}
	}
	a := analysis{during: summarize(d), without: summarize(w), duringSched: summarize(ds), withoutSched: summarize(ws),
		duringDialed: summarize(dd), failed: len(fails)}
	first := int64(math.MaxInt64)
	for _, f := range fails {
		if inAny(f.At, during) {
			a.failedDuring++
		}
		if f.At < first {
			first, a.firstFailure = f.At, f.Err
		}
	}
	return a
}
