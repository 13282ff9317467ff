package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// processTree is implemented by strategies whose work runs in other
// processes; the sampler then accounts for all of them.
type processTree interface {
	PIDs() []int
}

// treeCPU is implemented by process strategies whose workers may exit
// inside a pass (their CPU then comes from the kernel's rusage at exit);
// it replaces summing /proc over PIDs().
type treeCPU interface {
	TreeCPU() metrics.CPUTimes
}

// reporter is implemented by strategies with figures of their own; they are
// added to the cell's Extra.
type reporter interface {
	Report() map[string]any
}

func (r *Runner) baseCell(cell config.Cell, w workload.Workload) results.Cell {
	p := cell.Params
	rc := results.Cell{
		Name: cell.Name, Strategy: cell.Strategy, Description: cell.Description,
		Params: results.Params{
			Workers: p.Workers, IntraOpThreads: p.Threads, InterOpThreads: p.InterOpThreads,
			BatchSize: p.BatchSize, QueueDepth: p.QueueDepth, Spinning: p.Spinning,
			Transport: p.Transport, Start: p.Start, ThreadsResolved: p.ThreadsResolved,
			StartMethod: p.StartMethod, Data: p.Data,
		},
		Warnings:  append([]string(nil), cell.Warnings...),
		CoresUsed: min(p.CoresWanted(), max(r.Env.LogicalCores, 1)),
	}
	if cell.Strategy == "inter-op" {
		rc.Params.ExecutionMode = "parallel"
	} else if w.UsesORT() {
		rc.Params.ExecutionMode = "sequential"
	}
	if !w.UsesORT() {
		rc.Params.IntraOpThreads, rc.Params.Spinning = 0, false
	}
	model, dataset := w.Describe()
	rc.Workload = results.Workload{Kind: w.Kind(), Model: model, Dataset: dataset, Rows: w.Rows(), Width: w.Width()}
	if h, ok := w.(*workload.Heavy); ok {
		rc.Workload.Cost = h.Cost()
	}
	return rc
}

