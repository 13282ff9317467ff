package serve

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/load"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// cellRun is one plan cell being served: its strategy started and warm,
// then measured at each load.
type cellRun struct {
	env     Env
	pc      config.Cell
	load    config.LoadSection
	pattern load.Pattern
	seed    uint64
	shape   strategy.Serving
	svc     *service
	startup time.Duration
	service time.Duration // median single-request service time, from warm-up
	limits  Limits
}

// measured is one load's step, its results cell and its latencies.
type measured struct {
	step Step
	cell results.Cell
	lat  *metrics.Recorder
}

// serveCell serves one plan cell at every fixed load and, with an SLO,
// searches its highest sustainable one. A cell fails only when it could
// not run (start-up, warm-up, a request that errs) or gave wrong outputs;
// a load that misses the SLO is a result.
func serveCell(ctx context.Context, env Env, pc config.Cell, seed uint64) []results.Cell {
	cr, err := startCell(ctx, env, pc, seed)
	if err != nil {
		cell := env.Base(pc)
		cell.Status, cell.Error = results.StatusFailed, err.Error()
		if ctx.Err() != nil {
			cell.Status = results.StatusSkipped
		}
		return []results.Cell{cell}
	}
	defer cr.svc.close()
	out, fixed, err := cr.fixedLoads(ctx)
	if err != nil || !cr.load.HasSLO() {
		return out
	}
	return append(out, cr.search(ctx, fixed))
}

