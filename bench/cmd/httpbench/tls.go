package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// The HTTPS mode (issue 11): the peers that can serve TLS, each started with -tls-cert and
// -tls-key (nginx with an ssl listener) and the same certificate, generated for the run.
var (
	allTLSScenarios     = []string{"plaintext", "newconn", "resumed"}
	defaultTLSScenarios = []string{"plaintext", "newconn"}
	allTLSPeers         = []string{"uringnet", "epoll", "adapter", "nethttp", "nginx"}
	defaultTLSPeers     = []string{"uringnet", "adapter", "nethttp", "nginx"}
)

// The HTTPS scenarios' keys in the results (apart from the plain HTTP scenarios').
const (
	tlsPlaintext = "tls-plaintext"
	tlsNewConn   = "tls-newconn"
	tlsResumed   = "tls-resumed"
)

// issue11 holds issue 11's floors for uringnet's demo server with TLS.
var issue11 = floorSet{
	issue:   "issue 11",
	subject: "uringnet",
	floors: []floor{
		{tlsPlaintext, "nethttp", 1.3},
		{tlsPlaintext, "nginx", 0.9},
		{tlsNewConn, "nethttp", 1},
	},
	maxIdleKiB: 16,
	idleLabel:  "idle TLS connection",
	pass:       "PASS", fail: "FAIL",
}

// tlsScenarios returns the HTTPS scenarios of keys (allTLSScenarios' names).
func tlsScenarios(keys []string) []scenario {
	var out []scenario
	for _, k := range keys {
		switch k {
		case "plaintext":
			out = append(out, scenario{key: tlsPlaintext, name: "HTTPS plaintext keep-alive", path: "/plaintext",
				pipeline: 1, body: []byte(plaintext)})
		case "newconn":
			out = append(out, scenario{key: tlsNewConn, name: "HTTPS new connection per request", path: "/plaintext",
				pipeline: 1, body: []byte(plaintext), newConn: true})
		case "resumed":
			out = append(out, scenario{key: tlsResumed, name: "HTTPS new connection per request, wrk (resumed)", path: "/plaintext",
				pipeline: 1, body: []byte(plaintext), closeConn: true})
		}
	}
	return out
}

// tlsRun is what the HTTPS mode measured.
type tlsRun struct {
	scens      []scenario
	peers      []*peer
	results    map[string]map[string][]sample // scenario -> peer -> samples
	fixed      map[string]map[string][]sample // the fixed-load runs: tlsPlaintext -> peer -> samples
	failed     map[string]map[string]string   // scenario -> peer -> reason
	idle       map[string]harness.IdleResult
	negotiated map[string]string // peer -> what its handshake negotiated with the Go client
	final      map[string]string // peer -> its final stats line
}