// runCell measures one cell. It never panics the run: any failure becomes
// the cell's status and error.
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
	job := &strategy.Job{Workload: w, Params: cell.Params, Options: SessionOptions(c), Command: r.Command}
	obs.Phase(idx, "startup")
	t0 := time.Now()
	err := s.Start(ctx, job)
	rc.StartupSeconds = time.Since(t0).Seconds()
	defer s.Close()
	if err != nil {
		return fail(fmt.Errorf("start-up: %w", err))
	}

	nb := job.Batches()
	out := workload.NewOutputs(w.Layout(), w.Rows(), cell.Params.BatchSize)
	recs := metrics.NewRecorders(s.Recorders())
	if warm := min(c.WarmupBatches, nb); warm > 0 {
		obs.Phase(idx, "warmup")
		if err := s.Pass(ctx, warm, out, recs); err != nil {
			return fail(fmt.Errorf("warm-up: %w", err))
		}
	}

	pids := metrics.Self
	cpuNow := metrics.SelfCPU
	pt, multiProcess := s.(processTree)
	if multiProcess {
		pids = func() []int { return append(metrics.Self(), pt.PIDs()...) }
		cpuNow = func() metrics.CPUTimes { return metrics.SelfCPU().Add(metrics.TreeCPU(pt.PIDs())) }
		if tc, ok := s.(treeCPU); ok {
			cpuNow = func() metrics.CPUTimes { return metrics.SelfCPU().Add(tc.TreeCPU()) }
		}
	}
	if rp, ok := s.(reporter); ok {
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
	sampler := metrics.StartSampler(interval, pids)
	all := metrics.NewRecorder()
	var rates []float64
	var rep verify.Report
	var cpuTotal metrics.CPUTimes
	var wallTotal time.Duration
	for n := 1; n <= c.Repetitions; n++ {
		// One repetition: whole passes until it has lasted MinDuration. Each
		// pass is timed alone and verified between passes, untimed.
		recs.Reset()
		mark := sampler.Mark()
		metrics.ResetPeakRSS()
		var wall time.Duration
		var cpu metrics.CPUTimes
		passes := 0
		for passes == 0 || wall < c.MinDuration {
			out.Reset()
			cpu0 := cpuNow()
			t := time.Now()
			err := s.Pass(ctx, nb, out, recs)
			wall += time.Since(t)
			cpu = cpu.Add(cpuNow().Sub(cpu0))
			if err != nil {
				sampler.Stop()
				return fail(fmt.Errorf("repetition %d: %w", n, err))
			}
			passes++
			rep.Merge(ver.Check(out, nb))
		}
		// The repetition's peak: the largest tree-wide RSS sampled during it,
		// and for an in-process cell the kernel's exact high-water mark.
		sampler.Mark()
		peakRSS := sampler.PeakRSSSince(mark)
		if !multiProcess {
			peakRSS = max(peakRSS, metrics.PeakRSS())
		}
		one := metrics.NewRecorder()
		recs.Merge(one)
		recs.Merge(all)
		q := one.Quantiles()
		rate := float64(w.Rows()*passes) / wall.Seconds()
		rates = append(rates, rate)
		cpuTotal = cpuTotal.Add(cpu)
		wallTotal += wall
		rc.Repetitions = append(rc.Repetitions, results.Repetition{
			WallSeconds: wall.Seconds(), Passes: passes, RowsPerSecond: rate, P50Seconds: q.P50, P99Seconds: q.P99, CPUSeconds: cpu.Total(),
			PeakRSSBytes: peakRSS,
		})
		obs.RepetitionDone(idx, n, c.Repetitions, wall)
	}
	points, peak, procs := sampler.Stop()

	rc.WallSeconds = wallTotal.Seconds()
	sum := metrics.Summarize(rates)
	rc.Throughput = results.Summary{Median: sum.Median, Lo: sum.Lo, Hi: sum.Hi, Confidence: sum.Confidence, Spread: sum.Spread, Warning: sum.Warning}
	rc.RowsPerSecond = sum.Median
	rc.BatchesPerSec = sum.Median / float64(w.Rows()) * float64(nb)
	rc.Verification.RowsChecked = rep.RowsChecked
	rc.Unstable = sum.Spread > c.UnstableSpread
	if rc.Unstable {
		rc.Warnings = append(rc.Warnings, fmt.Sprintf("unstable: repetitions spread over %.0f%% of the median (limit %.0f%%)", 100*sum.Spread, 100*c.UnstableSpread))
	}
	if sum.Warning != "" {
		rc.Warnings = append(rc.Warnings, "confidence interval: "+sum.Warning)
	}
	q := all.Quantiles()
	rc.Latency = results.Latency{Mean: q.Mean, P50: q.P50, P90: q.P90, P99: q.P99, P999: q.P999, Max: q.Max}
	cores := float64(max(r.Env.LogicalCores, 1))
	rc.CPU = results.CPU{UserSeconds: cpuTotal.User, SystemSeconds: cpuTotal.System}
	if wallTotal > 0 {
		rc.CPU.CoresBusy = cpuTotal.Total() / wallTotal.Seconds()
		rc.CPU.Utilization = rc.CPU.CoresBusy / cores
	}
	rc.Memory = results.Memory{RSSSumBytes: peak.RSS, PSSSumBytes: peak.PSS, USSSumBytes: peak.USS, Processes: procs, PeakRSSBytes: peak.RSS}
	if procs > 1 {
		self := os.Getpid()
		for _, pp := range sampler.PerProcess() {
			role := "worker"
			if pp.PID == self {
				role = "runner"
			}
			rc.Memory.PerProcess = append(rc.Memory.PerProcess, results.ProcessMemory{
				PID: pp.PID, Role: role, PeakRSSBytes: pp.Mem.RSS, PeakPSSBytes: pp.Mem.PSS, PeakUSSBytes: pp.Mem.USS})
		}
	}
	for _, rp := range rc.Repetitions {
		rc.Memory.PeakRSSBytes = max(rc.Memory.PeakRSSBytes, rp.PeakRSSBytes)
	}
	for _, p := range points {
		rc.Timeline = append(rc.Timeline, results.Sample{Seconds: p.At.Seconds(), RSSBytes: p.Mem.RSS, PSSBytes: p.Mem.PSS, CPUSeconds: p.CPUSeconds})
	}

	obs.Phase(idx, "verify")
	rc.Verification = results.Verification{
		RowsChecked: rep.RowsChecked, Mismatches: rep.Mismatches, MaxAbsDiff: rep.MaxAbsDiff,
		Passed: rep.Passed(), Reference: ver.Name, FirstError: rep.FirstError,
	}
	rc.Status = results.StatusOK
	if !rep.Passed() {
		rc.Status = results.StatusFailed
		rc.Error = fmt.Sprintf("%v: %s", ErrVerification, rep.FirstError)
	}
	return rc
}

// derive fills speedup and efficiency: each Go cell against the sequential
// cell at the same batch size, each Python (py-*) cell against py-sequential
// at the same batch size, so both sides read as "what parallelism bought
// this language" — the Go-vs-Python ratio is rows/s against rows/s.
func derive(run *results.Run) {
	type key struct {
		python bool
		batch  int
	}
	base := map[key]*results.Cell{}
	for i := range run.Cells {
		c := &run.Cells[i]
		if (c.Strategy == "sequential" || c.Strategy == "py-sequential") && c.Status == results.StatusOK {
			base[key{c.Strategy == "py-sequential", c.Params.BatchSize}] = c
		}
	}
	for i := range run.Cells {
		c := &run.Cells[i]
		b, ok := base[key{strings.HasPrefix(c.Strategy, "py-"), c.Params.BatchSize}]
		if !ok || c.Status != results.StatusOK || b.RowsPerSecond == 0 {
			c.Speedup, c.Efficiency, c.SpeedupBase = 0, 0, ""
			continue
		}
		c.Speedup = c.RowsPerSecond / b.RowsPerSecond
		c.Efficiency = c.Speedup / float64(max(c.CoresUsed, 1))
		c.SpeedupBase = b.Name
	}
}
