package serve

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Rules a load step must meet to count (LoadGen's, for the server
// scenario): the names results and reports use.
const (
	RuleSaturated     = "saturated"
	RuleMinDuration   = "min_duration"
	RuleMinRequests   = "min_requests"
	RuleEarlyStopping = "early_stopping"
)

// Confidence is early stopping's confidence level.
const Confidence = 0.99

// Limits are the rules' parameters.
type Limits struct {
	Duration    time.Duration
	MinRequests int
	// Percentile (99 = p99) of requests must be within Latency.
	Percentile float64
	Latency    time.Duration
}

// EarlyStopping reports whether k of n requests over the latency bound is
// few enough to say, at Confidence, that fewer than a fraction q =
// 1 − percentile/100 of all requests would be: the one-sided exact binomial
// test that rejects "the tail is at least q" when P(X ≤ k | n, q) ≤ 1 −
// Confidence. It is the test LoadGen's early stopping makes for the server
// scenario (mlcommons/inference loadgen/early_stopping.cc), stated as a
// binomial test; with no request over the bound it needs n ≥ ln(1−c)/ln(1−q)
// requests (459 for p99 at 99%).
func EarlyStopping(n, k int, percentile float64) bool {
	q := 1 - percentile/100
	if n <= 0 || q <= 0 || q >= 1 || k >= n {
		return false
	}
	// log P(X = i), summed for i = 0..k.
	lq, lp := math.Log(q), math.Log1p(-q)
	ln1, _ := math.Lgamma(float64(n) + 1)
	cdf := 0.0
	for i := 0; i <= k; i++ {
		a, _ := math.Lgamma(float64(i) + 1)
		b, _ := math.Lgamma(float64(n-i) + 1)
		cdf += math.Exp(ln1 - a - b + float64(i)*lq + float64(n-i)*lp)
		if cdf > 1-Confidence {
			return false
		}
	}
	return true
}

// MinRequestsForEarlyStopping is the fewest requests that can pass early
// stopping at percentile (with none over the bound).
func MinRequestsForEarlyStopping(percentile float64) int {
	q := 1 - percentile/100
	return int(math.Ceil(math.Log(1-Confidence) / math.Log1p(-q)))
}

// Judge returns the first rule o breaks ("" when it meets them all) and
// why, in the order: saturated, min_duration, min_requests, early_stopping.
func Judge(o *Outcome, l Limits) (rule, detail string) {
	switch {
	case o.Saturated:
		return RuleSaturated, o.Why
	case o.Span < l.Duration:
		return RuleMinDuration, fmt.Sprintf("ran %.2fs of the %s required", o.Span.Seconds(), l.Duration)
	case o.Completed < l.MinRequests:
		return RuleMinRequests, fmt.Sprintf("%d requests completed of the %d required", o.Completed, l.MinRequests)
	case l.Latency > 0 && !EarlyStopping(o.Completed, o.OverSLO, l.Percentile):
		return RuleEarlyStopping, fmt.Sprintf("%d of %d requests (%.2f%%) over %s: not below %g%% at %.0f%% confidence (p%g %s)",
			o.OverSLO, o.Completed, 100*float64(o.OverSLO)/float64(max(o.Completed, 1)), l.Latency, 100-l.Percentile, 100*Confidence,
			l.Percentile, time.Duration(o.Latency.ValueAtQuantile(l.Percentile)))
	}
	return "", ""
}

// Step is one load the search tried.
type Step struct {
	QPS     float64
	Outcome *Outcome
	Rule    string // the rule it broke; "" = it met the SLO
	Detail  string
}

// Passed reports whether the step met every rule.
func (s Step) Passed() bool { return s.Rule == "" && s.Outcome != nil }

// MaxSearchSteps bounds a search; below start/MaxHalvings it gives up
// (a load there lasts min_requests ÷ qps: minutes).
const (
	MaxSearchSteps = 24
	MaxHalvings    = 16
)

// Search finds the highest QPS at which measure's steps meet every rule:
// from start it doubles while steps pass (halves while they fail, down
// to start/MaxHalvings), then
// bisects between the highest pass and the lowest failure until they are
// within precision (a fraction of the pass). It returns that pass (0 when
// none passed) and every step in the order tried.
func Search(ctx context.Context, start, precision float64, measure func(qps float64) (Step, error)) (float64, []Step, error) {
	if !(start > 0) {
		return 0, nil, fmt.Errorf("search start %g requests/s", start)
	}
	var steps []Step
	lo, hi := 0.0, math.Inf(1)
	q := start
	for len(steps) < MaxSearchSteps && ctx.Err() == nil {
		st, err := measure(q)
		steps = append(steps, st)
		if err != nil {
			return lo, steps, err
		}
		if st.Passed() {
			lo = q
		} else {
			hi = q
		}
		switch {
		case math.IsInf(hi, 1):
			q *= 2
		case lo == 0:
			q /= 2
			if q < start/MaxHalvings {
				return 0, steps, nil
			}
		default:
			if (hi-lo)/lo <= precision {
				return lo, steps, nil
			}
			q = (lo + hi) / 2
		}
	}
	return lo, steps, ctx.Err()
}
