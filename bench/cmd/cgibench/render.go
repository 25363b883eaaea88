package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// ratioColumn is the table column with uringnet's req/s over nginx's (the report's chart
// reads it).
const ratioColumn = "uringnet / nginx"

// label names a setup of a scenario in the table.
func label(sc scenario, name string) string {
	if name == "uringnet" {
		switch sc.key {
		case "cgi":
			return "uringnet (CGI)"
		case "fcgiwrap":
			return "uringnet -fastcgi → fcgiwrap"
		default:
			return "uringnet -fastcgi → fcgiapp"
		}
	}
	if sc.backend == "fcgiwrap" {
		return "nginx → fcgiwrap"
	}
	return "nginx → fcgiapp"
}

// medianOf returns the median of f over the runs of s, NaN for none.
func (s *side) medianOf(f func(sample) float64) float64 {
	xs := make([]float64, len(s.runs))
	for i, r := range s.runs {
		xs[i] = f(r)
	}
	return harness.Median(xs)
}

func (s *side) perSec() float64 { return s.medianOf(func(r sample) float64 { return r.perSec }) }

// errorCount returns the socket errors and non-2xx/3xx responses of every run.
func (s *side) errorCount() int64 {
	sock, status := s.errorCounts()
	return sock + status
}

// errorCounts returns the socket errors and the non-2xx/3xx responses of every run apart.
func (s *side) errorCounts() (sock, status int64) {
	for _, r := range s.runs {
		sock += r.errors
		status += r.statusErrors
	}
	return sock, status
}

// msOf formats a wrk latency in milliseconds; wrk's 0 is n/a (see httpbench).
func msOf(s *side, f func(sample) time.Duration) string {
	return harness.Num(s.medianOf(func(r sample) float64 {
		if d := f(r); d > 0 {
			return float64(d) / 1e6
		}
		return math.NaN()
	}), 2)
}

// floorLine says whether a scenario's floor (uringnet req/s ≥ nginx's, no errors) is met.
func floorLine(r *result) string {
	u, n := r.sides[0], r.sides[1]
	head := fmt.Sprintf("- %s, uringnet req/s ≥ nginx + fcgiwrap: ", r.sc.title)
	if len(u.runs) == 0 || len(n.runs) == 0 {
		return head + "floor met: n/a (not measured)"
	}
	up, np := u.perSec(), n.perSec()
	met := up >= np && u.errorCount() == 0
	verdict := map[bool]string{true: "yes", false: "no"}[met]
	why := fmt.Sprintf(" (%s vs %s req/s, %s", harness.Num(up, 0), harness.Num(np, 0), harness.Ratio(up, np))
	if sock, status := u.errorCounts(); sock+status > 0 {
		why += fmt.Sprintf("; uringnet had %d socket errors and %d non-2xx responses", sock, status)
	}
	return head + "floor met: " + verdict + why + ")"
}

// render writes the report's body.
func render(cfg config, pinning string, results []*result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk -t1 -c%d, %v per run, %d rounds alternated between the two setups of a scenario, medians. "+
		"%s. CGI and fcgiwrap fork a process per request in both setups (fcgiwrap with -c %d, on a Unix socket, one "+
		"for each setup); the Go FastCGI application (bench/cmd/fcgiapp, net/http/fcgi) is one process per setup. "+
		"*CPU 0 ms/req* is CPU 0's busy time (user, system, irq, softirq, steal from /proc/stat) during the run "+
		"per request: everything server-side runs there, forked scripts included (n/a unpinned); *socket errors* and *non-2xx* "+
		"(responses with a status other than 2xx/3xx, such as 503) are wrk's, summed over all rounds; a floor needs none; *2xx req/s* counts only the responses with a 2xx/3xx status.\n\n", cfg.conns, cfg.duration, cfg.rounds, pinning, cfg.children)
	t := harness.Table{Header: []string{"scenario", "server", "req/s", "2xx req/s", "p50 ms", "p99 ms", "socket errors", "non-2xx", "CPU 0 ms/req", ratioColumn}, Labels: 2}
	var notes []string
	for _, r := range results {
		for i, s := range r.sides {
			row := []string{r.sc.title, label(r.sc, s.name)}
			if len(s.runs) == 0 {
				row = append(row, harness.NA, harness.NA, harness.NA, harness.NA, harness.NA, harness.NA, harness.NA, "")
				why := s.why
				if why == "" && len(s.errs) > 0 {
					why = firstLine(s.errs[0].Error())
				}
				notes = append(notes, fmt.Sprintf("%s, %s: n/a: %s", r.sc.title, label(r.sc, s.name), why))
			} else {
				sock, status := s.errorCounts()
				ratio := ""
				if i == 0 {
					ratio = harness.NA
					if n := r.sides[1]; len(n.runs) > 0 {
						ratio = harness.Ratio(s.perSec(), n.perSec())
					}
				}
				row = append(row, harness.Num(s.perSec(), 0),
					harness.Num(s.medianOf(func(r sample) float64 { return r.okPerSec }), 0),
					msOf(s, func(r sample) time.Duration { return r.p50 }),
					msOf(s, func(r sample) time.Duration { return r.p99 }),
					fmt.Sprint(sock), fmt.Sprint(status),
					harness.Num(s.medianOf(func(r sample) float64 { return r.cpuMsPerReq }), 3),
					ratio)
				for _, e := range s.errs {
					notes = append(notes, fmt.Sprintf("%s, %s: a run failed: %s", r.sc.title, label(r.sc, s.name), firstLine(e.Error())))
				}
			}
			t.AddRow(row...)
		}
	}
	b.WriteString(t.Markdown())
	b.WriteString("\nIssue 14's floors:\n\n")
	for _, r := range results {
		if r.sc.floor {
			b.WriteString(floorLine(r) + "\n")
		}
	}
	for _, r := range results {
		if !r.sc.floor {
			fmt.Fprintf(&b, "- %s: no floor, req/s reported\n", r.sc.title)
		}
	}
	if cfg.rounds > 1 {
		b.WriteString("\nEach round's req/s, in the order run (a shared machine's noise shows here):\n\n")
		rt := harness.Table{Header: []string{"scenario", "server"}, Labels: 2}
		for i := range cfg.rounds {
			rt.Header = append(rt.Header, fmt.Sprintf("round %d", i+1))
		}
		for _, r := range results {
			for _, s := range r.sides {
				if len(s.runs) == 0 {
					continue
				}
				row := []string{r.sc.title, label(r.sc, s.name)}
				for i := range cfg.rounds {
					cell := "failed"
					for _, run := range s.runs {
						if run.round == i+1 {
							cell = harness.Num(run.perSec, 0)
						}
					}
					row = append(row, cell)
				}
				rt.AddRow(row...)
			}
		}
		b.WriteString(rt.Markdown())
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}
