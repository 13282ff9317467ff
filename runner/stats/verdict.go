package stats

import (
	"math"
	"slices"
	"sort"
)

// Interval is a ratio with its confidence interval: Lo ≤ Median ≤ Hi.
// Confidence 0 means there were too few values for an interval.
type Interval struct {
	Median     float64 `json:"median"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
	// Widened is the factor the interval was widened by for instability
	// (1: not widened; see Widen).
	Widened float64 `json:"widened,omitempty"`
}

// Known reports whether the interval could be computed.
func (iv Interval) Known() bool { return iv.Confidence > 0 && iv.Lo > 0 && iv.Hi >= iv.Lo }

// Above reports whether the whole interval lies above x.
func (iv Interval) Above(x float64) bool { return iv.Known() && iv.Lo > x }

// Below reports whether the whole interval lies below x.
func (iv Interval) Below(x float64) bool { return iv.Known() && iv.Hi < x }

// Widen stretches the interval about its median by factor on the log
// scale (a ratio's natural scale): Lo' = M·(Lo/M)^f, Hi' = M·(Hi/M)^f.
// Factor ≤ 1 leaves it as it is.
func (iv Interval) Widen(factor float64) Interval {
	if !iv.Known() || iv.Median <= 0 || factor <= 1 {
		if iv.Widened == 0 {
			iv.Widened = 1
		}
		return iv
	}
	iv.Lo = iv.Median * math.Pow(iv.Lo/iv.Median, factor)
	iv.Hi = iv.Median * math.Pow(iv.Hi/iv.Median, factor)
	iv.Widened = factor
	return iv
}

// z95 is the standard normal's 97.5% quantile.
const z95 = 1.959963984540054

// RatioShift is the change from sample old to sample new as a ratio
// new ÷ old, for two independent samples (two runs, or cells measured one
// after another): the Hodges–Lehmann estimate — the median of every
// pairwise ratio new_j ÷ old_i — with its distribution-free 95% interval,
// the order statistics k and mn+1−k of those ratios where k comes from the
// Mann–Whitney U distribution (normal approximation). Confidence 0 when
// the samples are too small for an interval (about 4 values each).
func RatioShift(old, new []float64) Interval {
	m, n := len(old), len(new)
	if m == 0 || n == 0 {
		return Interval{}
	}
	ratios := make([]float64, 0, m*n)
	for _, o := range old {
		for _, v := range new {
			if o > 0 && v > 0 {
				ratios = append(ratios, v/o)
			}
		}
	}
	if len(ratios) == 0 {
		return Interval{}
	}
	slices.Sort(ratios)
	iv := Interval{Median: quantile(ratios, 0.5)}
	mn := float64(len(ratios))
	k := int(math.Floor(mn/2 - z95*math.Sqrt(mn*float64(m+n+1)/12)))
	if k >= 1 {
		iv.Lo, iv.Hi, iv.Confidence = ratios[k-1], ratios[len(ratios)-k], 0.95
	}
	return iv
}

// Holm returns, for each p-value, whether it is significant at level alpha
// after Holm's step-down correction across all of them (the family-wise
// error stays at alpha however many cells are compared).
func Holm(ps []float64, alpha float64) []bool {
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	out := make([]bool, len(ps))
	for rank, i := range idx {
		if ps[i] >= alpha/float64(len(ps)-rank) {
			break
		}
		out[i] = true
	}
	return out
}

// Contest is the best cell's ratio to one rival (best ÷ rival, oriented so
// > 1 means the best is better), widened for instability.
type Contest struct {
	Rival string   `json:"rival"`
	Ratio Interval `json:"ratio"`
}

// Separated reports whether the data decide between the best and the rival:
// the interval excludes 1.
func (c Contest) Separated() bool { return c.Ratio.Above(1) }

// Decide splits the contests into the rivals the best beats and those it is
// tied with (interval includes 1 or unknown).
func Decide(cs []Contest) (beaten, tied []Contest) {
	for _, c := range cs {
		if c.Separated() {
			beaten = append(beaten, c)
		} else {
			tied = append(tied, c)
		}
	}
	return beaten, tied
}
