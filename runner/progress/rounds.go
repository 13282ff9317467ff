package progress

import (
	"fmt"
	"math"
	"time"

	"github.com/ortbench/ortbench/runner"
)

// plainEvery is how often, without a terminal, the totals line is printed.
const plainEvery = 5 * time.Second

// totals is the interleaved run's state in words: "round 7/6+  5/8
// converged (target ±5%)  1m0s of 1m30s  ETA 20s".
func (d *Display) totals() string {
	r := d.rounds
	s := fmt.Sprintf("round %d/%d", r.Round+1, r.MinRounds)
	if r.TargetInterval > 0 {
		s += "+" // more rounds may follow until the target is met
	}
	if d.measured > 0 && r.Live > 0 {
		s += fmt.Sprintf(" (%d/%d cells)", min(d.measured, r.Live), r.Live)
	}
	if r.TargetInterval > 0 {
		s += fmt.Sprintf("  %d/%d converged (target ±%.0f%%)", r.Converged, r.Live, 100*r.TargetInterval)
		if r.MaxDuration > 0 {
			s += fmt.Sprintf("  %s of %s", round(d.roundsElapsed()), round(r.MaxDuration))
		}
	}
	if eta, ok := roundsETA(r, d.meanRound(), d.now().Sub(d.roundStart)); ok {
		s += "  ETA " + round(eta).String()
	}
	if d.phase != "" && d.phase != "measure" {
		s += "  " + d.phase
	}
	return s
}

// roundsElapsed is the time since the rounds began, as of now.
func (d *Display) roundsElapsed() time.Duration {
	return d.rounds.Elapsed + d.now().Sub(d.roundStart)
}

// meanRound is the mean duration of a finished round (0 before the first).
func (d *Display) meanRound() time.Duration {
	if d.rounds.Round == 0 {
		return 0
	}
	return d.rounds.Elapsed / time.Duration(d.rounds.Round)
}

// roundsFraction is how far the run has got: elapsed ÷ (elapsed + ETA).
func (d *Display) roundsFraction() float64 {
	el := d.roundsElapsed()
	eta, ok := roundsETA(d.rounds, d.meanRound(), d.now().Sub(d.roundStart))
	if !ok || el+eta <= 0 {
		return 0
	}
	return float64(el) / float64(el+eta)
}

// roundsETA estimates the time left in the rounds: the rounds that run
// whatever happens (up to MinRounds), then — with a target — the smaller of
// two estimates: the rounds the widest cell needs (its ± narrows as
// 1/√rounds) and what is left of max_duration. inRound is how long the
// current round has run.
func roundsETA(r runner.Rounds, mean, inRound time.Duration) (time.Duration, bool) {
	if mean <= 0 {
		return 0, false
	}
	fixed := time.Duration(max(r.MinRounds-r.Round, 0))*mean - inRound
	if r.TargetInterval <= 0 || (r.Round > 0 && r.Converged >= r.Live) {
		return max(fixed, 0), true
	}
	byTime := r.MaxDuration - r.Elapsed - inRound
	left := byTime
	if !math.IsInf(r.Widest, 1) && r.Widest > 0 {
		need := float64(r.Round) * (r.Widest / r.TargetInterval) * (r.Widest / r.TargetInterval)
		byRounds := time.Duration(math.Ceil(need)-float64(r.Round))*mean - inRound
		if r.MaxDuration <= 0 || byRounds < byTime {
			left = byRounds
		}
	}
	return max(fixed, left, 0), true
}
