package tune

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/workload"
)

// RunnerMeasurer measures points with the real runner: each step is a
// small config (the tune's config with its strategies replaced by the
// step's points, one entry each), expanded into a plan and run — every
// cell started, interleaved seeded rounds, repeat until stable, outputs
// verified against the sequential reference — into its own folder under
// Dir/steps. Each step's config is kept there, so any step re-runs with
// `ortbench run -c`.
type RunnerMeasurer struct {
	Config   *config.Config
	Space    *Space
	Registry strategy.Registry
	Machine  config.Machine
	Workload workload.Workload
	Formats  results.Formats
	Env      results.Environment
	Command  []string
	Dir      string
	// Observer hears each step's run (nil: none).
	Observer runner.Observer
}

// Measure implements Measurer.
func (m *RunnerMeasurer) Measure(ctx context.Context, step int, pts []Point) ([]Measurement, error) {
	dir := filepath.Join(m.Dir, "steps", fmt.Sprintf("%03d", step))
	name := fmt.Sprintf("%s-step-%03d", m.Config.Name, step)
	data, err := m.Space.PointsConfig(m.Config, name, pts, dir, []string{"json"})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "config.yaml")
	if err := results.WriteFileAtomic(path, data); err != nil {
		return nil, err
	}
	cfg, err := config.Load(path, data, nil)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	plan, err := config.Expand(cfg, m.Registry, m.Machine, m.Formats.Names()...)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	if len(plan.Cells) != len(pts) {
		return nil, fmt.Errorf("step %d: %d points expanded into %d cells", step, len(pts), len(plan.Cells))
	}
	cfg.SetLibrary(m.Config.ONNXRuntime.Library)
	r := &runner.Runner{
		Plan: plan, Registry: m.Registry, Formats: m.Formats, Observer: m.Observer,
		Env: m.Env, OutDir: filepath.Join(dir, "results"), Command: m.Command, BusyWindow: -1,
	}
	run, err := r.Run(ctx, m.Workload)
	switch {
	case ctx.Err() != nil || errors.Is(err, runner.ErrInterrupted):
		return nil, context.Canceled
	case err != nil && !errors.Is(err, runner.ErrVerification) && !errors.Is(err, runner.ErrCellFailed):
		return nil, fmt.Errorf("step %d: %w", step, err)
	}
	if run != nil && cfg.Load.Server() {
		// Each plan cell served at every fixed QPS, then its SLO search.
		out := make([]Measurement, len(pts))
		for i, pc := range plan.Cells {
			out[i] = fromServerCells(pts[i], pc.Name, run.Cells, cfg.Load.QPS, cfg.Load.RequestRows)
		}
		return out, nil
	}
	if run == nil || len(run.Cells) != len(pts) {
		return nil, fmt.Errorf("step %d: the run has no figures for its %d points", step, len(pts))
	}
	out := make([]Measurement, len(pts))
	for i := range run.Cells {
		out[i] = fromCell(pts[i], &run.Cells[i])
	}
	return out, nil
}

// fromServerCells is a point's figures under server load, from the cells
// runner/serve made of its plan cell (name): one per fixed QPS
// ("name/qps=250") and its SLO search ("name/slo_search"). MaxQPS is the
// search's highest sustainable QPS, MaxQPSHi the lowest load it saw fail
// above it; throughput is the most rows/s served at any load, SLO or not
// (the point's capacity); p99 is at the first fixed QPS, the same offered
// load for every point (at the search's best load without one); cores
// busy at the search's best load. A point no load of which met the SLO,
// or whose outputs differ from the reference, failed.
func fromServerCells(p Point, name string, cells []results.Cell, qps []int, requestRows int) Measurement {
	m := Measurement{Point: p, Cell: name + "/slo_search", Status: results.StatusFailed}
	var slo *results.Cell
	var fixed []*results.Cell
	for i := range cells {
		c := &cells[i]
		switch {
		case c.Name == name+"/slo_search":
			slo = c
		case strings.HasPrefix(c.Name, name+"/qps="):
			fixed = append(fixed, c)
		}
	}
	if slo == nil {
		m.Error = "the run has no SLO search for this point"
		if len(fixed) > 0 && fixed[len(fixed)-1].Error != "" {
			m.Error = fixed[len(fixed)-1].Error
		}
		if len(fixed) > 0 && fixed[len(fixed)-1].Status == results.StatusSkipped {
			m.Status = results.StatusSkipped
		}
		return m
	}
	for _, c := range append(fixed, slo) {
		if c.Status == results.StatusFailed || c.Status == results.StatusSkipped {
			m.Status, m.Error = c.Status, c.Error
			if m.Error == "" {
				m.Error = c.Name + " " + c.Status
			}
			if c.Serving != nil && c.Serving.Search != nil {
				m.MaxQPS = c.Serving.Search.MaxSustainableQPS
			}
			return m
		}
	}
	s := slo.Serving
	if s == nil || s.Search == nil || s.Search.MaxSustainableQPS <= 0 {
		m.Error = "no load met the SLO"
		return m
	}
	m.Status = slo.Status
	m.MaxQPS, m.PeakRSS, m.CoresBusy, m.Disturbed = s.Search.MaxSustainableQPS, slo.Memory.PeakRSSBytes, slo.CPU.CoresBusy, slo.Disturbed
	rows := float64(requestRows)
	if s.RequestRowsMean > 0 { // a trace that sizes its requests
		rows = s.RequestRowsMean
	}
	for _, st := range s.Search.Steps {
		if !st.Passed && st.QPS > m.MaxQPS && (m.MaxQPSHi == 0 || st.QPS < m.MaxQPSHi) {
			m.MaxQPSHi = st.QPS
		}
		m.RowsPerSecond = max(m.RowsPerSecond, st.AchievedQPS*rows)
	}
	m.P99, m.P99QPS = slo.Latency.P99, s.TargetQPS
	for _, c := range fixed {
		m.RowsPerSecond = max(m.RowsPerSecond, c.RowsPerSecond)
		if len(qps) > 0 && c.Serving != nil && c.Serving.TargetQPS == float64(qps[0]) {
			m.P99, m.P99QPS = c.Latency.P99, c.Serving.TargetQPS
		}
	}
	m.RowsPerSecond = max(m.RowsPerSecond, slo.RowsPerSecond)
	return m
}

