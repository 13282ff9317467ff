package results

import (
	"fmt"
	"strings"
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
// for one figure, and the cells statistically tied with it.
type Verdict struct {
	Group  string   `json:"group"`  // "mlp_small_digits, batch_size=64"
	Metric string   `json:"metric"` // "rows_per_second" | "latency_p99_seconds"
	Best   string   `json:"best,omitempty"`
	Tied   []string `json:"tied,omitempty"`
	// Inconclusive: the best cells are unstable or disturbed, so no winner
	// is named; Reason says which.
	Inconclusive bool   `json:"inconclusive,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// Method: "paired per round" or "Mann-Whitney U" (sequential schedule).
	Method string `json:"method"`
}

// Line is the verdict as one line of text, for the terminal and the report.
func (v Verdict) Line() string {
	what := "fastest"
	if v.Metric == "latency_p99_seconds" {
		what = "lowest p99"
	}
	if v.Inconclusive {
		return fmt.Sprintf("%s: %s: inconclusive (%s)", v.Group, what, v.Reason)
	}
	s := fmt.Sprintf("%s: %s: %s", v.Group, what, v.Best)
	if len(v.Tied) > 0 {
		s += " (tied with " + strings.Join(v.Tied, ", ") + ")"
	}
	return s
}
