package runner

import (
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/stats"
	"github.com/ortbench/ortbench/runner/verify"
)

// accumulator collects a cell's repetitions while they stream in (Add) and
// derives the cell's figures when asked (Close) — the shape of vegeta's
// Metrics. Close does not consume it: under the interleaved schedule the
// runner derives a snapshot after every round. Every figure's definition is
// in docs/METRICS.md.
type accumulator struct {
	multiProcess bool
	batches      int // batches per pass
	reps         []results.Repetition
	rates        []float64 // every repetition's rows/s, in order
	// clean are the undisturbed repetitions' rows/s: the cell's figures
	// come from them (all of rates when every repetition was disturbed).
	clean     []float64
	latency   *metrics.Recorder // every measured batch of the undisturbed repetitions
	disturbed *metrics.Recorder // … and of the disturbed ones, kept apart
	cpu       metrics.CPUTimes
	wall      time.Duration
	rows      int
	check     verify.Report
	// memory over the repetitions (each sampled on its own)
	peak     metrics.Mem
	procs    int
	perPID   map[int]metrics.Mem
	timeline []results.Sample
	sampled  time.Duration // measured time so far: the timeline's clock
	noise    []metrics.Noise
	// percentiles are the run's (the percentiles key): each repetition's
	// and the cell's latency are read at them.
	percentiles []float64
}

func newAccumulator(multiProcess bool, batchesPerPass int, percentiles []float64) *accumulator {
	return &accumulator{multiProcess: multiProcess, batches: batchesPerPass, latency: metrics.NewRecorder(), disturbed: metrics.NewRecorder(),
		perPID: map[int]metrics.Mem{}, percentiles: percentiles}
}

// leaveOut reports whether the figures leave the disturbed repetitions
// out: only when enough undisturbed ones remain (results.MinUndisturbed).
func (a *accumulator) leaveOut() bool { return len(a.clean) >= results.MinUndisturbed }

// figureRates are the rows/s the cell's figures come from.
func (a *accumulator) figureRates() []float64 {
	if a.leaveOut() {
		return a.clean
	}
	return a.rates
}

// latencyFigures are the latency figures at the run's percentiles, from
// the same repetitions.
func (a *accumulator) latencyFigures() results.Latency {
	if a.leaveOut() {
		return a.latency.Latency(a.percentiles)
	}
	all := metrics.NewRecorder()
	all.Add(a.latency)
	all.Add(a.disturbed)
	return all.Latency(a.percentiles)
}

// Add takes one measured repetition.
func (a *accumulator) Add(rep repetition, threshold float64) {
	q := rep.latency.Latency(a.percentiles)
	rate := float64(rep.rows) / rep.wall.Seconds()
	a.rates = append(a.rates, rate)
	disturbed := rep.noise.Known && rep.noise.Disturbed(threshold)
	if disturbed {
		a.disturbed.Add(rep.latency)
	} else {
		a.clean = append(a.clean, rate)
		a.latency.Add(rep.latency)
	}
	a.cpu = a.cpu.Add(rep.cpu)
	a.wall += rep.wall
	a.rows = rep.rows / max(rep.passes, 1)
	a.check.Merge(rep.check)
	a.peak = metrics.Mem{RSS: max(a.peak.RSS, rep.peak.RSS), PSS: max(a.peak.PSS, rep.peak.PSS), USS: max(a.peak.USS, rep.peak.USS)}
	a.procs = max(a.procs, rep.procs)
	for _, pp := range rep.perProc {
		m := a.perPID[pp.PID]
		a.perPID[pp.PID] = metrics.Mem{RSS: max(m.RSS, pp.Mem.RSS), PSS: max(m.PSS, pp.Mem.PSS), USS: max(m.USS, pp.Mem.USS)}
	}
	for _, p := range rep.points {
		a.timeline = append(a.timeline, results.Sample{Seconds: (a.sampled + p.At).Seconds(), RSSBytes: p.Mem.RSS, PSSBytes: p.Mem.PSS, CPUSeconds: p.CPUSeconds})
	}
	a.sampled += rep.duration
	a.noise = append(a.noise, rep.noise)
	r := results.Repetition{
		WallSeconds: rep.wall.Seconds(), Passes: rep.passes, RowsPerSecond: rate, P50Seconds: q.P50, P99Seconds: q.P99,
		Latency: q.ListedMap(), CPUSeconds: rep.cpu.Total(), PeakRSSBytes: rep.peakRSS, Round: rep.round,
	}
	if rep.noise.Known {
		r.Noise = &results.Noise{OtherCores: rep.noise.OtherCores, StealCores: rep.noise.StealCores, Load1: rep.noise.Load1,
			MHz: rep.noise.MHz, Disturbed: disturbed}
	}
	a.reps = append(a.reps, r)
}

// halfWidth is the relative half-width of the throughput interval
// (benchstat's ±, as a fraction), +Inf without an interval. It counts the
// undisturbed repetitions only, so with a target interval a disturbed
// repetition is replaced by another round (until max_duration).
func (a *accumulator) halfWidth() float64 {
	s := metrics.Summarize(a.clean)
	if s.Confidence == 0 || s.Median <= 0 || s.Lo <= 0 {
		return math.Inf(1)
	}
	return max(s.Hi/s.Median-1, 1-s.Lo/s.Median)
}

// Limits are the run's settings Close judges a cell by.
type Limits struct {
	LogicalCores   int
	UnstableSpread float64
	// TargetInterval > 0: the cell is judged converged or not.
	TargetInterval float64
}

