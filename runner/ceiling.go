package runner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ortbench/ortbench/runner/ceiling"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/stats"
)

// The ceiling as a cell of the rounds. A ceiling measured once before the
// run is only as good as that moment: on a shared machine a busier minute
// makes it low, and a cell then comes out above 100% of it. Under the
// interleaved schedule (with `ceiling: true`) every round therefore also
// runs a short burst of the ceiling's MatMul model for every core count
// the cells are compared at, placed in the round's shuffled order like a
// cell, and each cell's % of ceiling is the median of its per-round ratios
// with the paired interval (ceilingShare). The bursts are no strategy
// cell: they live in the environment's ceiling (results.Ceiling.Rounds)
// and never enter speedups or verdicts. The sequential schedule keeps the
// ceiling measured before the run.

// Burst length bounds: a burst lasts as long as the last round's median
// repetition (the first, min_duration), within these: at the default
// sizes one MatMul run takes a few milliseconds on two cores.
const (
	minBurst = 20 * time.Millisecond
	maxBurst = 2 * time.Second
)

// ceilingRounds are the bursts of one interleaved run.
type ceilingRounds struct {
	b       *ceiling.Bursts
	threads []int            // one burst per round for each, ascending
	ceil    *results.Ceiling // the run's ceiling: bursts appended to Rounds
	burst   time.Duration    // the next burst's length
	spent   time.Duration    // the bursts' wall time so far
	rounds  time.Duration    // the rounds' wall time so far
}

// markCeiling records, on the run's own copy of the ceiling, how the cells
// are compared with it: before the run (sequential) or every round.
func (rj *runJob) markCeiling() {
	r := rj.r
	if r.Env.Ceiling == nil {
		return
	}
	cl := *r.Env.Ceiling
	cl.Rounds, cl.BurstShare, cl.How = nil, 0, results.CeilingBeforeRun
	if rj.kind == config.ScheduleInterleaved && !r.Plan.Config.Load.Server() && rj.w.Kind() == "onnx" {
		cl.How = results.CeilingEveryRound
	}
	r.Env.Ceiling, rj.run.Environment.Ceiling = &cl, &cl
}

// openCeiling opens the bursts for an interleaved run whose ceiling is
// measured every round; nil (with a warning, never a failed run) when they
// cannot open.
func (rj *runJob) openCeiling() *ceilingRounds {
	r := rj.r
	cl := r.Env.Ceiling
	if cl == nil || cl.How != results.CeilingEveryRound {
		return nil
	}
	ways := map[int]string{}
	for _, cell := range r.Plan.Cells {
		if p, ok := cl.At(min(cell.Config.Shape().Cores(), r.Env.UsableCores())); ok {
			ways[p.Threads] = p.Way
		}
	}
	threads := slices.Sorted(func(yield func(int) bool) {
		for t := range ways {
			if !yield(t) {
				return
			}
		}
	})
	s := ceiling.Defaults(r.Env.UsableCores(), SessionOptions(r.Plan.Config))
	if cl.Batch > 0 && cl.K > 0 && cl.N > 0 {
		s.Batch, s.K, s.N = cl.Batch, cl.K, cl.N // the sizes the points were measured at
	}
	b, err := ceiling.NewBursts(s, threads, ways)
	if err != nil {
		cl.How = results.CeilingBeforeRun
		msg := "ceiling: measured before the run only: the per-round bursts did not open: " + err.Error()
		rj.run.Warnings = append(rj.run.Warnings, msg)
		note(rj.obs, msg)
		return nil
	}
	return &ceilingRounds{b: b, threads: threads, ceil: cl, burst: min(max(r.Plan.Config.MinDuration, minBurst), maxBurst)}
}

// run measures the burst on threads cores in round; a failed burst ends the
// bursts (the cells go on) with a warning.
func (cr *ceilingRounds) run(ctx context.Context, rj *runJob, round, threads int) {
	if cr.b == nil {
		return
	}
	g, secs, err := cr.b.Burst(ctx, threads, cr.burst)
	if err != nil {
		if ctx.Err() == nil {
			msg := fmt.Sprintf("ceiling: the bursts stopped in round %d: %v", round, err)
			rj.run.Warnings = append(rj.run.Warnings, msg)
			note(rj.obs, msg)
		}
		cr.close()
		return
	}
	cr.ceil.Rounds = append(cr.ceil.Rounds, results.CeilingRound{Round: round, Threads: threads, GFLOPS: g, Seconds: secs})
	cr.spent += time.Duration(secs * float64(time.Second))
}

