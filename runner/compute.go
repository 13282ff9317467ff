package runner

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/onnx/graph"
	"github.com/ortbench/ortbench/runner/results"
)

// flopsCache holds each model's graph estimate, read once per path.
var flopsCache sync.Map // path → flopsEntry

type flopsEntry struct {
	flops int64
	note  string
	// bytes is the graph's bytes-per-row estimate at a batch size; nil
	// when the graph could not be read.
	bytes func(batch int) (float64, bool)
	// bytesNote says why bytes is unknown.
	bytesNote string
}

// modelFlops is the FLOPs per row of the model at path from its graph
// (onnx/graph), with a note when the count is unknown or partial.
func modelFlops(path string) flopsEntry {
	if e, ok := flopsCache.Load(path); ok {
		return e.(flopsEntry)
	}
	var e flopsEntry
	g, err := graph.Read(path)
	if err == nil {
		e.bytes, e.bytesNote = g.BytesPerRow, g.BytesNote
	}
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

// itemFlops is the FLOPs per item of a model fed as feeds at batch size
// batch, from the shapes inferred through its graph (graph.FlopsPerItem:
// convolutions, matrix products of any batch dims, recurrent cells); the
// bytes estimate is the tabular one's and stays unknown here.
func itemFlops(path string, feeds []onnx.Feed, batch int) flopsEntry {
	key := fmt.Sprintf("%s\x00%d", path, batch)
	if e, ok := flopsCache.Load(key); ok {
		return e.(flopsEntry)
	}
	var e flopsEntry
	shapes, items := map[string][]int64{}, batch
	for _, f := range feeds {
		switch {
		case f.Batch == 0:
			shapes[f.Name] = append([]int64{int64(batch)}, f.Item...)
		case f.Batch > 0:
			shapes[f.Name], items = append([]int64{int64(f.Batch)}, f.Item...), f.Batch
		default:
			shapes[f.Name], items = f.Item, 1
		}
	}
	g, err := graph.Read(path)
	var c graph.Count
	if err == nil {
		c, err = g.FlopsPerItem(shapes, items)
	}
	switch {
	case err != nil:
		e.note = "flops unknown: " + err.Error()
	case c.FLOPs <= 0:
		e.note = "flops unknown: nothing countable in the graph"
	default:
		e.flops = c.FLOPs
		if len(c.Notes) > 0 {
			e.note = "flops a lower bound: " + c.Notes[0]
		}
	}
	flopsCache.Store(key, e)
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
	bs := rc.Params.Int("batch_size")
	rc.Compute = computeFor(r.cellFlops(rc, bs), bs, rc.RowsPerSecond, rc.CoresUsed, r.Env.Ceiling, rc.Repetitions)
}

// cellFlops is the graph's FLOPs per item for an onnx cell at batch size
// bs: per item of the feeds for a tensors workload, per row otherwise.
func (r *Runner) cellFlops(rc *results.Cell, bs int) flopsEntry {
	if r.feeds != nil {
		return itemFlops(rc.Workload.Model, r.feeds, bs)
	}
	return modelFlops(rc.Workload.Model)
}

// computeFor derives a cell's roofline figures; notes say why one is null.
// reps are the cell's repetitions, paired by round with the ceiling's
// bursts when it was measured every round (ceiling.go).
func computeFor(e flopsEntry, batch int, rowsPerSecond float64, cores int, ceil *results.Ceiling, reps []results.Repetition) *results.Compute {
	c := &results.Compute{FlopsPerRow: e.flops}
	var notes []string
	note := func(n string) {
		if n != "" && !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	note(e.note)
	defer func() { c.Note = strings.Join(notes, "; ") }()
	switch {
	case e.bytes == nil:
	case e.bytesNote != "":
		note(e.bytesNote)
	case batch < 1:
		note("bytes unknown: the cell has no batch size")
	default:
		if b, ok := e.bytes(batch); ok {
			c.BytesPerRow = &b
		}
	}
	if e.flops <= 0 {
		return c
	}
	if c.BytesPerRow != nil && *c.BytesPerRow > 0 {
		ai := float64(e.flops) / *c.BytesPerRow
		c.FlopsPerByte = &ai
	}
	g := float64(e.flops) * rowsPerSecond / 1e9
	c.GFLOPS = &g
	p, ok := ceil.At(cores)
	if !ok || p.GFLOPS <= 0 {
		note("no ceiling measured (set `ceiling: true` in the config)")
		return c
	}
	sh := ceilingShare(e.flops, g, p, reps, ceil)
	c.CeilingThreads, c.CeilingGFLOPS, c.PctOfCeilingRounds = p.Threads, &sh.ceilGFLOPS, sh.rounds
	if sh.problem != "" {
		// A cell cannot outrun the machine: flagged, never a figure.
		note(sh.problem)
	} else {
		c.PctOfCeiling = &sh.pct
		if sh.hi > 0 {
			c.PctOfCeilingLo, c.PctOfCeilingHi = &sh.lo, &sh.hi
		}
	}
	if p.BandwidthGBPS <= 0 {
		note("no bandwidth ceiling (a ceiling cached before it was measured: run `ortbench ceiling` again)")
		return c
	}
	c.CeilingBandwidthGBPS = &p.BandwidthGBPS
	if c.FlopsPerByte != nil {
		att := min(p.GFLOPS, *c.FlopsPerByte*p.BandwidthGBPS)
		c.AttainableGFLOPS = &att
	}
	return c
}
