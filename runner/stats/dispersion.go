package stats

// How far a cell's repetitions spread (here), the interval of a change
// between two samples and the verdicts built on it (verdict.go). Medians and
// their intervals come from golang.org/x/perf/benchmath (runner/metrics);
// what is here is what benchmath does not offer. Every definition is in
// docs/METRICS.md.

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Dispersion is the interquartile range ÷ the median of xs: the robust
// spread of a cell's repetitions. Unlike the range (max − min) it does not
// grow with the number of repetitions: a stable cell keeps the same
// dispersion at 6 repetitions and at 800. NaN for fewer than 2 values or a
// median ≤ 0.
func Dispersion(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	med := quantile(s, 0.5)
	if med <= 0 {
		return math.NaN()
	}
	return (quantile(s, 0.75) - quantile(s, 0.25)) / med
}

// quantile of sorted s by linear interpolation between order statistics
// (R's type 7, numpy's default).
func quantile(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	i := int(math.Floor(h))
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}

// Stability is the judgement of one cell's undisturbed repetitions.
type Stability struct {
	N          int     // repetitions judged
	Dispersion float64 // IQR ÷ median (NaN with fewer than 2)
	// Reason is why the cell is unstable; "" when it is stable.
	Reason string
}

// Unstable reports whether Reason names a problem.
func (s Stability) Unstable() bool { return s.Reason != "" }

// Judge decides whether the repetitions xs (in the order they ran) are
// stable under limit: unstable when their dispersion exceeds it, when they
// drift (a monotone trend that moved the value by more than limit over the
// run) or when they fall into two groups further apart than limit.
func Judge(xs []float64, limit float64) Stability {
	st := Stability{N: len(xs), Dispersion: Dispersion(xs)}
	if len(xs) < 2 {
		return st
	}
	med := quantile(slices.Sorted(slices.Values(xs)), 0.5)
	switch {
	case st.Dispersion > limit:
		st.Reason = fmt.Sprintf("repetitions spread over %.0f%% of the median (interquartile range; limit %.0f%%)", 100*st.Dispersion, 100*limit)
	case Drifting(xs) && math.Abs(drift(xs))/med > limit:
		st.Reason = fmt.Sprintf("drifting: throughput moved %+.0f%% over the rounds (limit %.0f%%)", 100*drift(xs)/med, 100*limit)
	case gap(xs)/med > limit:
		st.Reason = fmt.Sprintf("bimodal: the repetitions fall into two groups %.0f%% of the median apart (limit %.0f%%)", 100*gap(xs)/med, 100*limit)
	}
	return st
}

// WidenFactor is how much an unstable cell widens an interval it takes part
// in: its dispersion ÷ the limit, at least 1 (a stable cell widens nothing).
func WidenFactor(dispersion, limit float64) float64 {
	if math.IsNaN(dispersion) || limit <= 0 {
		return 1
	}
	return max(1, dispersion/limit)
}

// Drifting reports a strong monotone trend: |Spearman's ρ| of value
// against order ≥ 0.7, over at least 6 values.
func Drifting(xs []float64) bool {
	n := len(xs)
	if n < 6 {
		return false
	}
	rank := make([]float64, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	for r, i := range idx {
		rank[i] = float64(r)
	}
	var d2 float64
	for i := range n {
		d := rank[i] - float64(i)
		d2 += d * d
	}
	rho := 1 - 6*d2/(float64(n)*(float64(n)*float64(n)-1))
	return math.Abs(rho) >= 0.7
}

// drift is how far the values moved over the run: the Theil–Sen slope
// (median of the pairwise slopes, over at most 200 evenly spaced values)
// times the run's length.
func drift(xs []float64) float64 {
	step := max(1, len(xs)/200)
	var slopes []float64
	for i := 0; i < len(xs); i += step {
		for j := i + step; j < len(xs); j += step {
			slopes = append(slopes, (xs[j]-xs[i])/float64(j-i))
		}
	}
	if len(slopes) == 0 {
		return 0
	}
	slices.Sort(slopes)
	return quantile(slopes, 0.5) * float64(len(xs)-1)
}

// Bimodal reports a gap in the sorted values wider than three times the
// spread within the groups on both sides, each group at least 2 values and
// a tenth of them.
func Bimodal(xs []float64) bool { return gap(xs) > 0 }

// gap is the width of the bimodal gap (see Bimodal), 0 without one.
func gap(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	least := max(2, n/10)
	for i := least; i <= n-least; i++ {
		g := s[i] - s[i-1]
		within := max(s[i-1]-s[0], s[n-1]-s[i])
		if g > 0 && g > 3*within {
			return g
		}
	}
	return 0
}