// runTLS runs the HTTPS mode: servers of cfg.tlsPeers with a certificate generated in
// tmp, the HTTPS scenarios alternated over cfg.rounds, then (cfg.tlsIdle > 0) the RSS per
// idle TLS connection on fresh servers. Nil when there is nothing to run.
func runTLS(ctx context.Context, cfg config, g *harness.Group, tmp, serverCPU, loadCPU, wrk string, built map[string]error) (*tlsRun, error) {
	if len(cfg.tls) == 0 || len(cfg.tlsPeers) == 0 {
		return nil, nil
	}
	dir := filepath.Join(tmp, "tls")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	cert, err := harness.WriteSelfSignedCert(dir)
	if err != nil {
		return nil, err
	}
	r := &tlsRun{scens: tlsScenarios(cfg.tls), results: map[string]map[string][]sample{},
		failed: map[string]map[string]string{}, negotiated: map[string]string{}, final: map[string]string{}}
	script := filepath.Join(tmp, "wrk-tls.lua")
	if err := os.WriteFile(script, []byte(harness.WrkScript(1)), 0o644); err != nil {
		return nil, err
	}
	closeScript := filepath.Join(tmp, "wrk-tls-close.lua")
	if err := os.WriteFile(closeScript, []byte(wrkCloseScript()), 0o644); err != nil {
		return nil, err
	}
	tlsload := filepath.Join(tmp, "tlsload")
	if slices.ContainsFunc(r.scens, func(sc scenario) bool { return sc.newConn }) {
		if err := harness.GoBuild(ctx, filepath.Join(cfg.repo, "bench"), "./tlsload", tlsload); err != nil {
			return nil, err
		}
	}
	progress("HTTPS: certificate %s (ECDSA P-256, self-signed)", cert.CertFile)
	r.peers = setupPeers(ctx, cfg, cfg.tlsPeers, tmp, serverCPU, &cert, built)
	for _, p := range r.peers {
		if p.why != "" {
			continue
		}
		p.spec.Name = p.name + " (TLS)"
		proc, err := g.StartChecked(ctx, p.spec, p.backend, p.client)
		if err != nil {
			p.why = harness.FirstLine(err.Error())
			progress("HTTPS %s: n/a: %v", p.name, err)
			continue
		}
		p.proc = proc
	}
	for _, sc := range r.scens {
		r.results[sc.key] = map[string][]sample{}
		r.failed[sc.key] = map[string]string{}
		for _, p := range r.peers {
			if p.proc == nil {
				continue
			}
			neg, err := checkTLS(ctx, p.proc.Addr, sc, p.client)
			if neg != "" {
				r.negotiated[p.key] = neg
			}
			if err != nil {
				r.failed[sc.key][p.key] = harness.FirstLine(err.Error())
				progress("%s %s: wrong response, not benchmarked: %v", sc.name, p.name, err)
			}
		}
		for round := 1; round <= cfg.rounds; round++ {
			for _, p := range r.peers {
				if p.proc == nil || r.failed[sc.key][p.key] != "" {
					continue
				}
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				var sm sample
				var err error
				switch {
				case sc.newConn:
					sm, err = runNewConn(ctx, cfg, p, sc, tlsload, loadCPU)
				case sc.closeConn:
					sm, err = runOnce(ctx, cfg, p, sc, wrk, closeScript, loadCPU)
				default:
					sm, err = runOnce(ctx, cfg, p, sc, wrk, script, loadCPU)
				}
				if err != nil {
					progress("%s round %d/%d %s: FAILED: %v", sc.name, round, cfg.rounds, p.name, err)
					if !p.proc.Alive() {
						r.failed[sc.key][p.key] = "server exited"
					}
					continue
				}
				progress("%s round %d/%d %s: %.0f/s p99 %.2fms cpu %.2fus each, errors %d",
					sc.name, round, cfg.rounds, p.name, sm.perSec, sm.p99ms, sm.cpuUsPerReq, sm.errors)
				r.results[sc.key][p.key] = append(r.results[sc.key][p.key], sm)
			}
		}
	}
	if i := slices.IndexFunc(r.scens, func(sc scenario) bool { return sc.key == tlsPlaintext }); i >= 0 && cfg.tlsFixed > 0 {
		sc := r.scens[i]
		fixedScript := filepath.Join(tmp, "wrk-tls-fixed.lua")
		if err := os.WriteFile(fixedScript, []byte(harness.WrkScriptRate(1, cfg.conns, cfg.tlsFixed)), 0o644); err != nil {
			return nil, err
		}
		r.fixed = map[string]map[string][]sample{sc.key: {}}
		for round := 1; round <= cfg.rounds; round++ {
			for _, p := range r.peers {
				if p.proc == nil || r.failed[sc.key][p.key] != "" {
					continue
				}
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				sm, err := runOnce(ctx, cfg, p, sc, wrk, fixedScript, loadCPU)
				if err != nil {
					progress("fixed %.0f/s %s round %d/%d %s: FAILED: %v", cfg.tlsFixed, sc.name, round, cfg.rounds, p.name, err)
					continue
				}
				progress("fixed %.0f/s %s round %d/%d %s: %.0f req/s cpu %.2fus/req (%.0f%%)",
					cfg.tlsFixed, sc.name, round, cfg.rounds, p.name, sm.perSec, sm.cpuUsPerReq, sm.cpuPct)
				r.fixed[sc.key][p.key] = append(r.fixed[sc.key][p.key], sm)
			}
		}
	}
	if cfg.tlsIdle > 0 && ctx.Err() == nil {
		r.idle = runIdle(ctx, g, r.peers, cfg.tlsIdle, "/plaintext")
	}
	for _, p := range r.peers {
		if p.proc == nil {
			continue
		}
		stats, err := p.proc.StopChecked(p.backend, progress)
		r.final[p.key] = stats
		if err != nil {
			progress("HTTPS %s: %v: its figures are dropped", p.name, err)
			p.why = err.Error() + "; its figures are dropped"
			for _, m := range []map[string]map[string][]sample{r.results, r.fixed} {
				for _, bySc := range m {
					delete(bySc, p.key)
				}
			}
			delete(r.idle, p.key)
		}
	}
	return r, nil
}

