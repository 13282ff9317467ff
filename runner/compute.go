package runner

import (
	"fmt"
	"sync"

	"github.com/ortbench/ortbench/onnx/graph"
	"github.com/ortbench/ortbench/runner/results"
)

// flopsCache holds each model's graph estimate, read once per path.
var flopsCache sync.Map // path → flopsEntry

type flopsEntry struct {
	flops int64
	note  string
}

// modelFlops is the FLOPs per row of the model at path from its graph
// (onnx/graph), with a note when the count is unknown or partial.
func modelFlops(path string) flopsEntry {
	if e, ok := flopsCache.Load(path); ok {
		return e.(flopsEntry)
	}
	var e flopsEntry
	g, err := graph.Read(path)
	switch {
	case err != nil:
		e.note = "flops unknown: " + err.Error()
	case g.Flops <= 0:
		e.note = "flops unknown: the graph has no matrix products to count"
		if g.Trees != nil {
			e.note = "flops unknown: tree ensembles compare rather than multiply"
		}
	default:
		e.flops = g.Flops
		for _, n := range g.FlopNotes {
			if n != "" && !isElementwiseNote(n) {
				e.note = "flops a lower bound: " + n
			}
		}
	}
	flopsCache.Store(path, e)
	return e
}

// isElementwiseNote tells the graph reader's standing note (element-wise
// ops are not counted, by convention) from one that makes the count partial.
func isElementwiseNote(n string) bool {
	var k int
	_, err := fmt.Sscanf(n, "%d element-wise", &k)
	return err == nil
}

// fillCompute places a measured onnx cell on the roofline: GFLOP/s from
// the graph's FLOPs per row × rows/s, and its share of the machine's
// ceiling for the cores it used (docs/METRICS.md, "Compute").
func (r *Runner) fillCompute(rc *results.Cell) {
	rc.Compute = nil
	if rc.Workload.Kind != "onnx" || rc.Workload.Model == "" || !results.Measured(rc.Status) {
		return
	}
	rc.Compute = computeFor(modelFlops(rc.Workload.Model), rc.RowsPerSecond, rc.CoresUsed, r.Env.Ceiling)
}

func computeFor(e flopsEntry, rowsPerSecond float64, cores int, ceil *results.Ceiling) *results.Compute {
	c := &results.Compute{FlopsPerRow: e.flops, Note: e.note}
	if e.flops <= 0 {
		return c
	}
	g := float64(e.flops) * rowsPerSecond / 1e9
	c.GFLOPS = &g
	p, ok := ceil.At(cores)
	if !ok || p.GFLOPS <= 0 {
		if c.Note == "" {
			c.Note = "no ceiling measured (set `ceiling: true` in the config)"
		}
		return c
	}
	pct := 100 * g / p.GFLOPS
	c.CeilingThreads, c.CeilingGFLOPS, c.PctOfCeiling = p.Threads, &p.GFLOPS, &pct
	return c
}