// figures is a cell's measurement, derived once.
type figures struct {
	acc     *accumulator
	summary results.Summary
	latency results.Latency
	cpu     results.CPU
	memory  results.Memory
	limits  Limits
	// stability judges the undisturbed repetitions (docs/METRICS.md).
	stability stats.Stability
}

// Close derives the cell's figures from what was added so far.
func (a *accumulator) Close(lim Limits) figures {
	f := figures{acc: a, summary: metrics.Summarize(a.figureRates()), latency: a.latencyFigures(), limits: lim,
		stability: stats.Judge(a.figureRates(), lim.UnstableSpread)}

	cores := float64(max(lim.LogicalCores, 1))
	f.cpu = results.CPU{UserSeconds: a.cpu.User, SystemSeconds: a.cpu.System}
	if a.wall > 0 {
		f.cpu.CoresBusy = a.cpu.Total() / a.wall.Seconds()
		f.cpu.Utilization = f.cpu.CoresBusy / cores
		// More CPU than the machine has: the sample was shorter than the
		// kernel's accounting resolution (clock ticks for other processes).
		f.cpu.TooShort = f.cpu.CoresBusy > cores*1.05
	}

	f.memory = results.Memory{RSSSumBytes: a.peak.RSS, PSSSumBytes: a.peak.PSS, USSSumBytes: a.peak.USS, Processes: a.procs, PeakRSSBytes: a.peak.RSS}
	if a.procs > 1 {
		self := os.Getpid()
		pids := make([]int, 0, len(a.perPID))
		for pid := range a.perPID {
			pids = append(pids, pid)
		}
		sort.Ints(pids)
		for _, pid := range pids {
			m := a.perPID[pid]
			role := "worker"
			if pid == self {
				role = "runner"
			}
			f.memory.PerProcess = append(f.memory.PerProcess, results.ProcessMemory{
				PID: pid, Role: role, PeakRSSBytes: m.RSS, PeakPSSBytes: m.PSS, PeakUSSBytes: m.USS})
		}
	}
	for _, rp := range a.reps {
		f.memory.PeakRSSBytes = max(f.memory.PeakRSSBytes, rp.PeakRSSBytes)
	}
	return f
}

// Fill writes the figures into the results cell and decides its status:
// failed when outputs differ from the reference, unstable when the
// repetitions spread more than allowed, else ok.
func (f figures) Fill(rc *results.Cell, reference string) {
	a, sum := f.acc, f.summary
	rc.Repetitions = slices.Clone(a.reps)
	rc.WallSeconds = a.wall.Seconds()
	rc.Throughput = sum
	if d := f.stability.Dispersion; !math.IsNaN(d) {
		rc.Throughput.Dispersion = d
	}
	rc.RowsPerSecond = sum.Median
	if a.rows > 0 {
		rc.BatchesPerSec = sum.Median / float64(a.rows) * float64(a.batches)
	}
	rc.Latency = f.latency
	rc.CPU, rc.Memory, rc.Timeline = f.cpu, f.memory, slices.Clone(a.timeline)
	rc.Disturbed = 0
	for _, r := range a.reps {
		if r.Noise != nil && r.Noise.Disturbed {
			rc.Disturbed++
		}
	}
	warnings := slices.Clone(rc.Warnings)
	if sum.Warning != "" {
		warnings = append(warnings, "confidence interval: "+sum.Warning)
	}
	if f.cpu.TooShort {
		warnings = append(warnings, fmt.Sprintf("cpu: %.0f%% measured on %d cores: the repetitions were too short for /proc's resolution; CPU figures left out", 100*f.cpu.CoresBusy, f.limits.LogicalCores))
	}
	switch {
	case rc.Disturbed > 0 && !a.leaveOut():
		warnings = append(warnings, fmt.Sprintf("disturbed: other processes took more than the threshold in %d of %d repetitions; too few left for figures without them, so they come from all", rc.Disturbed, len(a.reps)))
	case rc.Disturbed > 0:
		warnings = append(warnings, fmt.Sprintf("disturbed: other processes took more than the threshold in %d of %d repetitions; the figures leave them out", rc.Disturbed, len(a.reps)))
	}
	rc.Converged = nil
	if f.limits.TargetInterval > 0 {
		ok := a.halfWidth() <= f.limits.TargetInterval
		rc.Converged = &ok
		if !ok {
			warnings = append(warnings, fmt.Sprintf("not converged: the interval stayed wider than ±%.0f%% after %d repetitions (%s)", 100*f.limits.TargetInterval, len(a.reps), whyNotConverged(a, rc.Disturbed)))
		}
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
	case f.stability.Unstable():
		rc.Status = results.StatusUnstable
		warnings = append(warnings, "unstable: "+f.stability.Reason)
	default:
		rc.Status = results.StatusOK
	}
	rc.Warnings = warnings
}

// whyNotConverged names the likeliest reason a cell's interval stayed wide:
// disturbed repetitions, a drift over the rounds, two clusters of values,
// or plain noise.
func whyNotConverged(a *accumulator, disturbed int) string {
	switch {
	case disturbed > 0:
		return fmt.Sprintf("%d disturbed repetitions", disturbed)
	case stats.Drifting(a.clean):
		return "drifting: throughput moved steadily over the rounds"
	case stats.Bimodal(a.clean):
		return "bimodal: the repetitions fall into two groups"
	}
	return "noisy"
}
