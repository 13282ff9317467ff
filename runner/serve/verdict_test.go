package serve

import (
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

func searchCell(name string, maxQPS, upper float64) results.Cell {
	return results.Cell{Name: name, Status: results.StatusOK, Workload: results.Workload{Kind: "onnx", Model: "../models/mlp.onnx"},
		Serving: &results.Serving{RequestRows: 1, SLO: &results.SLO{Percentile: 99, LatencySeconds: 0.02},
			Search: &results.Search{MaxSustainableQPS: maxQPS, UpperQPS: upper}}}
}

func TestServingVerdict(t *testing.T) {
	fixed := searchCell("sequential/qps=250", 0, 0)
	fixed.Serving.Search = nil
	cells := []results.Cell{fixed,
		searchCell("sequential/slo_search", 900, 950),
		searchCell("batcher/slo_search", 2000, 2100),
		searchCell("goroutines/slo_search", 1950, 2050), // overlaps the batcher's bracket
		searchCell("worker-pool/slo_search", 1500, 1580),
	}
	vs := Verdicts(cells)
	if len(vs) != 1 {
		t.Fatalf("%d verdicts: %+v", len(vs), vs)
	}
	v := vs[0]
	if v.Best != "batcher/slo_search" || v.MaxQPS != 2000 || len(v.Tied) != 1 || v.Tied[0] != "goroutines/slo_search" {
		t.Errorf("verdict %+v", v)
	}
	if line := v.Line(); !strings.HasPrefix(line, "mlp, 1 row per request, p99 ≤ ") || !strings.Contains(line, "batcher/slo_search, 2000 QPS (fails at 2100) (tied, brackets overlap: goroutines/slo_search)") {
		t.Errorf("line %q", line)
	}
	// Separated brackets: a clear winner.
	cells[3] = searchCell("goroutines/slo_search", 1700, 1800)
	if v := Verdicts(cells)[0]; v.Best != "batcher/slo_search" || len(v.Tied) != 0 {
		t.Errorf("separated: %+v", v)
	}
	// Nobody met the SLO: no winner, and why.
	none := []results.Cell{searchCell("a/slo_search", 0, 100), searchCell("b/slo_search", 0, 50)}
	if v := Verdicts(none)[0]; v.Best != "" || !strings.Contains(v.Reason, "no strategy met the SLO") {
		t.Errorf("none: %+v", v)
	}
	// An offline run has no serving verdict.
	if vs := Verdicts([]results.Cell{{Name: "x", Status: results.StatusOK}}); len(vs) != 0 {
		t.Errorf("offline: %+v", vs)
	}
}

// TestVerdictsKeepClosedLoopApart: closed-loop searches get a verdict of
// their own, in clients, beside the open loop's.
func TestVerdictsKeepClosedLoopApart(t *testing.T) {
	cell := func(name string, qps float64, clients, upper int) results.Cell {
		s := &results.Serving{RequestRows: 1, SLO: &results.SLO{Percentile: 99, LatencySeconds: 0.02},
			Search: &results.Search{MaxSustainableQPS: qps, MaxConcurrency: clients, UpperConcurrency: upper}}
		if clients > 0 {
			s.Concurrency, s.Arrival = clients, ArrivalClosed
		}
		return results.Cell{Name: name, Status: results.StatusOK, Workload: results.Workload{Model: "m.onnx"}, Serving: s}
	}
	vs := Verdicts([]results.Cell{cell("a/slo_search", 900, 0, 0), cell("a/slo_search_concurrency", 800, 16, 17),
		cell("b/slo_search", 1000, 0, 0), cell("b/slo_search_concurrency", 700, 32, 0)})
	if len(vs) != 2 || vs[0].Best != "b/slo_search" || vs[1].Best != "a/slo_search_concurrency" || vs[1].MaxConcurrency != 16 {
		t.Fatalf("verdicts %+v", vs)
	}
	if l := vs[1].Line(); !strings.Contains(l, "closed loop") || !strings.Contains(l, "800 QPS at 16 clients (fails at 17)") {
		t.Errorf("line %q", l)
	}
}

// TestVerdictPerArrival: with load.arrival a list, each arrival's searches
// get a verdict of their own (the cells carry the arrival parameter); one
// arrival's cells (no parameter) keep the group as before.
func TestVerdictPerArrival(t *testing.T) {
	cell := func(name, arrival string, qps float64) results.Cell {
		c := searchCell(name, qps, 0)
		if arrival != "" {
			c.Params = results.NewParams("arrival", arrival)
		}
		return c
	}
	vs := Verdicts([]results.Cell{cell("a/arrival=poisson/slo_search", "poisson", 900), cell("b/arrival=poisson/slo_search", "poisson", 1000),
		cell("a/arrival=gamma/slo_search", "gamma", 600), cell("b/arrival=gamma/slo_search", "gamma", 400)})
	if len(vs) != 2 || vs[0].Best != "b/arrival=poisson/slo_search" || vs[1].Best != "a/arrival=gamma/slo_search" {
		t.Fatalf("verdicts %+v", vs)
	}
	if g := vs[1].Group; g != "mlp, 1 row per request, gamma arrivals, p99 ≤ 20.00ms" {
		t.Errorf("group %q", g)
	}
	if g := Verdicts([]results.Cell{cell("a/slo_search", "", 900)})[0].Group; strings.Contains(g, "arrivals") {
		t.Errorf("one arrival's group %q names it", g)
	}
}