// fromCell is a runner cell's figures as a Measurement.
func fromCell(p Point, c *results.Cell) Measurement {
	m := Measurement{Point: p, Cell: c.Name, Status: c.Status, Error: c.Error}
	if c.Status == results.StatusFailed && c.Error == "" && !c.Verification.Passed {
		m.Error = "outputs differ from the reference: " + c.Verification.FirstError
	}
	if !results.Measured(c.Status) {
		return m
	}
	m.RowsPerSecond, m.Lo, m.Hi = c.RowsPerSecond, c.Throughput.Lo, c.Throughput.Hi
	m.P99, m.PeakRSS, m.CoresBusy, m.Disturbed = c.Latency.P99, c.Memory.PeakRSSBytes, c.CPU.CoresBusy, c.Disturbed
	for _, r := range c.Repetitions {
		r.Noise = nil // the runner's results.json keeps it; the checkpoint needs the figures
		m.Rounds = append(m.Rounds, r)
	}
	return m
}

// entry is a point as a strategies[] entry of a config: its strategy and
// every parameter but the batch size (bk, the space's batch key; the
// entry's batch_sizes).
func entry(p Point, bk string) map[string]any {
	e := map[string]any{"strategy": p.Strategy, "batch_sizes": []int{p.Batch}}
	for _, q := range p.Params {
		if q.Key != bk {
			e[q.Key] = q.Value
		}
	}
	if p.Batch == 0 {
		delete(e, "batch_sizes") // server load: requests of load.request_rows rows
	}
	return e
}

// PointsConfig is c's resolved config with its strategies replaced by one
// entry per point (batch_sizes: the points' batches, largest first, so
// the reference pass is quick), named name, writing into dir in the given
// formats (nil: every format), without its tune section. It is an
// ordinary experiment file: `ortbench run -c` runs it.
func (s *Space) PointsConfig(c *config.Config, name string, pts []Point, dir string, formats []string) ([]byte, error) {
	return pointsConfig(c.Resolved, s.batchKey(), name, pts, dir, formats)
}

// pointsConfig is PointsConfig from the resolved config and the space's
// batch key (what a tune.json keeps of them: Origin).
func pointsConfig(resolved []byte, bk, name string, pts []Point, dir string, formats []string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(resolved, &doc); err != nil {
		return nil, fmt.Errorf("the resolved config: %w", err)
	}
	delete(doc, "tune")
	var entries []map[string]any
	var batches []int
	for _, p := range pts {
		entries = append(entries, entry(p, bk))
		if !slices.Contains(batches, p.Batch) {
			batches = append(batches, p.Batch)
		}
	}
	slices.Sort(batches)
	slices.Reverse(batches)
	doc["name"] = name
	doc["strategies"] = entries
	doc["batch_sizes"] = batches
	if slices.Equal(batches, []int{0}) {
		delete(doc, "batch_sizes") // server load
	}
	out, _ := doc["output"].(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		// output.dir/<name>/<timestamp> is run's layout; a step writes
		// straight into its folder, so the runner is given OutDir itself.
		out["dir"] = abs
	}
	if formats != nil {
		out["formats"] = formats
	}
	doc["output"] = out
	if err := os.MkdirAll(dir, 0o755); dir != "" && err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return b, nil
}
