package results

import (
	"fmt"
	"strings"

	"github.com/ortbench/ortbench/runner/stats"
)

// ScheduleInfo says how a run ordered its repetitions.
type ScheduleInfo struct {
	Kind   string `json:"kind"` // "interleaved" | "sequential"
	Seed   int64  `json:"seed,omitempty"`
	Rounds int    `json:"rounds"`
	// Reason says why the schedule differs from the config's, if it does.
	Reason string `json:"reason,omitempty"`
	// TargetInterval and MaxDurationSeconds are the "repeat until stable"
	// settings (0: exactly the configured repetitions).
	TargetInterval     float64 `json:"target_interval"`
	MaxDurationSeconds float64 `json:"max_duration_seconds"`
}

// Noise is what the rest of the machine did during one repetition.
type Noise struct {
	// OtherCores is CPU time used by every process except ortbench's own
	// tree, ÷ wall time: how many cores the neighbours kept busy.
	OtherCores float64 `json:"other_cores"`
	// StealCores is CPU time the hypervisor gave to other guests ÷ wall time.
	StealCores float64 `json:"steal_cores"`
	Load1      float64 `json:"load1"`
	MHz        float64 `json:"mhz,omitempty"`
	// Disturbed: OtherCores + StealCores was over the run's threshold.
	Disturbed bool `json:"disturbed"`
}

// RunNoise summarises a run's noise.
type RunNoise struct {
	// Threshold is the cores others may use before a repetition is disturbed.
	Threshold float64 `json:"threshold_cores"`
	// BeforeCores is how many cores other processes kept busy just before
	// the run started.
	BeforeCores float64 `json:"before_cores"`
	// Repetitions and Disturbed count the run's measured repetitions.
	Repetitions int `json:"repetitions"`
	Disturbed   int `json:"disturbed_repetitions"`
	// MedianOtherCores and MaxOtherCores over the repetitions.
	MedianOtherCores float64 `json:"median_other_cores"`
	MaxOtherCores    float64 `json:"max_other_cores"`
}

// Verdict names the best cell of one group (a workload at one batch size)
// for one figure, and the cells statistically tied with it. The best cell
// wins when its ratio to every other cell has an interval that excludes 1;
// an unstable cell widens the intervals it takes part in (stats.Widen)
// rather than vetoing the verdict. docs/METRICS.md defines it.
type Verdict struct {
	Group  string   `json:"group"`  // "mlp_small_digits, batch_size=64"
	Metric string   `json:"metric"` // "rows_per_second" | "latency_p99_seconds"
	Best   string   `json:"best,omitempty"`
	Tied   []string `json:"tied,omitempty"`
	// Decided: the best cell's interval against every other cell excludes 1.
	Decided bool `json:"decided"`
	// Contests are the best cell's ratio to each other cell, oriented so
	// that > 1 means the best is better (rows/s best ÷ other; p99 other ÷
	// best), with the interval the decision used.
	Contests []stats.Contest `json:"contests,omitempty"`
	// Inconclusive: too few repetitions for any interval; Reason says so.
	Inconclusive bool   `json:"inconclusive,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// ToDecide says, for a tie, what would decide it: a quieter machine or
	// more rounds (Tied and Contests name the cells that overlap).
	ToDecide string `json:"to_decide,omitempty"`
	// Method: "paired per round" or "Hodges-Lehmann" (sequential schedule).
	Method string `json:"method"`
}

// Line is the verdict as one clause of text, for the terminal and the report.
func (v Verdict) Line() string {
	what := "fastest"
	if v.Metric == "latency_p99_seconds" {
		what = "lowest p99"
	}
	if v.Inconclusive {
		return fmt.Sprintf("%s: inconclusive (%s)", what, v.Reason)
	}
	s := fmt.Sprintf("%s: %s", what, v.Best)
	if v.Decided {
		if c, ok := v.runnerUp(); ok {
			s += fmt.Sprintf(", %s the next best, %s", ratioText(c.Ratio), c.Rival)
		}
		return s
	}
	if len(v.Tied) <= 2 {
		s += " tied with " + strings.Join(v.Tied, " and ")
	} else {
		s += fmt.Sprintf(" tied with %d cells", len(v.Tied))
	}
	if c, ok := v.closest(); ok {
		s += fmt.Sprintf(" (closest %s at %s)", c.Rival, ratioText(c.Ratio))
	}
	if v.ToDecide != "" {
		s += "; to decide: " + v.ToDecide
	}
	return s
}

// closest is the tied contest with the smallest ratio.
func (v Verdict) closest() (stats.Contest, bool) {
	var out stats.Contest
	found := false
	for _, c := range v.Contests {
		if !c.Separated() && (!found || c.Ratio.Median < out.Ratio.Median) {
			out, found = c, true
		}
	}
	return out, found
}

// runnerUp is the contest with the smallest ratio: the closest rival.
func (v Verdict) runnerUp() (stats.Contest, bool) {
	if len(v.Contests) == 0 {
		return stats.Contest{}, false
	}
	best := v.Contests[0]
	for _, c := range v.Contests[1:] {
		if c.Ratio.Median < best.Ratio.Median {
			best = c
		}
	}
	return best, true
}

// ratioText is "1.32× [1.25, 1.40]", the interval left out when unknown.
func ratioText(iv stats.Interval) string {
	s := fmt.Sprintf("%.2f×", iv.Median)
	if iv.Known() {
		s += fmt.Sprintf(" [%.2f, %.2f]", iv.Lo, iv.Hi)
	}
	return s
}

// VerdictLines are the verdicts as one sentence per group (workload ×
// batch size), every figure's clause joined: what the table's last lines
// and the report's top show.
func VerdictLines(vs []Verdict) []string {
	var out []string
	var group string
	for _, v := range vs {
		if v.Group == group && len(out) > 0 {
			out[len(out)-1] += "; " + v.Line()
			continue
		}
		group = v.Group
		out = append(out, v.Group+": "+v.Line())
	}
	for i := range out {
		out[i] += "."
	}
	return out
}

// MinUndisturbed is how many undisturbed repetitions a cell's figures need
// to leave the disturbed ones out: the fewest that give an interval. With
// fewer, the figures come from every repetition, and a note says so.
const MinUndisturbed = 6

// Undisturbed are get of a cell's repetitions other processes did not
// disturb — the values its figures come from — or of every repetition
// when fewer than MinUndisturbed were undisturbed (as the figures are).
func Undisturbed(c *Cell, get func(Repetition) float64) []float64 {
	var clean, all []float64
	for _, r := range c.Repetitions {
		v := get(r)
		if v <= 0 {
			continue
		}
		all = append(all, v)
		if r.Noise == nil || !r.Noise.Disturbed {
			clean = append(clean, v)
		}
	}
	if len(clean) < MinUndisturbed {
		return all
	}
	return clean
}