// runNewConn runs tlsload once against p: new connections, each a full TLS handshake and
// one request, for cfg.duration, with cfg.conns in flight; the sample's "requests" are
// connections (one request each).
func runNewConn(ctx context.Context, cfg config, p *peer, sc scenario, tlsload, loadCPU string) (sample, error) {
	out, use, err := p.proc.MeasureLoad(ctx, p.tree, harness.Spec{
		Name: "tlsload",
		Path: tlsload,
		Args: []string{"-addr", p.proc.Addr, "-path", sc.path, "-conns", fmt.Sprint(cfg.conns), "-duration", cfg.duration.String()},
		Env:  []string{"GOMAXPROCS=1"},
		CPU:  loadCPU,
	}, cfg.duration+30*time.Second)
	if err != nil {
		return sample{}, err
	}
	res, err := parseTLSLoad(out)
	if err != nil {
		return sample{}, err
	}
	if res.resumed > 0 {
		return sample{}, fmt.Errorf("%d of %d connections resumed a session", res.resumed, res.conns)
	}
	n := float64(res.conns)
	return sample{
		perSec:      n / res.duration.Seconds(),
		bytesPerSec: math.NaN(),
		p50ms:       latencyMs(res.p50),
		p99ms:       latencyMs(res.p99),
		cpuUsPerReq: use.CPUUsPer(n),
		cpuPct:      use.CPUPct(res.duration),
		csPerReq:    use.CtxSwitchesPer(n),
		rssMiB:      use.RSSMiB(),
		errors:      res.errors,
	}, nil
}

// tlsLoadResult is tlsload's TLSLOADRESULT line.
type tlsLoadResult struct {
	conns, resumed, errors int64
	duration, p50, p99     time.Duration
}

// parseTLSLoad finds and parses the TLSLOADRESULT line of tlsload's output.
func parseTLSLoad(out string) (tlsLoadResult, error) {
	line, err := harness.FindLine(out, "TLSLOADRESULT")
	if err != nil {
		return tlsLoadResult{}, fmt.Errorf("tlsload: %w", err)
	}
	kv, err := harness.ParseKV(line, "TLSLOADRESULT")
	if err != nil {
		return tlsLoadResult{}, fmt.Errorf("tlsload: %w", err)
	}
	var r tlsLoadResult
	var us, p50, p99 int64
	for _, f := range []struct {
		key string
		dst *int64
	}{{"conns", &r.conns}, {"resumed", &r.resumed}, {"errors", &r.errors}, {"duration_us", &us}, {"p50_us", &p50}, {"p99_us", &p99}} {
		if *f.dst, err = kv.Int(f.key); err != nil {
			return tlsLoadResult{}, fmt.Errorf("tlsload: %w", err)
		}
	}
	if us <= 0 || r.conns <= 0 {
		return tlsLoadResult{}, fmt.Errorf("tlsload: %d connections in %d µs", r.conns, us)
	}
	r.duration, r.p50, r.p99 = time.Duration(us)*time.Microsecond, time.Duration(p50)*time.Microsecond, time.Duration(p99)*time.Microsecond
	return r, nil
}

