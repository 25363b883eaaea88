package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// floorRatio is issue 13's floor: p99 during an upgrade at most this times p99 without.
const floorRatio = 2.0

// ms formats d in milliseconds.
func ms(d time.Duration) string { return harness.Num(float64(d)/1e6, 2) }

// msList formats ds in milliseconds, separated by " / ".
func msList(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, ms(d))
	}
	return strings.Join(s, " / ")
}

// medianDur returns the median of ds (NaN-free), 0 for none.
func medianDur(ds []time.Duration) time.Duration {
	var xs []float64
	for _, d := range ds {
		xs = append(xs, float64(d))
	}
	m := harness.Median(xs)
	if math.IsNaN(m) {
		return 0
	}
	return time.Duration(m)
}

// maxDur returns the largest of ds, 0 for none.
func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// verdict is PASS when ok, else FAIL.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// render writes the report's body: the setup, the floors table (medians of the rounds) and
// each round's figures.
func render(cfg config, pinning, kernel string, rounds []round) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The demo (`example`, `-loops 1`, `URINGNET_BACKEND=uring`, `-access-log=false -big-file 1024 -ws-grace 200ms`) "+
		"is upgraded with SIGHUP at %s into the load of a round (%v of `GET /plaintext` from `bench/upgradeload`: %d keep-alive "+
		"connections, one request at a time each, **%.0f req/s offered** on a fixed schedule); %s, a fresh demo each. "+
		"Pinning: %s. Kernel %s.\n\n", durList(cfg.upgrades), cfg.duration, cfg.conns, cfg.rate, plural(cfg.rounds, "round"), pinning, kernel)
	fmt.Fprintf(&b, "*During an upgrade*: requests started from a SIGHUP until the old process exited (it drains: keep-alive "+
		"connections get `Connection: close` on their next response and reconnect, to the successor). *Without*: requests "+
		"started in the %v before each SIGHUP (from %v after the previous old process exited, not in the first %v). "+
		"Latency is from a request's start (its dial when it needs a new connection, else its write) to the end of its response. "+
		"*SIGHUP → serving*: from the SIGHUP until `/healthz`, asked on a new connection every %v, names the new pid.\n\n",
		cfg.baseline, cfg.settle, cfg.warmup, cfg.poll)

	var ok []round
	var p99w, p99d, ratios []float64
	var serve []time.Duration
	failed := 0
	for _, r := range rounds {
		if r.err != nil {
			continue
		}
		ok = append(ok, r)
		p99w = append(p99w, float64(r.a.without.p99))
		p99d = append(p99d, float64(r.a.during.p99))
		ratios = append(ratios, r.a.ratio())
		for _, e := range r.events {
			serve = append(serve, e.toServe())
		}
		failed += r.a.failed
	}
	t := harness.Table{Header: []string{"rounds", "offered req/s", "p99 without ms", "p99 during ms", "p99 during / without",
		"floor: ≤ 2x", "failed requests", "floor: 0", "SIGHUP → serving median ms", "SIGHUP → serving max ms"}}
	if len(ok) == 0 {
		t.AddRow(fmt.Sprintf("0 of %d", len(rounds)), harness.Num(cfg.rate, 0), harness.NA, harness.NA, harness.NA,
			harness.NA, harness.NA, harness.NA, harness.NA, harness.NA)
	} else {
		ratio := harness.Median(ratios)
		within := 0
		for _, x := range ratios {
			if x <= floorRatio {
				within++
			}
		}
		t.AddRow(fmt.Sprintf("%d", len(ok)), harness.Num(cfg.rate, 0),
			ms(time.Duration(harness.Median(p99w))), ms(time.Duration(harness.Median(p99d))),
			harness.Num(ratio, 2)+"x", fmt.Sprintf("%s (%d of %d rounds)", verdict(ratio <= floorRatio), within, len(ok)),
			fmt.Sprint(failed), verdict(failed == 0), ms(medianDur(serve)), ms(maxDur(serve)))
	}
	b.WriteString(t.Markdown())
	var pressures []float64
	for _, r := range ok {
		pressures = append(pressures, r.pressure)
	}
	fmt.Fprintf(&b, "\nMedians of the rounds' figures; failed requests are the rounds' sum, SIGHUP → serving over all %d upgrades. "+
		"A failed request is a dial or a write that failed, or a connection that ended before a complete 200 response. "+
		"CPU pressure during the rounds (median; see below): %s.\n\n", len(serve), pct(harness.Median(pressures)))

	rt := harness.Table{Header: []string{"round", "requests", "req/s", "without: n", "p50 ms", "p99 ms", "max ms",
		"during: n", "p50 ms", "p99 ms", "max ms", "p99 ratio", "p99 from schedule, without / during ms", "during, new connections: n", "p99 ms",
		"failed (during)", "SIGHUP → serving ms", "successor ready (its log) ms", "old exited ms",
		"Connection: close", "idle closed", "skipped", "CPU pressure"}}
	for i, r := range rounds {
		if r.err != nil {
			rt.AddRow(fmt.Sprint(i+1), "FAILED: "+firstLine(r.err.Error()))
			continue
		}
		var after, exited []time.Duration
		for _, e := range r.events {
			if e.after > 0 {
				after = append(after, e.after)
			}
			exited = append(exited, time.Duration(e.exited-e.hup))
		}
		a, s := r.a, r.sum
		rt.AddRow(fmt.Sprint(i+1), fmt.Sprint(s.Requests), harness.Num(float64(s.Requests)/s.Elapsed().Seconds(), 0),
			fmt.Sprint(a.without.n), ms(a.without.p50), ms(a.without.p99), ms(a.without.max),
			fmt.Sprint(a.during.n), ms(a.during.p50), ms(a.during.p99), ms(a.during.max),
			harness.Num(a.ratio(), 2)+"x", ms(a.withoutSched.p99)+" / "+ms(a.duringSched.p99),
			fmt.Sprint(a.duringDialed.n), ms(a.duringDialed.p99),
			fmt.Sprintf("%d (%d)", a.failed, a.failedDuring), msList(toServe(r.events)), msList(after), msList(exited),
			fmt.Sprint(s.Closes), fmt.Sprint(s.IdleClosed), fmt.Sprint(s.Skipped), pct(r.pressure))
	}
	b.WriteString("Each round:\n\n")
	b.WriteString(rt.Markdown())
	b.WriteString("\n*SIGHUP → serving*, *successor ready* (the old process's `upgrade: successor ready ... after=`, from " +
		"its SIGHUP handling to the successor's readiness message) and *old exited* (from the SIGHUP until the old process " +
		"was reaped) list each upgrade in order. *p99 from schedule* adds the time a request waited behind the one before " +
		"it on its connection. *During, new connections*: the requests during an upgrade that dialed (after a " +
		"`Connection: close`), their latency with the dial. *Connection: close*: responses that closed their connection (the drain's); *idle closed*: idle " +
		"connections found closed by the server before a request went on them (the request then dialed, as an HTTP client " +
		"would: not a failure); *skipped*: requests a connection more than 50 ms behind its schedule dropped; *CPU pressure*: the share of the " +
		"round in which some task of the machine waited for a CPU (`/proc/pressure/cpu`, \"some\"; every process, not only " +
		"the benchmark's): well above 0%, other work competed for the CPUs and the latencies say as much about it as " +
		"about the upgrade.\n")
	for i, r := range rounds {
		if r.err == nil && r.a.failed > 0 {
			fmt.Fprintf(&b, "\n**Round %d: %d requests FAILED**, %d of them during an upgrade; the first: `%s`\n",
				i+1, r.a.failed, r.a.failedDuring, r.a.firstFailure)
		}
	}
	return b.String()
}

// pct formats a share as a percentage, or n/a.
func pct(x float64) string {
	if math.IsNaN(x) {
		return harness.NA
	}
	return harness.Num(100*x, 0) + "%"
}

// durList formats ds as "4 s, 8 s and 12 s".
func durList(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// plural returns "1 round" or "3 rounds".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
