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