// tlsReport is the HTTPS mode's section of the report.
func tlsReport(cfg config, r *tlsRun, serverCPU, loadCPU string) string {
	var b strings.Builder
	b.WriteString("\n### HTTPS: TLS 1.3\n\n")
	fmt.Fprintf(&b, "Every server with TLS and the same certificate, generated for the run (ECDSA P-256, self-signed): "+
		"uringnet's demo and the adapter's server with -tls-cert/-tls-key, net/http's ServeTLS (TLS 1.3 only), nginx with one "+
		"worker, `ssl_protocols TLSv1.3` and `ssl_conf_command Ciphersuites %s`. Servers on CPU %s, load on CPU %s; %v per run, "+
		"%d rounds alternated, medians. ", harness.NginxTLSCiphersuite, harness.OrAny(serverCPU), harness.OrAny(loadCPU), cfg.duration, cfg.rounds)
	for _, sc := range r.scens {
		switch sc.key {
		case tlsPlaintext:
			fmt.Fprintf(&b, "\"%s\": wrk -t1 -c%d over https (OpenSSL; handshakes only at connect), GET /plaintext. ", sc.name, cfg.conns)
		case tlsResumed:
			fmt.Fprintf(&b, "\"%s\": wrk -t1 -c%d with `Connection: close`: wrk reconnects after every response and its "+
				"OpenSSL client resumes the session it kept (a TLS 1.3 ticket; see the servers' resumed counters below), so these "+
				"are resumed handshakes (PSK with X25519, no certificate signature). ", sc.name, cfg.conns)
		case tlsNewConn:
			fmt.Fprintf(&b, "\"%s\": bench/tlsload, %d connections in flight, each a TCP connect, a full TLS 1.3 handshake "+
				"(X25519, no session cache: never resumed) and one GET /plaintext with `Connection: close`, read to the server's close; "+
				"req/s is connections per second, CPU µs/req server CPU per connection, latency a connection's dial to response. "+
				"(Not wrk with `Connection: close`: its OpenSSL client keeps the session across reconnects and resumes it, "+
				"so it measures resumed handshakes: `-tls resumed`.) ", sc.name, cfg.conns)
		}
	}
	b.WriteString("The clients offer only X25519 for the key exchange; what each server negotiated with the Go client is listed below.\n\n")
	b.WriteString(table(r.scens, r.peers, r.results, r.failed).Markdown())
	if fs := r.fixedScens(); len(fs) > 0 {
		b.WriteString("\n#### HTTPS at a fixed load: server CPU per request\n\n")
		fmt.Fprintf(&b, "The keep-alive HTTPS runs again at %.0f req/s offered (wrk's delay(), as in the fixed-load mode above): "+
			"CPU per request compares the servers' costs of record encryption and HTTP when none is saturated, the figure a "+
			"busy machine disturbs least.\n\n", cfg.tlsFixed)
		b.WriteString(fixedTable(fs, r.peers, map[string]float64{tlsPlaintext: cfg.tlsFixed}, r.fixed).Markdown())
	}
	if r.idle != nil {
		b.WriteString("\n#### Idle TLS connections\n\n")
		fmt.Fprintf(&b, "A fresh HTTPS server of each peer, %d connections that each make a full TLS handshake and one "+
			"GET /plaintext and then stay open, idle; RSS as for the idle keep-alive connections above.\n\n", cfg.tlsIdle)
		b.WriteString(idleTable(r.peers, cfg.tlsIdle, r.idle).Markdown())
	}
	if slices.ContainsFunc(r.peers, func(p *peer) bool { return p.key == issue11.subject }) {
		b.WriteString("\n#### uringnet with TLS against issue 11's floors\n\n")
		b.WriteString("Read off the HTTPS runs above (same certificate, TLS 1.3, AES-128-GCM). Rows marked \"no floor\" put " +
			"the other servers' figures beside uringnet's. One run on a shared machine is noisy: a pass or a miss by a few " +
			"percent is within the noise.\n\n")
		t := floorsTable(issue11, r.scens, r.peers, r.results, r.idle, cfg.tlsIdle)
		tlsExtraRows(t, r, cfg.tlsIdle)
		b.WriteString(t.Markdown())
	}
	var notes []string
	for _, p := range r.peers {
		if neg := r.negotiated[p.key]; neg != "" {
			notes = append(notes, fmt.Sprintf("- %s negotiated %s", p.name, neg))
		}
	}
	for _, p := range r.peers {
		if p.why != "" {
			notes = append(notes, fmt.Sprintf("- HTTPS, %s: n/a (%s)", p.name, p.why))
		}
	}
	for _, sc := range r.scens {
		for _, p := range r.peers {
			if why := r.failed[sc.key][p.key]; why != "" {
				notes = append(notes, fmt.Sprintf("- %s, %s: failed: %s", sc.name, p.name, why))
			}
		}
	}
	for _, p := range r.peers {
		if i, ok := r.idle[p.key]; ok && i.Err != nil {
			notes = append(notes, fmt.Sprintf("- idle TLS, %s: failed: %s", p.name, harness.FirstLine(i.Err.Error())))
		}
	}
	for _, p := range r.peers {
		if stats := r.final[p.key]; stats != "" {
			notes = append(notes, fmt.Sprintf("- %s (TLS) final `%s`", p.name, stats))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String()
}

// tlsExtraRows adds to t, the issue 11 floors table, rows without a floor: server CPU per
// new connection of uringnet against net/http's and nginx's (the figure that still compares
// the servers when the load generator is the bottleneck), and the other servers' RSS per
// idle TLS connection.
func tlsExtraRows(t *harness.Table, r *tlsRun, idleConns int) {
	name := map[string]string{}
	for _, p := range r.peers {
		name[p.key] = p.name
	}
	subj := issue11.subject
	// How busy each server's core was in the saturated keep-alive runs: a subject well under
	// 100% while the others are near it was held back by the load generator (wrk -t1 with
	// TLS), so its ratios understate it.
	if len(r.results[tlsPlaintext][subj]) > 0 {
		var parts []string
		for _, p := range r.peers {
			if ss := r.results[tlsPlaintext][p.key]; len(ss) > 0 {
				parts = append(parts, fmt.Sprintf("%s %.0f%%", p.name, median(ss, func(s sample) float64 { return s.cpuPct })))
			}
		}
		t.AddRow("HTTPS plaintext keep-alive: server CPU busy during the runs (one core = 100%; no floor)", strings.Join(parts, ", "), "—")
	}
	if fs := r.fixedScens(); len(fs) > 0 && len(r.fixed[tlsPlaintext][subj]) > 0 {
		u := cpuOf(r.fixed[tlsPlaintext][subj])
		for _, p := range r.peers {
			if p.key == subj || (p.key != "nethttp" && p.key != "nginx") {
				continue
			}
			o := cpuOf(r.fixed[tlsPlaintext][p.key])
			measured := harness.NA
			if !math.IsNaN(o) && o > 0 {
				measured = fmt.Sprintf("%.2f vs %.2f µs (%s)", u, o, harness.Ratio(u, o))
			}
			t.AddRow(fmt.Sprintf("%s at a fixed rate: server CPU per request, uringnet vs %s (no floor)", fs[0].name, p.name), measured, "—")
		}
	}
	if slices.ContainsFunc(r.scens, func(sc scenario) bool { return sc.key == tlsNewConn }) && len(r.results[tlsNewConn][subj]) > 0 {
		u := cpuOf(r.results[tlsNewConn][subj])
		for _, p := range r.peers {
			if p.key == subj || (p.key != "nethttp" && p.key != "nginx") {
				continue
			}
			o := cpuOf(r.results[tlsNewConn][p.key])
			measured := harness.NA
			if !math.IsNaN(o) && o > 0 {
				measured = fmt.Sprintf("%.1f vs %.1f µs (%s)", u, o, harness.Ratio(u, o))
			}
			t.AddRow(fmt.Sprintf("new connection: server CPU per connection, uringnet vs %s (no floor)", p.name), measured, "—")
		}
	}
	for _, p := range r.peers {
		i, ok := r.idle[p.key]
		if p.key == subj || !ok {
			continue
		}
		t.AddRow(fmt.Sprintf("RSS per idle TLS connection: %s (%d connections; no floor)", name[p.key], idleConns),
			harness.Num(i.PerConnKiB(idleConns), 2)+" KiB", "—")
	}
}

// wrkCloseScript is harness.WrkScript(1) sending "Connection: close": the server closes
// after every response and wrk reconnects.
func wrkCloseScript() string {
	return "wrk.headers[\"Connection\"] = \"close\"\n" + harness.WrkScript(1)
}

// fixedScens returns the scenarios of the fixed-load runs (HTTPS keep-alive), none when
// they did not run.
func (r *tlsRun) fixedScens() []scenario {
	var out []scenario
	for _, sc := range r.scens {
		if _, ok := r.fixed[sc.key]; ok {
			out = append(out, sc)
		}
	}
	return out
}