// startCell starts the cell's strategy and warms it up.
func startCell(ctx context.Context, env Env, pc config.Cell, seed uint64) (*cellRun, error) {
	l := env.Plan.Config.Load
	shape, ok := strategy.ServingOf(pc.Config)
	if !ok {
		return nil, fmt.Errorf("%s has no serving side", pc.Strategy)
	}
	patterns := env.Patterns
	if patterns == nil {
		patterns = load.Default()
	}
	pat, err := patterns.Lookup(l.Arrival)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	svc, err := open(ctx, env, pc, shape, l.RequestRows)
	if err != nil {
		return nil, fmt.Errorf("start-up: %w", err)
	}
	cr := &cellRun{env: env, pc: pc, load: l, pattern: pat, seed: seed, shape: shape, svc: svc, startup: time.Since(t0),
		limits: Limits{Duration: l.Duration, MinRequests: l.MinRequests, Percentile: l.SLO.Percentile, Latency: l.SLO.Latency}}
	if cr.service, err = svc.warm(env.Plan.Config.WarmupBatches, shape); err != nil {
		svc.close()
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	return cr, nil
}

// fixedLoads measures the sweep's loads (load.qps), one cell each; a load
// that could not run ends the cell there. It returns the measurements too,
// for the search to start from.
func (cr *cellRun) fixedLoads(ctx context.Context) ([]results.Cell, []measured, error) {
	var out []results.Cell
	var fixed []measured
	for _, q := range cr.load.QPS {
		m, err := cr.measure(ctx, float64(q))
		cell := m.cell
		cell.Params = append(slices.Clone(cell.Params), results.Param{Key: "qps", Value: int64(q)})
		cell.Name += "/qps=" + strconv.Itoa(q)
		if err != nil {
			cell.Status, cell.Error = results.StatusFailed, err.Error()
			return append(out, cell), fixed, err
		}
		cell.Serving.HistogramLog = writeLog(cr.env.OutDir, cell.Name, cell.Serving, m.lat)
		out = append(out, cell)
		fixed = append(fixed, m) // unnamed: the search cell names its own
	}
	return out, fixed, nil
}

// measure serves one load of qps requests/s and judges it.
func (cr *cellRun) measure(ctx context.Context, qps float64) (measured, error) {
	env, l := cr.env, cr.load
	if env.Progress != nil {
		env.Progress(cr.pc.Index, fmt.Sprintf("serve %.0f/s", qps))
	}
	m := measured{cell: env.Base(cr.pc), step: Step{QPS: qps}}
	m.cell.StartupSeconds = cr.startup.Seconds()
	pacer, err := cr.pattern.New(load.Spec{Rate: qps, Seed: cr.seed})
	if err != nil {
		return m, err
	}
	sched, err := load.Schedule(pacer, l.Duration, l.MinRequests)
	if err != nil {
		return m, err
	}
	cr.svc.reset()
	cpu0, noise := metrics.SelfCPU(), metrics.MarkNoise()
	o, err := Run(ctx, cr.svc, Options{Schedule: sched, Servers: cr.shape.Servers, MaxBatch: cr.shape.MaxBatch, MaxDelay: cr.shape.MaxDelay,
		Slots: cr.svc.slots, SLO: l.SLO.Latency, Drain: max(2*time.Second, l.Duration/2)})
	cpu := metrics.SelfCPU().Sub(cpu0)
	if o == nil {
		return m, err
	}
	m.lat, m.step.Outcome = o.Latency, o
	m.step.Rule, m.step.Detail = Judge(o, cr.limits)
	fill(&m.cell, o, cr.svc.report(), env, l, qps, cr.shape, m.step)
	if m.step.Passed() && m.cell.Status != results.StatusOK {
		m.step.Rule, m.step.Detail = "verification", m.cell.Verification.FirstError
	}
	m.cell.CPU = results.CPU{UserSeconds: cpu.User, SystemSeconds: cpu.System}
	if o.Span > 0 {
		m.cell.CPU.CoresBusy = (cpu.User + cpu.System) / o.Span.Seconds()
		m.cell.CPU.Utilization = m.cell.CPU.CoresBusy / float64(max(env.Cores, 1))
	}
	nz := noise.Since(cpu)
	m.cell.Repetitions[0].Noise = &results.Noise{OtherCores: nz.OtherCores, StealCores: nz.StealCores, Load1: nz.Load1}
	if nz.OtherCores+nz.StealCores > env.Plan.Config.NoiseThreshold {
		m.cell.Disturbed = 1
	}
	return m, err
}

// search finds the cell's highest sustainable QPS, bracketed by the fixed
// loads, and returns it as the cell's "slo_search" cell: the figures of
// its highest passing load, or, when no load met the SLO, of the lowest
// tried — a result (status ok, max QPS 0), not a failure.
func (cr *cellRun) search(ctx context.Context, fixed []measured) results.Cell {
	l := cr.load
	opts := SearchOptions{Precision: l.SLO.Precision,
		Start: float64(cr.shape.Servers*max(cr.shape.MaxBatch, 1)) / max(cr.service.Seconds(), 1e-6) / 2}
	if len(l.QPS) > 0 {
		opts.Start = float64(l.QPS[0])
	}
	var best, lowest *measured
	var steps []results.SearchStep
	keep := func(m *measured) {
		if m.step.Passed() && (best == nil || m.step.QPS > best.step.QPS) {
			best = m
		}
		if lowest == nil || m.step.QPS <= lowest.step.QPS {
			lowest = m
		}
	}
	for i := range fixed {
		m := &fixed[i]
		keep(m)
		if m.step.Passed() {
			opts.Passed = append(opts.Passed, m.step.QPS)
		} else {
			opts.Failed = append(opts.Failed, m.step.QPS)
		}
		st := searchStep(m.step, l.SLO.Percentile)
		st.Fixed = true
		steps = append(steps, st)
	}
	found, searched, err := Search(ctx, opts, func(qps float64) (Step, error) {
		m, err := cr.measure(ctx, qps)
		if m.step.Outcome != nil {
			keep(&m)
		}
		return m.step, err
	})
	for _, st := range searched {
		if st.Outcome != nil {
			steps = append(steps, searchStep(st, l.SLO.Percentile))
		}
	}
	return cr.searchCell(found, best, lowest, steps, err)
}

// searchCell is the search's result cell.
func (cr *cellRun) searchCell(found Found, best, lowest *measured, steps []results.SearchStep, err error) results.Cell {
	l := cr.load
	var cell results.Cell
	var lat *metrics.Recorder
	switch {
	case best != nil:
		cell, lat = best.cell, best.lat
	case lowest != nil:
		cell, lat = lowest.cell, lowest.lat
	default:
		cell = cr.env.Base(cr.pc)
		cell.Serving = &results.Serving{Arrival: l.Arrival, Seed: cr.seed, RequestRows: l.RequestRows}
		cell.Status, cell.Error = results.StatusFailed, "no load could be measured"
	}
	cell.Params = append(slices.Clone(cell.Params), results.Param{Key: "qps", Value: int64(math.Round(found.MaxQPS))}, results.Param{Key: "slo_search", Value: true})
	cell.Name = cr.pc.Name + "/slo_search"
	cell.Serving = cloneServing(cell.Serving)
	cell.Serving.HistogramLog = ""
	cell.Serving.Search = &results.Search{MaxSustainableQPS: found.MaxQPS, UpperQPS: found.Upper, Precision: l.SLO.Precision, Steps: steps}
	if best == nil && lowest != nil {
		cell.Serving.Search.Note = fmt.Sprintf("no load met the SLO: the lowest tried, %.0f requests/s, broke %s", lowest.step.QPS, lowest.step.Rule)
	}
	if err != nil {
		cell.Status, cell.Error = results.StatusFailed, err.Error()
	}
	if cell.Status != results.StatusFailed {
		cell.Serving.HistogramLog = writeLog(cr.env.OutDir, cell.Name, cell.Serving, lat)
	}
	return cell
}

// cloneServing copies s so that the search cell's fields do not change
// the fixed-load cell it was taken from.
func cloneServing(s *results.Serving) *results.Serving {
	c := *s
	if s.SLO != nil {
		slo := *s.SLO
		c.SLO = &slo
	}
	return &c
}
