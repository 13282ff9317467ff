package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// baseCell is a cell's identity before anything is measured: name,
// parameters, derived facts, workload.
func (r *Runner) baseCell(cell config.Cell, w workload.Workload) results.Cell {
	rc := results.Cell{
		Name: cell.Name, Strategy: cell.Strategy, Description: cell.Description,
		Params:      cell.Params,
		Derived:     strategy.Derived(cell.Config),
		Warnings:    append([]string(nil), cell.Warnings...),
		CoresUsed:   min(cell.Config.Shape().Cores(), max(r.Env.LogicalCores, 1)),
		SupportCopy: r.Support[cell.Name],
	}
	model, dataset := w.Describe()
	rc.Workload = results.Workload{Kind: w.Kind(), Model: model, Dataset: dataset, Rows: w.Rows(), Width: w.Width()}
	if h, ok := w.(*workload.Heavy); ok {
		rc.Workload.Cost = h.Cost()
	}
	return rc
}

// probe is how a cell's CPU time and processes are read: this process, or
// this process and the strategy's worker processes.
type probe struct {
	pids         func() []int
	cpu          func() metrics.CPUTimes
	multiProcess bool
}

func probeFor(s strategy.Strategy) probe {
	pt, ok := s.(strategy.ProcessTree)
	if !ok {
		return probe{pids: metrics.Self, cpu: metrics.SelfCPU}
	}
	p := probe{
		multiProcess: true,
		pids:         func() []int { return append(metrics.Self(), pt.PIDs()...) },
		cpu:          func() metrics.CPUTimes { return metrics.SelfCPU().Add(metrics.TreeCPU(pt.PIDs())) },
	}
	if tc, ok := s.(strategy.TreeCPU); ok {
		p.cpu = func() metrics.CPUTimes { return metrics.SelfCPU().Add(tc.TreeCPU()) }
	}
	return p
}

// runCell measures one cell: start-up (timed apart), warm-up, then
// repetitions measured one by one and accumulated. It never panics the run:
// any failure becomes the cell's status and error.
func (r *Runner) runCell(ctx context.Context, idx int, cell config.Cell, w workload.Workload, ver *verify.Verifier, obs Observer) (rc results.Cell) {
	c := r.Plan.Config
	rc = r.baseCell(cell, w)
	fail := func(err error) results.Cell {
		rc.Status = results.StatusFailed
		if ctx.Err() != nil {
			rc.Status = results.StatusSkipped
			err = fmt.Errorf("interrupted: %w", err)
		} else if errors.Is(err, strategy.ErrSkip) {
			rc.Status = results.StatusSkipped // the environment's fault, not the cell's
		}
		rc.Error = err.Error()
		return rc
	}
	defer func() {
		if p := recover(); p != nil {
			rc = fail(fmt.Errorf("panic: %v", p))
		}
	}()

	s := r.Registry[cell.Strategy].New()
	job := &strategy.Job{Workload: w, Config: cell.Config, Options: SessionOptions(c), Command: r.Command}
	obs.Phase(idx, "startup")
	t0 := time.Now()
	err := s.Start(ctx, job)
	rc.StartupSeconds = time.Since(t0).Seconds()
	defer s.Close()
	if err != nil {
		return fail(fmt.Errorf("start-up: %w", err))
	}

	nb := job.Batches()
	out := workload.NewOutputs(w.Layout(), w.Rows(), job.BatchSize())
	recs := metrics.NewRecorders(s.Recorders())
	if warm := min(c.WarmupBatches, nb); warm > 0 {
		obs.Phase(idx, "warmup")
		if err := s.Pass(ctx, warm, out, recs); err != nil {
			return fail(fmt.Errorf("warm-up: %w", err))
		}
	}
	if rp, ok := s.(strategy.Reporter); ok {
		defer func() {
			for k, v := range rp.Report() {
				if rc.Extra == nil {
					rc.Extra = map[string]any{}
				}
				rc.Extra[k] = v
			}
		}()
	}

	obs.Phase(idx, "measure")
	// Start every cell from the same heap state, with freed memory handed
	// back to the OS: otherwise garbage from loading the dataset (arrow-go
	// allocates per record batch) inflates the first cell's RSS.
	debug.FreeOSMemory()
	interval := c.SampleInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	pr := probeFor(s)
	m := &measurer{s: s, out: out, recs: recs, ver: ver, probe: pr, nb: nb, rows: w.Rows(), minDuration: c.MinDuration}
	m.sampler = metrics.StartSampler(interval, pr.pids)
	acc := newAccumulator(pr.multiProcess, nb)
	for n := 1; n <= c.Repetitions; n++ {
		rep, err := m.repetition(ctx)
		if err != nil {
			m.sampler.Stop()
			return fail(fmt.Errorf("repetition %d: %w", n, err))
		}
		acc.Add(rep)
		obs.RepetitionDone(idx, n, c.Repetitions, rep.wall)
	}
	obs.Phase(idx, "verify")
	acc.Close(m.sampler, Limits{LogicalCores: r.Env.LogicalCores, UnstableSpread: c.UnstableSpread}).Fill(&rc, ver.Name)
	r.fillCompute(&rc)
	return rc
}

// derive fills speedup and efficiency: each cell against its strategy's
// baseline (strategy.Definition.Baseline) measured at the same batch size.
// Without a measured baseline both stay null (SpeedupBase "").
func derive(run *results.Run, reg strategy.Registry) {
	type key struct {
		strategy string
		batch    int
	}
	base := map[key]*results.Cell{}
	for i := range run.Cells {
		c := &run.Cells[i]
		k := key{c.Strategy, c.Params.Int("batch_size")}
		if _, seen := base[k]; !seen && results.Measured(c.Status) && reg.IsBaseline(c.Strategy) {
			base[k] = c
		}
	}
	for i := range run.Cells {
		c := &run.Cells[i]
		c.Speedup, c.Efficiency, c.SpeedupBase = 0, 0, ""
		name := reg[c.Strategy].Baseline
		if name == "" && reg.IsBaseline(c.Strategy) {
			name = c.Strategy
		}
		b, ok := base[key{name, c.Params.Int("batch_size")}]
		if !ok || !results.Measured(c.Status) || b.RowsPerSecond == 0 {
			continue
		}
		c.Speedup = c.RowsPerSecond / b.RowsPerSecond
		c.Efficiency = c.Speedup / float64(max(c.CoresUsed, 1))
		c.SpeedupBase = b.Name
	}
}