// roundDone sizes the next burst like the round's median repetition and
// updates the bursts' share of the run's time.
func (cr *ceilingRounds) roundDone(took time.Duration, walls []float64) {
	cr.rounds += took
	if len(walls) > 0 {
		cr.burst = min(max(time.Duration(stats.Median(walls)*float64(time.Second)), minBurst), maxBurst)
	}
	if cr.rounds > 0 {
		cr.ceil.BurstShare = cr.spent.Seconds() / cr.rounds.Seconds()
	}
}

func (cr *ceilingRounds) close() {
	if cr != nil && cr.b != nil {
		cr.b.Close()
		cr.b = nil
	}
}

// share is a cell's % of the ceiling: against the point measured before
// the run, or paired by round with the bursts (rounds > 0).
type share struct {
	pct, lo, hi float64 // lo, hi: 0 without an interval
	rounds      int
	ceilGFLOPS  float64
	problem     string // why pct is no figure
}

// ceilingShare is the share of p (the ceiling point for the cell's cores)
// that a cell of g GFLOP/s (flops per row, repetitions reps) reached.
// With bursts on p's cores it is the median of the per-round ratios cell
// GFLOP/s ÷ burst GFLOP/s, with its 95% interval; above 100% it is a
// measurement problem, never a figure.
func ceilingShare(flops int64, g float64, p results.CeilingPoint, reps []results.Repetition, ceil *results.Ceiling) share {
	s := share{pct: 100 * g / p.GFLOPS, ceilGFLOPS: p.GFLOPS}
	bursts := ceil.RoundsAt(p.Threads)
	if ratios := burstRatios(flops, reps, bursts); len(ratios) > 0 && ceil.How == results.CeilingEveryRound {
		sum := metrics.Summarize(ratios)
		s.pct, s.rounds = 100*sum.Median, len(ratios)
		if sum.Confidence > 0 {
			s.lo, s.hi = 100*sum.Lo, 100*sum.Hi
		}
		s.ceilGFLOPS, _ = ceil.BurstMedian(p.Threads)
	}
	switch {
	case s.pct <= 100:
	case s.rounds > 0:
		why := "the whole interval is above 100%: the FLOP count is likely too high (an op counted as a dense product)"
		if s.lo <= 100 {
			why = "the interval reaches below 100%: the load moved between the cell and its round's burst; a quieter machine or more rounds narrow it"
		}
		s.problem = fmt.Sprintf("measurement problem: %.0f%% of the ceiling on %d cores (median of %d per-round ratios, 95%% interval %.0f–%.0f%%): a cell cannot outrun the machine's own MatMul measured in the same rounds; %s", s.pct, p.Threads, s.rounds, s.lo, s.hi, why)
	default:
		// Measured once before the run, the ceiling came out low (a
		// busier moment).
		s.problem = fmt.Sprintf("measurement problem: %.0f%% of the ceiling measured on %d cores (%.1f GFLOP/s): the ceiling came out low, likely measured at a busier moment; run `ortbench ceiling` on a quiet machine", s.pct, p.Threads, p.GFLOPS)
	}
	return s
}

// roundValue is one round's figure, for stats.PairedRatios.
type roundValue struct {
	round int
	v     float64
}

// burstRatios pair the cell's GFLOP/s in each round with the burst's in
// the same round: its undisturbed repetitions, or every one when fewer than
// results.MinUndisturbed are (as the speedups do, derive.go).
func burstRatios(flops int64, reps []results.Repetition, bursts []results.CeilingRound) []float64 {
	if len(bursts) == 0 {
		return nil
	}
	b := make([]roundValue, len(bursts))
	for i, x := range bursts {
		b[i] = roundValue{x.Round, x.GFLOPS}
	}
	pair := func(clean bool) []float64 {
		a := make([]roundValue, 0, len(reps))
		for _, r := range reps {
			if !clean || !disturbed(r) {
				a = append(a, roundValue{r.Round, float64(flops) * r.RowsPerSecond / 1e9})
			}
		}
		return stats.PairedRatios(a, b, func(x roundValue) int { return x.round }, func(x roundValue) float64 { return x.v })
	}
	if out := pair(true); len(out) >= results.MinUndisturbed {
		return out
	}
	return pair(false)
}
