package runner

import (
	"math"
	"time"
)

// rounds are the run's totals after a round, for the progress display.
func (r *Runner) rounds(st *runState, started time.Time) Rounds {
	c := r.Plan.Config
	out := Rounds{Round: st.rounds, MinRounds: c.Repetitions, TargetInterval: c.TargetInterval,
		MaxDuration: c.MaxDuration, Elapsed: time.Since(started)}
	for _, cr := range st.cells {
		if cr.done || cr.acc == nil {
			continue
		}
		out.Live++
		hw := cr.acc.halfWidth()
		out.Widest = math.Max(out.Widest, hw)
		if c.TargetInterval > 0 && hw <= c.TargetInterval {
			out.Converged++
		}
	}
	return out
}

// tellRounds hands the totals to obs when it listens for them.
func (r *Runner) tellRounds(obs Observer, st *runState, started time.Time) {
	if ro, ok := obs.(RoundsObserver); ok {
		ro.Rounds(r.rounds(st, started))
	}
}

// note hands a run-wide warning to obs when it listens for them.
func note(obs Observer, msg string) {
	if n, ok := obs.(Noter); ok {
		n.Note(msg)
	}
}
