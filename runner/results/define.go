package results

import (
	"encoding/json"
	"fmt"

	"golang.org/x/perf/benchmath"
)

// The definitions every output shares (docs/METRICS.md): the interval, the
// speedup, the CPU figures, and when a figure is null. The table, JSON, the
// flat formats, bench.txt, the report and compare all call these.

// HasInterval reports whether the summary has a confidence interval (too
// few repetitions leave it out; Warning says why).
func (s Summary) HasInterval() bool {
	return s.Confidence > 0 && s.Median > 0 && s.Hi >= s.Lo && s.Lo > 0
}

// PctRange is benchstat's "±": the larger distance from the median to an
// end of the confidence interval, as a percentage of the median
// (benchmath.Summary.PctRangeString). "" without an interval.
func (s Summary) PctRange() string {
	if !s.HasInterval() {
		return ""
	}
	return "±" + benchmath.Summary{Center: s.Median, Lo: s.Lo, Hi: s.Hi}.PctRangeString()
}

// HasSpeedup reports whether the cell has a speedup: it was measured and
// its strategy's baseline was measured at the same batch size.
func (c *Cell) HasSpeedup() bool { return Measured(c.Status) && c.SpeedupBase != "" }

// SpeedupText is "1.25x", with the paired interval's ± where there is
// one ("1.25x ±4%"), or "n/a" without a baseline.
func (c *Cell) SpeedupText() string {
	if !c.HasSpeedup() {
		return "n/a"
	}
	s := fmt.Sprintf("%.2fx", c.Speedup)
	if c.SpeedupInterval != nil {
		if r := c.SpeedupInterval.PctRange(); r != "" {
			s += " " + r
		}
	}
	return s
}

// Scenario is the load scenario the cell ran under, in the config's words
// (load.scenario): "server" for a cell served requests at a target rate,
// "offline" for one that ran the dataset as fast as it could.
func (c *Cell) Scenario() string {
	if c.Serving != nil {
		return "server"
	}
	return "offline"
}

// HasCPU reports whether the CPU figures can be trusted (see CPU.TooShort).
func (c *Cell) HasCPU() bool { return Measured(c.Status) && !c.CPU.TooShort && c.CPU.CoresBusy > 0 }

func ptr[T any](v T) *T { return &v }

// MarshalJSON writes null for figures that do not apply: every measured
// figure of a cell that was not measured (failed, skipped), the speedup and
// efficiency without a baseline, the interval without enough repetitions,
// the CPU figures of a sample too short to measure.
func (c Cell) MarshalJSON() ([]byte, error) {
	type plain Cell
	out := struct {
		plain
		WallSeconds   *float64 `json:"wall_seconds"`
		RowsPerSecond *float64 `json:"rows_per_second"`
		BatchesPerSec *float64 `json:"batches_per_second"`
		Throughput    *Summary `json:"throughput_rows_per_second"`
		Speedup       *float64 `json:"speedup"`
		Efficiency    *float64 `json:"efficiency"`
		Latency       *Latency `json:"latency_seconds"`
		CPU           *cpuJSON `json:"cpu"`
		Memory        *Memory  `json:"memory"`
		Compute       *Compute `json:"compute,omitempty"`
		// Figures are the metric list's computed figures (Metric.JSON).
		Figures map[string]any `json:"figures,omitempty"`
	}{plain: plain(c), Figures: computedFigures(&c)}
	if Measured(c.Status) {
		out.Compute = c.Compute
		out.WallSeconds, out.RowsPerSecond, out.BatchesPerSec = ptr(c.WallSeconds), ptr(c.RowsPerSecond), ptr(c.BatchesPerSec)
		out.Throughput, out.Latency, out.Memory = ptr(c.Throughput), ptr(c.Latency), ptr(c.Memory)
		cpu := cpuJSON{UserSeconds: c.CPU.UserSeconds, SystemSeconds: c.CPU.SystemSeconds, TooShort: c.CPU.TooShort}
		if c.HasCPU() {
			cpu.Utilization, cpu.CoresBusy = ptr(c.CPU.Utilization), ptr(c.CPU.CoresBusy)
		}
		out.CPU = &cpu
		if c.HasSpeedup() {
			out.Speedup, out.Efficiency = ptr(c.Speedup), ptr(c.Efficiency)
		}
	}
	return json.Marshal(out)
}

// computedFigures are the values of the metrics computed rather than
// stored (Metric.JSON), by name; nil where the list has none.
func computedFigures(c *Cell) map[string]any {
	var out map[string]any
	for _, m := range metricList {
		if m.JSON {
			if out == nil {
				out = map[string]any{}
			}
			out[m.Name] = m.Value(c)
		}
	}
	return out
}

// cpuJSON is CPU with nullable derived figures.
type cpuJSON struct {
	UserSeconds   float64  `json:"user_seconds"`
	SystemSeconds float64  `json:"system_seconds"`
	Utilization   *float64 `json:"utilization"`
	CoresBusy     *float64 `json:"cores_busy"`
	TooShort      bool     `json:"too_short,omitempty"`
}

// MarshalJSON writes lo, hi and confidence as null without an interval.
func (s Summary) MarshalJSON() ([]byte, error) {
	out := struct {
		Median     float64  `json:"median"`
		Lo         *float64 `json:"lo"`
		Hi         *float64 `json:"hi"`
		Confidence *float64 `json:"confidence"`
		Spread     float64  `json:"spread"`
		Dispersion float64  `json:"dispersion,omitempty"`
		Warning    string   `json:"warning,omitempty"`
	}{Median: s.Median, Spread: s.Spread, Dispersion: s.Dispersion, Warning: s.Warning}
	if s.HasInterval() {
		out.Lo, out.Hi, out.Confidence = ptr(s.Lo), ptr(s.Hi), ptr(s.Confidence)
	}
	return json.Marshal(out)
}
