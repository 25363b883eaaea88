package main

import (
	"fmt"
	"math"

	"github.com/uringnet/uringnet/bench/internal/harness"
)

// floor is one of issue 9's floors for the epoll backend: on scenario, epoll's throughput
// (bytes per second for the 1 MiB file, requests per second otherwise) must be at least min
// times peer's, both measured in this run.
type floor struct {
	scenario, peer string
	min            float64
}

// epollFloors are issue 9's throughput floors, in its order.
var epollFloors = []floor{
	{"plaintext", "uringnet", 0.9},
	{"plaintext", "fasthttp", 1},
	{"pipelined", "fasthttp", 1},
	{"static1m", "nginx", 0.9},
}

// maxIdleKiB is issue 9's ceiling on the epoll backend's RSS per idle keep-alive connection.
const maxIdleKiB = 2.0

// floorsTable reads issue 9's floors off this run: epoll's ratios to the peers the floors
// name, and its RSS per idle keep-alive connection. A floor whose scenario or peer was not
// run is left out; one that was run but not measured shows n/a.
func floorsTable(scens []scenario, peers []*peer, results map[string]map[string][]sample, idle map[string]idleResult, idleConns int) *harness.Table {
	t := &harness.Table{Labels: 1, Header: []string{"floor (issue 9)", "measured", "met"}}
	name := map[string]string{}
	for _, p := range peers {
		name[p.key] = p.name
	}
	for _, f := range epollFloors {
		for _, sc := range scens {
			if sc.key != f.scenario || name[f.peer] == "" {
				continue
			}
			unit := "req/s"
			if sc.key == "static1m" {
				unit = "bytes/s"
			}
			e, o := rateOf(sc, results[sc.key]["epoll"]), rateOf(sc, results[sc.key][f.peer])
			t.AddRow(fmt.Sprintf("%s: %s ≥ %.2fx %s's", sc.name, unit, f.min, name[f.peer]),
				harness.Ratio(e, o), met(e/o, f.min, true))
		}
	}
	if r, ok := idle["epoll"]; ok {
		kib := r.perConnKiB(idleConns)
		t.AddRow(fmt.Sprintf("RSS per idle keep-alive connection ≤ %.2f KiB (%d connections)", maxIdleKiB, idleConns),
			harness.Num(kib, 2)+" KiB", met(kib, maxIdleKiB, false))
	}
	return t
}

// met says whether v reaches the floor (atLeast) or stays under the ceiling (!atLeast):
// "yes", "no", or n/a when v is not a number.
func met(v, limit float64, atLeast bool) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return harness.NA
	}
	ok := v <= limit
	if atLeast {
		ok = v >= limit
	}
	if ok {
		return "yes"
	}
	return "no"
}
