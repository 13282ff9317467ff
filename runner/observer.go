package runner

import (
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

// Observer hears about a run's progress (progress bars, logs). All methods are
// called from the runner's own goroutine, one at a time, never from the hot loop.
type Observer interface {
	// RunStarted: cells is the number of cells in the plan, names their names.
	RunStarted(experiment string, names []string)
	// CellStarted: cell i (0-based) of n begins; reps is the planned number of
	// measured repetitions (more may run to meet a minimum duration).
	CellStarted(i, n int, name string, reps int)
	// Phase: cell i entered a phase: "startup", "warmup", "measure", "verify".
	Phase(i int, phase string)
	// RepetitionDone: cell i finished measured repetition rep (1-based) of reps, taking d.
	RepetitionDone(i, rep, reps int, d time.Duration)
	// RoundDone: under the interleaved schedule, round (1-based) measured one
	// repetition of every live cell, taking d.
	RoundDone(round int, d time.Duration)
	// CellDone: cell i finished (ok, failed or skipped).
	CellDone(i int, c *results.Cell)
	// RunDone: every cell finished or the run was interrupted.
	RunDone(run *results.Run)
}

// NopObserver ignores everything.
type NopObserver struct{}

func (NopObserver) RunStarted(string, []string)                 {}
func (NopObserver) CellStarted(int, int, string, int)           {}
func (NopObserver) Phase(int, string)                           {}
func (NopObserver) RepetitionDone(int, int, int, time.Duration) {}
func (NopObserver) RoundDone(int, time.Duration)                {}
func (NopObserver) CellDone(int, *results.Cell)                 {}
func (NopObserver) RunDone(*results.Run)                        {}

var _ Observer = NopObserver{}

// Rounds are the totals of an interleaved run after a round, for an
// Observer that also implements RoundsObserver.
type Rounds struct {
	Round     int // rounds done
	MinRounds int // the configured repetitions: rounds that run whatever happens
	// TargetInterval > 0: rounds go on past MinRounds until every live cell
	// converged or MaxDuration passed since the rounds began (Elapsed).
	TargetInterval float64
	MaxDuration    time.Duration
	Elapsed        time.Duration
	Live           int // cells still measured
	Converged      int // of them, within the target
	// Widest is the widest live cell's ± as a fraction (+Inf without an
	// interval yet): the interval narrows as 1/√rounds, so about
	// Round·(Widest/TargetInterval)² rounds reach the target.
	Widest float64
}

// RoundsObserver hears the totals after every round.
type RoundsObserver interface {
	Rounds(Rounds)
}

// Noter hears warnings about the whole run as soon as they are known (the
// busy-machine warning, before the first cell starts).
type Noter interface {
	Note(msg string)
}
