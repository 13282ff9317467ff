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
		CoresUsed:   min(cell.Config.Shape().Cores(), r.Env.UsableCores()),
		SupportCopy: r.Support[cell.Name],
	}
	model, dataset := w.Describe()
	rc.Workload = results.Workload{Kind: w.Kind(), Model: model, Dataset: dataset, Rows: w.Rows(), Width: w.RecordBytes() / 4}
	if t, ok := w.(*workload.Tensors); ok {
		rc.Workload.Width, rc.Workload.Inputs, rc.Workload.Unverified = 0, t.InputLines(), t.Skipped()
	}
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

// cellRun is one cell of a run: its identity, its started strategy, and
// what it has measured so far. Runner.Run drives it through start, any
// number of repetitions (in rounds, under the interleaved schedule) and
// finish.
type cellRun struct {
	idx  int
	cell config.Cell
	rc   results.Cell
	s    strategy.Strategy
	m    *measurer
	acc  *accumulator
	done bool // failed or skipped: no more repetitions
}

// fail ends the cell with err: incomplete when the run was interrupted
// (the cell had started), skipped when the environment is missing, failed
// otherwise.
func (cr *cellRun) fail(ctx context.Context, err error) {
	cr.rc.Status = results.StatusFailed
	if ctx.Err() != nil {
		cr.rc.Status = results.StatusIncomplete
		err = fmt.Errorf("interrupted: %w", err)
	} else if errors.Is(err, strategy.ErrSkip) {
		cr.rc.Status = results.StatusSkipped // the environment's fault, not the cell's
	}
	cr.rc.Error = err.Error()
	cr.done = true
	cr.close()
}

func (cr *cellRun) close() {
	if cr.s != nil {
		cr.s.Close()
		cr.s = nil
	}
}

// startCell starts a cell's strategy (timed apart) and runs its warm-up.
// A failure ends the cell, never the run: a panic included.
func (rj *runJob) startCell(idx int, cell config.Cell) (cr *cellRun) {
	r, ctx, w, ver, obs := rj.r, rj.ctx, rj.w, rj.ver, rj.obs
	c := r.Plan.Config
	cr = &cellRun{idx: idx, cell: cell, rc: r.baseCell(cell, w)}
	defer func() {
		if p := recover(); p != nil {
			cr.fail(ctx, fmt.Errorf("panic: %v", p))
		}
	}()
	cr.s = r.Registry[cell.Strategy].New()
	job := &strategy.Job{Workload: w, Config: cell.Config, Options: SessionOptions(c), Command: r.Command}
	obs.Phase(idx, "startup")
	t0 := time.Now()
	err := cr.s.Start(ctx, job)
	cr.rc.StartupSeconds = time.Since(t0).Seconds()
	if err != nil {
		cr.fail(ctx, fmt.Errorf("start-up: %w", err))
		return cr
	}
	nb := job.Batches()
	out := r.outputs(w, job.BatchSize(), ver)
	recs := metrics.NewRecorders(cr.s.Recorders())
	if warm := min(c.WarmupBatches, nb); warm > 0 {
		obs.Phase(idx, "warmup")
		if err := cr.s.Pass(ctx, warm, out, recs); err != nil {
			cr.fail(ctx, fmt.Errorf("warm-up: %w", err))
			return cr
		}
	}
	interval := c.SampleInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	pr := probeFor(cr.s)
	cr.m = &measurer{s: cr.s, out: out, recs: recs, ver: ver, probe: pr, interval: interval, nb: nb, rows: w.Rows(), minDuration: c.MinDuration}
	cr.acc = newAccumulator(pr.multiProcess, nb, r.Plan.Config.Percentiles)
	return cr
}

// measure runs one repetition in round, and adds it.
func (r *Runner) measure(ctx context.Context, cr *cellRun, round int, obs Observer) {
	if cr.done {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			cr.fail(ctx, fmt.Errorf("panic: %v", p))
		}
	}()
	obs.Phase(cr.idx, "measure")
	// Every repetition starts from the same heap state, with freed memory
	// handed back to the OS: otherwise garbage from loading the dataset
	// (arrow-go allocates per record batch) inflates the first cell's RSS.
	debug.FreeOSMemory()
	rep, err := cr.m.repetition(ctx, round)
	if err != nil {
		cr.fail(ctx, fmt.Errorf("repetition %d: %w", len(cr.acc.reps)+1, err))
		return
	}
	cr.acc.Add(rep, r.Plan.Config.NoiseThreshold)
	obs.RepetitionDone(cr.idx, len(cr.acc.reps), r.Plan.Config.Repetitions, rep.wall)
}

// snapshot is the cell's results as measured so far.
func (r *Runner) snapshot(cr *cellRun, ver *verify.Verifier) results.Cell {
	if cr.done {
		return cr.rc
	}
	rc := cr.rc
	if cr.acc != nil && len(cr.acc.reps) > 0 {
		c := r.Plan.Config
		cr.acc.Close(Limits{LogicalCores: r.Env.UsableCores(), UnstableSpread: c.UnstableSpread, TargetInterval: c.TargetInterval}).Fill(&rc, ver.Name)
		r.fillCompute(&rc)
		labelRoles(&rc, cr.s)
	}
	r.pending(cr, &rc) // incomplete.go
	return rc
}

// cut notes, on a cell the run's interruption left with fewer repetitions
// than planned, how many it kept: its figures stand on those.
func (r *Runner) cut(ctx context.Context, cr *cellRun) {
	if ctx.Err() == nil || cr.done || cr.acc == nil {
		return
	}
	if n, want := len(cr.acc.reps), r.Plan.Config.Repetitions; n < want {
		cr.rc.Warnings = append(cr.rc.Warnings, fmt.Sprintf("interrupted: %d of %d repetitions measured", n, want))
	}
}

// finish closes the cell's strategy and returns its results.
func (r *Runner) finish(cr *cellRun, ver *verify.Verifier, reporter bool) results.Cell {
	if !cr.done {
		cr.rc = r.snapshot(cr, ver)
		cr.done = true
	}
	if rp, ok := cr.s.(strategy.Reporter); ok && reporter {
		for k, v := range rp.Report() {
			if cr.rc.Extra == nil {
				cr.rc.Extra = map[string]any{}
			}
			cr.rc.Extra[k] = v
		}
	}
	cr.close()
	return cr.rc
}

// outputs is the output store for cells of one batch size. Cells measure one
// at a time (a pass resets the store and is verified before the next), so
// every cell of a batch size shares one: under the interleaved schedule,
// where every cell stays started, a store per cell would hold the outputs
// of the whole dataset once per cell.
//
// A streamed workload's store holds no rows: each batch is checked against
// the verifier's reference as it is made (workload.NewStreamOutputs).
func (r *Runner) outputs(w workload.Workload, batchSize int, ver *verify.Verifier) *workload.Outputs {
	if r.stores == nil {
		r.stores = map[int]*workload.Outputs{}
	}
	o, ok := r.stores[batchSize]
	if !ok && workload.Streams(w) {
		o = workload.NewStreamOutputs(w.Layout(), w.Rows(), batchSize, ver.NewStream(batchSize))
		r.stores[batchSize] = o
	} else if !ok {
		o = workload.NewOutputs(w.Layout(), w.Rows(), batchSize)
		r.stores[batchSize] = o
	}
	return o
}
