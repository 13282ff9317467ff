package runner

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/stats"
	"github.com/ortbench/ortbench/runner/strategy"
)

// derive fills speedup and efficiency: each cell against its strategy's
// baseline (strategy.Definition.Baseline) measured at the same batch size.
// When both ran in the same rounds (the interleaved schedule), the speedup
// is paired: the median of the per-round ratios cell ÷ baseline, with its
// 95% interval; otherwise the ratio of the two medians, without one.
// Without a measured baseline both stay null (SpeedupBase "").
func derive(run *results.Run, reg strategy.Registry) {
	type key struct {
		strategy string
		batch    int
	}
	base := map[key]*results.Cell{}
	for i := range run.Cells {
		c := &run.Cells[i]
		k := key{c.Strategy, c.Params.Int("batch_size")}
		if _, seen := base[k]; !seen && results.Measured(c.Status) && reg.IsBaseline(c.Strategy) {
			base[k] = c
		}
	}
	for i := range run.Cells {
		c := &run.Cells[i]
		c.Speedup, c.Efficiency, c.SpeedupBase, c.SpeedupInterval = 0, 0, "", nil
		name := reg[c.Strategy].Baseline
		if name == "" && reg.IsBaseline(c.Strategy) {
			name = c.Strategy
		}
		b, ok := base[key{name, c.Params.Int("batch_size")}]
		if !ok || !results.Measured(c.Status) || b.RowsPerSecond == 0 {
			continue
		}
		c.SpeedupBase = b.Name
		c.Speedup = c.RowsPerSecond / b.RowsPerSecond
		if ratios := pairedRatios(c, b, rate); len(ratios) > 0 && run.Schedule.Kind != "sequential" {
			s := metrics.Summarize(ratios)
			c.Speedup = s.Median
			c.SpeedupInterval = &results.Summary{Median: s.Median, Lo: s.Lo, Hi: s.Hi, Confidence: s.Confidence, Spread: s.Spread, Warning: s.Warning}
		}
		c.Efficiency = c.Speedup / float64(max(c.CoresUsed, 1))
	}
}

func rate(r results.Repetition) float64 { return r.RowsPerSecond }
func p99(r results.Repetition) float64  { return r.P99Seconds }

// pairedRatios are get(a) ÷ get(b) for every round both measured.
func pairedRatios(a, b *results.Cell, get func(results.Repetition) float64) []float64 {
	return stats.PairedRatios(a.Repetitions, b.Repetitions, func(r results.Repetition) int { return r.Round }, get)
}

// noiseSummary is the run's noise over every measured repetition.
func noiseSummary(run *results.Run) results.RunNoise {
	n := run.Noise
	n.Repetitions, n.Disturbed, n.MedianOtherCores, n.MaxOtherCores = 0, 0, 0, 0
	var others []float64
	for i := range run.Cells {
		for _, r := range run.Cells[i].Repetitions {
			n.Repetitions++
			if r.Noise == nil {
				continue
			}
			others = append(others, r.Noise.OtherCores+r.Noise.StealCores)
			if r.Noise.Disturbed {
				n.Disturbed++
			}
		}
	}
	if len(others) > 0 {
		slices.Sort(others)
		n.MedianOtherCores = others[len(others)/2]
		n.MaxOtherCores = others[len(others)-1]
	}
	return n
}

// alpha is the significance level of the verdicts' tests.
const alpha = 0.05

// verdicts names, per workload and batch size, the fastest cell and the
// cells statistically tied with it — and the same for the lowest p99.
// Under the interleaved schedule a cell is tied with the best when the 95%
// interval of their per-round ratio includes 1; under the sequential
// schedule, when a Mann-Whitney U test finds no difference. When the best
// cell, or one tied with it, is unstable or mostly disturbed, the verdict is
// inconclusive: the machine did not let the numbers settle.
func verdicts(run *results.Run) []results.Verdict {
	type group struct {
		name  string
		cells []*results.Cell
	}
	var groups []*group
	byName := map[string]*group{}
	for i := range run.Cells {
		c := &run.Cells[i]
		if !results.Measured(c.Status) || c.SupportCopy || len(c.Repetitions) == 0 {
			continue
		}
		name := fmt.Sprintf("%s, batch_size=%d", workloadName(c), c.Params.Int("batch_size"))
		g, ok := byName[name]
		if !ok {
			g = &group{name: name}
			byName[name] = g
			groups = append(groups, g)
		}
		g.cells = append(g.cells, c)
	}
	paired := run.Schedule.Kind != "sequential"
	var out []results.Verdict
	for _, g := range groups {
		if len(g.cells) < 2 {
			continue
		}
		out = append(out,
			verdict(g.name, "rows_per_second", g.cells, rate, true, paired),
			verdict(g.name, "latency_p99_seconds", g.cells, p99, false, paired))
	}
	return out
}

func workloadName(c *results.Cell) string {
	if c.Workload.Kind == "heavy-task" {
		return fmt.Sprintf("heavy-task cost=%d", c.Workload.Cost)
	}
	m := c.Workload.Model
	if i := strings.LastIndexAny(m, `/\`); i >= 0 {
		m = m[i+1:]
	}
	return strings.TrimSuffix(m, ".onnx")
}

// verdict judges one figure of one group; higher says which way is better.
func verdict(group, metric string, cells []*results.Cell, get func(results.Repetition) float64, higher, paired bool) results.Verdict {
	v := results.Verdict{Group: group, Metric: metric, Method: "Mann-Whitney U"}
	if paired {
		v.Method = "paired per round"
	}
	figure := func(c *results.Cell) float64 {
		if metric == "rows_per_second" {
			return c.RowsPerSecond
		}
		return c.Latency.P99
	}
	best := cells[0]
	for _, c := range cells[1:] {
		if (higher && figure(c) > figure(best)) || (!higher && figure(c) < figure(best)) {
			best = c
		}
	}
	v.Best = best.Name
	if n := len(best.Repetitions); n < 6 {
		v.Inconclusive = true
		v.Reason = fmt.Sprintf("%d repetitions: too few for an interval (6 or more)", n)
		return v
	}
	top := []*results.Cell{best}
	for _, c := range cells {
		if c != best && tied(c, best, get, paired) {
			v.Tied = append(v.Tied, c.Name)
			top = append(top, c)
		}
	}
	var shaky []string
	for _, c := range top {
		if c.Status == results.StatusUnstable || 2*c.Disturbed > len(c.Repetitions) {
			shaky = append(shaky, c.Name)
		}
	}
	if len(shaky) > 0 {
		v.Inconclusive = true
		v.Reason = "unstable or disturbed: " + names(shaky, 3)
	}
	return v
}

// tied reports whether a cannot be told apart from best.
func tied(a, best *results.Cell, get func(results.Repetition) float64, paired bool) bool {
	if paired {
		if ratios := pairedRatios(a, best, get); len(ratios) > 0 {
			s := metrics.Summarize(ratios)
			if s.Confidence == 0 {
				return true // too few rounds to tell them apart
			}
			return s.Lo <= 1 && 1 <= s.Hi
		}
	}
	var xa, xb []float64
	for _, r := range a.Repetitions {
		xa = append(xa, get(r))
	}
	for _, r := range best.Repetitions {
		xb = append(xb, get(r))
	}
	th := benchmath.DefaultThresholds
	th.CompareAlpha = alpha
	cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(xa, &th), benchmath.NewSample(xb, &th))
	return cmp.P >= alpha
}

// names lists at most n names, then how many more.
func names(ns []string, n int) string {
	if len(ns) <= n {
		return strings.Join(ns, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ns[:n], ", "), len(ns)-n)
}
