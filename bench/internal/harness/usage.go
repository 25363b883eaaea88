package harness

import (
	"context"
	"errors"
	"time"
)

// Usage is what a server used over a load run: the growth of its CPU time (utime+stime)
// and of its context switches, and its RSS at the end, in bytes.
type Usage struct {
	CPU         time.Duration
	CtxSwitches int64
	RSS         int64
}

// MeasureDuring reads the CPU time and context switches of pid (with its children when
// tree), runs load, and reads them again with the RSS.
func MeasureDuring(pid int, tree bool, load func() error) (Usage, error) {
	cpu0, cs0, err := cpuAndCtxSwitches(pid, tree)
	if err != nil {
		return Usage{}, err
	}
	if err := load(); err != nil {
		return Usage{}, err
	}
	cpu1, cs1, err := cpuAndCtxSwitches(pid, tree)
	if err != nil {
		return Usage{}, err
	}
	rss, err := RSS(pid, tree)
	if err != nil {
		return Usage{}, err
	}
	return Usage{CPU: cpu1 - cpu0, CtxSwitches: cs1 - cs0, RSS: rss}, nil
}

func cpuAndCtxSwitches(pid int, tree bool) (time.Duration, int64, error) {
	cpu, err := CPUTime(pid, tree)
	if err != nil {
		return 0, 0, err
	}
	cs, err := CtxSwitches(pid, tree)
	return cpu, cs, err
}

// CPUUsPer is the CPU time in µs per one of n (requests, connections).
func (u Usage) CPUUsPer(n float64) float64 { return float64(u.CPU) / float64(time.Microsecond) / n }

// CPUPct is the CPU time as a percentage of d, the load's run time.
func (u Usage) CPUPct(d time.Duration) float64 { return 100 * u.CPU.Seconds() / d.Seconds() }

// CtxSwitchesPer is the context switches per one of n.
func (u Usage) CtxSwitchesPer(n float64) float64 { return float64(u.CtxSwitches) / n }

// RSSMiB is the RSS in MiB.
func (u Usage) RSSMiB() float64 { return float64(u.RSS) / (1 << 20) }

// MeasureLoad runs the load generator load (Run, up to timeout) against the server p and
// returns its output with what the server used meanwhile (MeasureDuring; with its children
// when tree). It fails at once when the server has exited.
func (p *Proc) MeasureLoad(ctx context.Context, tree bool, load Spec, timeout time.Duration) (string, Usage, error) {
	if !p.Alive() {
		return "", Usage{}, errors.New("server exited")
	}
	var out string
	use, err := MeasureDuring(p.Pid(), tree, func() (err error) {
		out, err = Run(ctx, load, timeout)
		return err
	})
	return out, use, err
}
