package runner

import (
	"fmt"
	"math"
	"slices"
	"strings"

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

// pairedRatios are get(a) ÷ get(b) for every round both measured and
// neither was disturbed — or, when fewer than results.MinUndisturbed such
// rounds remain, every round both measured (as the figures do).
func pairedRatios(a, b *results.Cell, get func(results.Repetition) float64) []float64 {
	if out := ratiosPerRound(a, b, get, true); len(out) >= results.MinUndisturbed {
		return out
	}
	return ratiosPerRound(a, b, get, false)
}

// ratiosPerRound are the paired ratios (stats.PairedRatios), the disturbed
// repetitions left out when clean.
func ratiosPerRound(a, b *results.Cell, get func(results.Repetition) float64, clean bool) []float64 {
	value := func(r results.Repetition) float64 {
		if clean && disturbed(r) {
			return 0 // pairs with nothing
		}
		return get(r)
	}
	return stats.PairedRatios(a.Repetitions, b.Repetitions, func(r results.Repetition) int { return r.Round }, value)
}

func disturbed(r results.Repetition) bool { return r.Noise != nil && r.Noise.Disturbed }

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

// verdicts names, per workload and batch size, the fastest cell and the
// cells statistically tied with it — and the same for the lowest p99.
// The best cell (by its figure) is compared with every other cell by the
// ratio of their values, with a 95% interval: paired per round under the
// interleaved schedule, the Hodges–Lehmann ratio of the two samples under
// the sequential one. An unstable cell widens the intervals it is in by
// its dispersion ÷ unstable_spread. The best wins when every interval
// excludes 1; the cells whose interval includes 1 are tied with it.
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
	j := judge{paired: run.Schedule.Kind != "sequential", limit: run.Settings.UnstableSpread}
	if j.limit <= 0 {
		j.limit = 0.25 // the config's default (runner/config)
	}
	var out []results.Verdict
	for _, g := range groups {
		if len(g.cells) < 2 {
			continue
		}
		out = append(out,
			j.verdict(g.name, "rows_per_second", g.cells, rate, true),
			j.verdict(g.name, "latency_p99_seconds", g.cells, p99, false))
	}
	return out
}

// judge holds what every verdict of a run is judged by.
type judge struct {
	paired bool    // interleaved: ratios per round
	limit  float64 // unstable_spread
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
func (j judge) verdict(group, metric string, cells []*results.Cell, get func(results.Repetition) float64, higher bool) results.Verdict {
	v := results.Verdict{Group: group, Metric: metric, Method: "Hodges-Lehmann"}
	if j.paired {
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
	known := 0
	for _, c := range cells {
		if c == best {
			continue
		}
		ct := j.contest(best, c, get, higher)
		v.Contests = append(v.Contests, ct)
		if ct.Ratio.Known() {
			known++
		}
	}
	if known == 0 {
		v.Inconclusive = true
		v.Reason = fmt.Sprintf("%d repetitions: too few for an interval (6 or more)", len(results.Undisturbed(best, rate)))
		return v
	}
	_, tied := stats.Decide(v.Contests)
	v.Decided = len(tied) == 0
	for _, c := range tied {
		v.Tied = append(v.Tied, c.Rival)
	}
	v.ToDecide = j.toDecide(best, cells, tied)
	return v
}

// contest is best's ratio to c, oriented so > 1 means best is better,
// widened by the instability of either cell.
func (j judge) contest(best, c *results.Cell, get func(results.Repetition) float64, higher bool) stats.Contest {
	num, den := best, c
	if !higher {
		num, den = c, best
	}
	var iv stats.Interval
	if ratios := pairedRatios(num, den, get); j.paired && len(ratios) > 0 {
		s := metrics.Summarize(ratios)
		iv = stats.Interval{Median: s.Median, Lo: s.Lo, Hi: s.Hi, Confidence: s.Confidence}
	} else {
		iv = stats.RatioShift(results.Undisturbed(den, get), results.Undisturbed(num, get))
	}
	return stats.Contest{Rival: c.Name, Ratio: iv.Widen(max(j.widen(best), j.widen(c)))}
}

// widen is the factor a cell's instability widens its intervals by.
func (j judge) widen(c *results.Cell) float64 {
	return stats.WidenFactor(stats.Dispersion(results.Undisturbed(c, rate)), j.limit)
}

// toDecide says what would decide a tie: a quieter machine when unstable
// or disturbed cells widened the intervals, else more rounds (an interval
// narrows as 1/√n) — or nothing, when the cells are within a hair.
func (j judge) toDecide(best *results.Cell, cells []*results.Cell, tied []stats.Contest) string {
	if len(tied) == 0 {
		return ""
	}
	shaky := 0
	for _, c := range cells {
		if j.widen(c) > 1 || 2*c.Disturbed > len(c.Repetitions) {
			shaky++
		}
	}
	more := 0.0
	for _, t := range tied {
		if iv := t.Ratio; iv.Known() && iv.Median > 1 {
			// rounds scale as (half-width ÷ distance from 1)², on the log scale
			f := math.Log(iv.Median/iv.Lo) / math.Log(iv.Median)
			more = max(more, f*f)
		} else {
			more = math.Inf(1)
		}
	}
	switch {
	case shaky > 0:
		return fmt.Sprintf("a quieter machine: %d of %d cells unstable or disturbed widened the intervals", shaky, len(cells))
	case more < 16:
		return fmt.Sprintf("about %.0f× the rounds", math.Ceil(more))
	}
	return "nothing likely: the medians are too close for more rounds to part them"
}
