package harness

import (
	"fmt"
	"strings"
	"time"
)

// WrkScript returns a wrk Lua script that prints one machine-readable "WRKRESULT ..." line
// at the end (see ParseWrk). With pipeline > 1, every request() sends that many GETs of the
// URL's path back to back (HTTP pipelining); wrk counts each response.
func WrkScript(pipeline int) string {
	return WrkScriptRate(pipeline, 0, 0)
}

// WrkScriptRate is WrkScript with a fixed offered load: when rate > 0, each of the conns
// connections waits conns/rate seconds (on average: wrk's delay() takes whole milliseconds,
// so each delay is rounded up or down at random in proportion) between a response and its
// next request, so the offered load is about rate requests per second, a little less by the
// response time.
func WrkScriptRate(pipeline, conns int, rate float64) string {
	var b strings.Builder
	b.WriteString("-- written by the uringnet httpbench harness\n")
	if rate > 0 && conns > 0 {
		fmt.Fprintf(&b, `local delay_ms = %g
delay = function()
  local f = math.floor(delay_ms)
  if math.random() < delay_ms - f then return f + 1 end
  return f
end
`, float64(conns)*1000/rate)
	}
	if pipeline > 1 {
		fmt.Fprintf(&b, `local depth = %d
init = function(args)
  local r = {}
  for i = 1, depth do r[i] = wrk.format(nil) end
  req = table.concat(r)
end
request = function() return req end
`, pipeline)
	}
	b.WriteString(`done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT requests=%d bytes=%d duration_us=%d errors=%d status_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`)
	return b.String()
}

// WrkArgs returns wrk's arguments for one run: a single thread, conns connections, the
// given duration, the script file and the URL.
func WrkArgs(conns int, d time.Duration, script, url string) []string {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	return []string{"-t1", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", secs),
		"--timeout", "5s", "-s", script, url}
}

// WrkResult is the outcome of one wrk run.
type WrkResult struct {
	Requests     int64
	Bytes        int64
	Duration     time.Duration
	Errors       int64 // connect, read, write and timeout errors
	StatusErrors int64 // responses with a status other than 2xx or 3xx
	P50, P99     time.Duration
}

// ParseWrk finds and parses the WRKRESULT line that WrkScript's done() prints.
func ParseWrk(out string) (WrkResult, error) {
	line, err := FindLine(out, "WRKRESULT")
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %w", err)
	}
	kv, err := ParseKV(line, "WRKRESULT")
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %w", err)
	}
	var r WrkResult
	var us, p50, p99 int64
	for _, f := range []struct {
		key string
		dst *int64
	}{
		{"requests", &r.Requests}, {"bytes", &r.Bytes}, {"duration_us", &us},
		{"errors", &r.Errors}, {"status_errors", &r.StatusErrors},
		{"p50_us", &p50}, {"p99_us", &p99},
	} {
		if *f.dst, err = kv.Int(f.key); err != nil {
			return WrkResult{}, fmt.Errorf("wrk: %w", err)
		}
	}
	if us <= 0 {
		return WrkResult{}, fmt.Errorf("wrk: duration_us=%d", us)
	}
	r.Duration = time.Duration(us) * time.Microsecond
	r.P50 = time.Duration(p50) * time.Microsecond
	r.P99 = time.Duration(p99) * time.Microsecond
	return r, nil
}

// PerSec returns requests per second.
func (r WrkResult) PerSec() float64 { return float64(r.Requests) / r.Duration.Seconds() }

// BytesPerSec returns response bytes per second.
func (r WrkResult) BytesPerSec() float64 { return float64(r.Bytes) / r.Duration.Seconds() }
