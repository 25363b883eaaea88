package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// floor is one throughput floor: on scenario, the subject's throughput (bytes per second for
// the 1 MiB file, requests per second otherwise) must be at least min times peer's, both
// measured in this run.
type floor struct {
	scenario, peer string
	min            float64
}

// floorSet is one issue's floors for one subject peer.
type floorSet struct {
	issue      string  // "issue 9"
	subject    string  // the key of the peer the floors are about
	floors     []floor // in the issue's order
	maxIdleKiB float64 // the ceiling on its RSS per idle keep-alive connection
	idleLabel  string  // what the idle connections are; "" for "idle keep-alive connection"
	pass, fail string  // what the "met" column says
}

// issue9 holds issue 9's floors for the epoll backend.
var issue9 = floorSet{
	issue:   "issue 9",
	subject: "epoll",
	floors: []floor{
		{"plaintext", "uringnet", 0.9},
		{"plaintext", "fasthttp", 1},
		{"pipelined", "fasthttp", 1},
		{"static1m", "nginx", 0.9},
	},
	maxIdleKiB: 2,
	pass:       "yes", fail: "no",
}

// issue10 holds issue 10's floors for the net/http adapter, which serves the same ServeMux
// as the net/http peer.
var issue10 = floorSet{
	issue:   "issue 10",
	subject: "adapter",
	floors: []floor{
		{"plaintext", "nethttp", 1.5},
		{"pipelined", "nethttp", 4},
		{"pipelined", "fasthttp", 1},
	},
	maxIdleKiB: 4,
	pass:       "PASS", fail: "FAIL",
}

// floorsTable reads fs's floors off this run: the subject's ratios to the peers the floors
// name, and its RSS per idle keep-alive connection. A floor whose scenario or peer was not
// run is left out; one that was run but not measured shows n/a.
func floorsTable(fs floorSet, scens []scenario, peers []*peer, results map[string]map[string][]sample, idle map[string]harness.IdleResult, idleConns int) *harness.Table {
	t := &harness.Table{Labels: 1, Header: []string{"floor (" + fs.issue + ")", "measured", "met"}}
	name := map[string]string{}
	for _, p := range peers {
		name[p.key] = p.name
	}
	for _, f := range fs.floors {
		for _, sc := range scens {
			if sc.key != f.scenario || name[f.peer] == "" {
				continue
			}
			unit := "req/s"
			switch {
			case sc.key == "static1m":
				unit = "bytes/s"
			case sc.newConn:
				unit = "connections/s"
			}
			e, o := rateOf(sc, results[sc.key][fs.subject]), rateOf(sc, results[sc.key][f.peer])
			t.AddRow(fmt.Sprintf("%s: %s ≥ %.2fx %s's", sc.name, unit, f.min, name[f.peer]),
				harness.Ratio(e, o), fs.verdict(met(e/o, f.min, true)))
		}
	}
	if r, ok := idle[fs.subject]; ok {
		kib := r.PerConnKiB(idleConns)
		label := fs.idleLabel
		if label == "" {
			label = "idle keep-alive connection"
		}
		t.AddRow(fmt.Sprintf("RSS per %s ≤ %.2f KiB (%d connections)", label, fs.maxIdleKiB, idleConns),
			harness.Num(kib, 2)+" KiB", fs.verdict(met(kib, fs.maxIdleKiB, false)))
	}
	return t
}

// verdict turns met's "yes" and "no" into fs's words.
func (fs floorSet) verdict(m string) string {
	switch m {
	case "yes":
		return fs.pass
	case "no":
		return fs.fail
	}
	return m
}

// met says whether v reaches the floor (atLeast) or stays under the ceiling (!atLeast):
// "yes", "no", or n/a when v is not a number.
func met(v, limit float64, atLeast bool) string {
	return harness.Floor(v, limit, atLeast, false, "yes", "no")
}

// handlerCostRows adds to t, the issue 10 floors table, rows without a floor that price the
// adapter's handler goroutines: its CPU per request in the fixed-load plaintext runs against
// uringnet's native callbacks and net/http's, with the difference in µs per request. Nothing
// is added when plaintext did not run at a fixed rate or the adapter was not measured there.
func handlerCostRows(t *harness.Table, fixedScens []scenario, peers []*peer, rates map[string]float64, fixedRes map[string]map[string][]sample) {
	i := slices.IndexFunc(fixedScens, func(sc scenario) bool { return sc.key == "plaintext" })
	if i < 0 || len(fixedRes["plaintext"]["adapter"]) == 0 {
		return
	}
	sc := fixedScens[i]
	a := cpuOf(fixedRes[sc.key]["adapter"])
	for _, p := range peers {
		if p.key != "uringnet" && p.key != "nethttp" {
			continue
		}
		label := p.name
		if p.key == "uringnet" {
			label = "uringnet's native callbacks"
		}
		o := cpuOf(fixedRes[sc.key][p.key])
		measured := harness.NA
		if !math.IsNaN(o) && o > 0 {
			measured = fmt.Sprintf("%.2f vs %.2f µs (%+.2f µs, %s)", a, o, a-o, harness.Ratio(a, o))
		}
		t.AddRow(fmt.Sprintf("%s at %.0f req/s offered: CPU per request, adapter vs %s (no floor)", sc.name, rates[sc.key], label),
			measured, "—")
	}
}
