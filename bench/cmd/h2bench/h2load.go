package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// h2loadResult is what one h2load run reports.
type h2loadResult struct {
	duration time.Duration // "finished in": the measured (main) duration
	perSec   float64       // "finished in ..., N req/s"
	protocol string        // "Application protocol: h2c"

	total, started, done, succeeded, failed, errored, timeout int64 // "requests: ..."
	status2xx, status3xx, status4xx, status5xx                int64 // "status codes: ..."

	meanMs, maxMs float64 // "time for request:" mean and max, in ms
}

// h2loadArgs returns h2load's arguments: -t1, conns clients with streams concurrent streams
// each, for d (-D, whole seconds; d <= 0: -n requests instead), at rps requests per second
// per client when rps > 0, against url.
func h2loadArgs(conns, streams int, d time.Duration, requests int, rps float64, url string) []string {
	a := []string{"-t1", "-c", strconv.Itoa(conns), "-m", strconv.Itoa(streams)}
	if d > 0 {
		a = append(a, "-D", strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))))
	} else {
		a = append(a, "-n", strconv.Itoa(requests))
	}
	if rps > 0 {
		a = append(a, "--rps", strconv.FormatFloat(rps, 'f', -1, 64))
	}
	return append(a, url)
}

// parseH2load reads h2load's summary (nghttp2 1.52's format).
func parseH2load(out string) (h2loadResult, error) {
	var r h2loadResult
	var haveFinished, haveRequests, haveStatus bool
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Application protocol:"):
			r.protocol = strings.TrimSpace(strings.TrimPrefix(line, "Application protocol:"))
		case strings.HasPrefix(line, "finished in "):
			// finished in 2.00s, 22593.50 req/s, 773.33KB/s
			f := strings.Split(strings.TrimPrefix(line, "finished in "), ",")
			if len(f) < 2 {
				return r, fmt.Errorf("h2load: cannot read %q", line)
			}
			d, err := parseDuration(strings.TrimSpace(f[0]))
			if err != nil {
				return r, fmt.Errorf("h2load: %q: %w", line, err)
			}
			ps, ok := strings.CutSuffix(strings.TrimSpace(f[1]), " req/s")
			v, err := strconv.ParseFloat(ps, 64)
			if !ok || err != nil {
				return r, fmt.Errorf("h2load: cannot read the rate in %q", line)
			}
			r.duration, r.perSec, haveFinished = d, v, true
		case strings.HasPrefix(line, "requests:"):
			// requests: 45187 total, 45987 started, 45187 done, 45187 succeeded, 0 failed, 0 errored, 0 timeout
			if err := counts(strings.TrimPrefix(line, "requests:"), map[string]*int64{
				"total": &r.total, "started": &r.started, "done": &r.done, "succeeded": &r.succeeded,
				"failed": &r.failed, "errored": &r.errored, "timeout": &r.timeout,
			}); err != nil {
				return r, fmt.Errorf("h2load: %q: %w", line, err)
			}
			haveRequests = true
		case strings.HasPrefix(line, "status codes:"):
			if err := counts(strings.TrimPrefix(line, "status codes:"), map[string]*int64{
				"2xx": &r.status2xx, "3xx": &r.status3xx, "4xx": &r.status4xx, "5xx": &r.status5xx,
			}); err != nil {
				return r, fmt.Errorf("h2load: %q: %w", line, err)
			}
			haveStatus = true
		case strings.HasPrefix(line, "time for request:"):
			// time for request:      804us    222.89ms     35.03ms     22.10ms    78.16%   (min max mean sd +/-sd)
			f := strings.Fields(strings.TrimPrefix(line, "time for request:"))
			if len(f) < 3 {
				return r, fmt.Errorf("h2load: cannot read %q", line)
			}
			maxD, err1 := parseDuration(f[1])
			meanD, err2 := parseDuration(f[2])
			if err := errors.Join(err1, err2); err != nil {
				return r, fmt.Errorf("h2load: %q: %w", line, err)
			}
			r.maxMs, r.meanMs = ms(maxD), ms(meanD)
		}
	}
	if !haveFinished || !haveRequests || !haveStatus {
		return r, errors.New("h2load: no summary (\"finished in\", \"requests:\", \"status codes:\") in its output")
	}
	return r, nil
}

// check returns an error unless the run used h2c and every request succeeded with a 2xx.
// h2load counts the status codes of responses that complete after the measured duration
// too, so 2xx may exceed succeeded; any 3xx, 4xx or 5xx fails.
func (r h2loadResult) check() error {
	var errs []error
	if r.protocol != "h2c" {
		errs = append(errs, fmt.Errorf("application protocol %q, not h2c", r.protocol))
	}
	if r.failed > 0 || r.errored > 0 || r.timeout > 0 {
		errs = append(errs, fmt.Errorf("%d failed, %d errored, %d timeout", r.failed, r.errored, r.timeout))
	}
	if n := r.status3xx + r.status4xx + r.status5xx; n > 0 {
		errs = append(errs, fmt.Errorf("%d responses with a non-2xx status", n))
	}
	if r.succeeded == 0 || r.status2xx < r.succeeded {
		errs = append(errs, fmt.Errorf("%d succeeded, %d 2xx", r.succeeded, r.status2xx))
	}
	return errors.Join(errs...)
}

// counts reads "N name, N name, ..." into the named counters; every counter must be there.
func counts(s string, into map[string]*int64) error {
	seen := 0
	for f := range strings.SplitSeq(s, ",") {
		n, name, ok := strings.Cut(strings.TrimSpace(f), " ")
		if !ok {
			continue
		}
		p, known := into[strings.TrimSpace(name)]
		if !known {
			continue
		}
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return fmt.Errorf("%q: %w", f, err)
		}
		*p = v
		seen++
	}
	if seen != len(into) {
		return fmt.Errorf("%d of %d counters", seen, len(into))
	}
	return nil
}

// parseDuration reads h2load's durations: "804us", "35.03ms", "2.00s".
func parseDuration(s string) (time.Duration, error) {
	return time.ParseDuration(s)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
