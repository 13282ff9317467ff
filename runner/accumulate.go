package runner

import (
	"fmt"
	"os"
	"time"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/verify"
)

// accumulator collects a cell's repetitions while they stream in (Add) and
// derives the cell's figures once at the end (Close) — the shape of
// vegeta's Metrics. Every figure's definition is in docs/METRICS.md.
type accumulator struct {
	multiProcess bool
	batches      int // batches per pass
	reps         []results.Repetition
	rates        []float64
	latency      *metrics.Recorder // every measured batch of every repetition
	cpu          metrics.CPUTimes
	wall         time.Duration
	rows         int
	check        verify.Report
}

func newAccumulator(multiProcess bool, batchesPerPass int) *accumulator {
	return &accumulator{multiProcess: multiProcess, batches: batchesPerPass, latency: metrics.NewRecorder()}
}

// Add takes one measured repetition.
func (a *accumulator) Add(rep repetition) {
	q := rep.latency.Quantiles()
	rate := float64(rep.rows) / rep.wall.Seconds()
	a.rates = append(a.rates, rate)
	a.latency.Add(rep.latency)
	a.cpu = a.cpu.Add(rep.cpu)
	a.wall += rep.wall
	a.rows = rep.rows / max(rep.passes, 1)
	a.check.Merge(rep.check)
	a.reps = append(a.reps, results.Repetition{
		WallSeconds: rep.wall.Seconds(), Passes: rep.passes, RowsPerSecond: rate, P50Seconds: q.P50, P99Seconds: q.P99,
		CPUSeconds: rep.cpu.Total(), PeakRSSBytes: rep.peakRSS,
	})
}

// Limits are the run's settings Close judges a cell by.
type Limits struct {
	LogicalCores   int
	UnstableSpread float64
}

// figures is a cell's measurement, derived once.
type figures struct {
	acc      *accumulator
	summary  metrics.Summary
	latency  metrics.Quantiles
	cpu      results.CPU
	memory   results.Memory
	timeline []results.Sample
	limits   Limits
}

// Close stops the sampler and derives the cell's figures.
func (a *accumulator) Close(sampler *metrics.Sampler, lim Limits) figures {
	points, peak, procs := sampler.Stop()
	f := figures{acc: a, summary: metrics.Summarize(a.rates), latency: a.latency.Quantiles(), limits: lim}

	cores := float64(max(lim.LogicalCores, 1))
	f.cpu = results.CPU{UserSeconds: a.cpu.User, SystemSeconds: a.cpu.System}
	if a.wall > 0 {
		f.cpu.CoresBusy = a.cpu.Total() / a.wall.Seconds()
		f.cpu.Utilization = f.cpu.CoresBusy / cores
		// More CPU than the machine has: the sample was shorter than the
		// kernel's accounting resolution (clock ticks for other processes).
		f.cpu.TooShort = f.cpu.CoresBusy > cores*1.05
	}

	f.memory = results.Memory{RSSSumBytes: peak.RSS, PSSSumBytes: peak.PSS, USSSumBytes: peak.USS, Processes: procs, PeakRSSBytes: peak.RSS}
	if procs > 1 {
		self := os.Getpid()
		for _, pp := range sampler.PerProcess() {
			role := "worker"
			if pp.PID == self {
				role = "runner"
			}
			f.memory.PerProcess = append(f.memory.PerProcess, results.ProcessMemory{
				PID: pp.PID, Role: role, PeakRSSBytes: pp.Mem.RSS, PeakPSSBytes: pp.Mem.PSS, PeakUSSBytes: pp.Mem.USS})
		}
	}
	for _, rp := range a.reps {
		f.memory.PeakRSSBytes = max(f.memory.PeakRSSBytes, rp.PeakRSSBytes)
	}
	for _, p := range points {
		f.timeline = append(f.timeline, results.Sample{Seconds: p.At.Seconds(), RSSBytes: p.Mem.RSS, PSSBytes: p.Mem.PSS, CPUSeconds: p.CPUSeconds})
	}
	return f
}

// Fill writes the figures into the results cell and decides its status:
// failed when outputs differ from the reference, unstable when the
// repetitions spread more than allowed, else ok.
func (f figures) Fill(rc *results.Cell, reference string) {
	a, sum := f.acc, f.summary
	rc.Repetitions = a.reps
	rc.WallSeconds = a.wall.Seconds()
	rc.Throughput = results.Summary{Median: sum.Median, Lo: sum.Lo, Hi: sum.Hi, Confidence: sum.Confidence, Spread: sum.Spread, Warning: sum.Warning}
	rc.RowsPerSecond = sum.Median
	if a.rows > 0 {
		rc.BatchesPerSec = sum.Median / float64(a.rows) * float64(a.batches)
	}
	q := f.latency
	rc.Latency = results.Latency{Mean: q.Mean, P50: q.P50, P90: q.P90, P99: q.P99, P999: q.P999, Max: q.Max}
	rc.CPU, rc.Memory, rc.Timeline = f.cpu, f.memory, f.timeline
	if sum.Warning != "" {
		rc.Warnings = append(rc.Warnings, "confidence interval: "+sum.Warning)
	}
	if f.cpu.TooShort {
		rc.Warnings = append(rc.Warnings, fmt.Sprintf("cpu: %.0f%% measured on %d cores: the repetitions were too short for /proc's resolution; CPU figures left out", 100*f.cpu.CoresBusy, f.limits.LogicalCores))
	}
	rep := a.check
	rc.Verification = results.Verification{
		RowsChecked: rep.RowsChecked, Mismatches: rep.Mismatches, MaxAbsDiff: rep.MaxAbsDiff,
		Passed: rep.Passed(), Reference: reference, FirstError: rep.FirstError,
	}
	switch {
	case !rep.Passed():
		rc.Status = results.StatusFailed
		rc.Error = fmt.Sprintf("%v: %s", ErrVerification, rep.FirstError)
	case sum.Spread > f.limits.UnstableSpread:
		rc.Status = results.StatusUnstable
		rc.Warnings = append(rc.Warnings, fmt.Sprintf("unstable: repetitions spread over %.0f%% of the median (limit %.0f%%)", 100*sum.Spread, 100*f.limits.UnstableSpread))
	default:
		rc.Status = results.StatusOK
	}
}
