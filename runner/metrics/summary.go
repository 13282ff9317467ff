package metrics

import (
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/ortbench/ortbench/runner/results"
)

// Summarize is the median of values with its 95% confidence interval, as
// results.Summary (the one summary type every output reads). It uses
// benchmath's distribution-free summary (median and an order-statistic
// confidence interval at 95%), the same as benchstat.
func Summarize(values []float64) results.Summary {
	if len(values) == 0 {
		return results.Summary{}
	}
	vs := slices.Clone(values)
	sample := benchmath.NewSample(vs, &benchmath.DefaultThresholds)
	s := benchmath.AssumeNothing.Summary(sample, 0.95)
	out := results.Summary{Median: s.Center, Lo: s.Lo, Hi: s.Hi, Confidence: s.Confidence}
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) || math.IsNaN(s.Lo) || math.IsNaN(s.Hi) {
		// Too few repetitions for an interval: say so (Warning) rather than
		// pretend; 0/0 keeps the JSON encodable.
		out.Lo, out.Hi, out.Confidence = 0, 0, 0
	}
	if out.Median != 0 {
		out.Spread = (sample.Values[len(vs)-1] - sample.Values[0]) / out.Median
	}
	var warns []string
	for _, w := range append(sample.Warnings, s.Warnings...) {
		warns = append(warns, w.Error())
	}
	out.Warning = strings.Join(warns, "; ")
	return out
}
