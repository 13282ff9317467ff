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
			l.Percentile, o.Latency.Quantile(l.Percentile))
	}
	return "", ""
}

// Step is one load the search tried.
type Step struct {
	QPS     float64
	Outcome *Outcome
	Rule    string // the rule it broke; "" = it met the SLO
	Detail  string
	// Repeat: the load failed once just before and was measured again to
	// confirm it (LoadGen-style) before the search turned down.
	Repeat bool
}

// Passed reports whether the step met every rule.
func (s Step) Passed() bool { return s.Rule == "" && s.Outcome != nil }

// MaxSearchSteps bounds a search (each failure is measured twice); below
// start/MaxHalvings it gives up (a load there lasts min_requests ÷ qps:
// minutes).
const (
	MaxSearchSteps = 32
	MaxHalvings    = 16
)

// SearchOptions is one search.
type SearchOptions struct {
	// Start is the first load tried when no fixed point passed or failed.
	Start float64
	// Precision: the search ends when its lowest confirmed failure is
	// within Precision (a fraction) of its highest pass.
	Precision float64
	// Passed and Failed are the loads of the sweep's fixed points, judged
	// by the same rules, measured once before the search: the highest pass
	// is where it starts from, and the lowest failure above it is measured
	// again first. The search thus never ends below a load that met the SLO
	// in the same run.
	Passed, Failed []float64
	// Whole: the loads are whole numbers (a closed loop's clients): the
	// search bisects to adjacent levels and never tries one below 1.
	Whole bool
	// Max > 0 bounds the loads tried (a closed loop's MaxConcurrency).
	Max float64
}

// Found is what a search found: MaxQPS, the highest load that met every
// rule (0: none), and Upper, the lowest load above it that failed twice
// running (0: none was found before the search stopped). The strategy's
// capacity lies in [MaxQPS, Upper).
type Found struct {
	MaxQPS, Upper float64
}

// searcher is a search's state: lo the highest pass, hi the lowest
// confirmed failure above it (+Inf: none yet), retry a load that failed
// once and is measured again before it counts (0: none).
type searcher struct {
	SearchOptions
	lo, hi, retry float64
}

func newSearcher(o SearchOptions) *searcher {
	s := &searcher{SearchOptions: o, hi: math.Inf(1)}
	for _, q := range o.Passed {
		s.lo = max(s.lo, q)
	}
	for _, q := range o.Failed {
		if q > s.lo && (s.retry == 0 || q < s.retry) {
			s.retry = q
		}
	}
	return s
}

// next is the load to try next, or false when the search is done.
func (s *searcher) next(tried int) (float64, bool) {
	switch {
	case s.retry > 0:
		return s.retry, true
	case s.lo > 0 && !math.IsInf(s.hi, 1):
		if (s.hi-s.lo)/s.lo <= s.Precision || (s.Whole && s.hi-s.lo <= 1) {
			return 0, false
		}
		return s.whole((s.lo + s.hi) / 2), true
	case s.lo > 0 && s.Max > 0 && s.lo >= s.Max:
		return 0, false
	case s.lo > 0:
		if s.Max > 0 {
			return min(2*s.lo, s.Max), true
		}
		return 2 * s.lo, true
	case math.IsInf(s.hi, 1):
		if tried > 0 {
			return 0, false // the start failed and could not be retried
		}
		return s.Start, true
	}
	q := s.whole(s.hi / 2)
	return q, q >= s.Start/MaxHalvings && (!s.Whole || q >= 1)
}

// whole rounds a load down to a whole number when the loads are.
func (s *searcher) whole(q float64) float64 {
	if s.Whole {
		return math.Floor(q)
	}
	return q
}

// record folds one step in: a pass raises lo; a failure is retried once,
// and only a second failure running lowers hi.
func (s *searcher) record(st *Step) {
	q := st.QPS
	st.Repeat = s.retry == q
	switch {
	case st.Passed():
		s.lo, s.retry = max(s.lo, q), 0
		if q >= s.hi { // the earlier failures there were chance
			s.hi = math.Inf(1)
		}
	case st.Repeat:
		s.hi, s.retry = min(s.hi, q), 0
	default:
		s.retry = q
	}
}

// Search finds the highest QPS at which measure's steps meet every rule:
// from the fixed points' bracket (or opts.Start) it doubles while steps
// pass, halves while they fail (down to Start/MaxHalvings), then bisects
// between the highest pass and the lowest confirmed failure until they
// are within opts.Precision. Every failure is measured a second time
// before the search turns down, so one unlucky step does not end it low.
// It returns what it found and every step in the order tried.
func Search(ctx context.Context, opts SearchOptions, measure func(qps float64) (Step, error)) (Found, []Step, error) {
	if !(opts.Start > 0) {
		return Found{}, nil, fmt.Errorf("search start %g requests/s", opts.Start)
	}
	s := newSearcher(opts)
	var steps []Step
	for len(steps) < MaxSearchSteps && ctx.Err() == nil {
		q, ok := s.next(len(steps))
		if !ok {
			break
		}
		st, err := measure(q)
		st.QPS = q
		s.record(&st)
		steps = append(steps, st)
		if err != nil {
			return s.found(), steps, err
		}
	}
	return s.found(), steps, ctx.Err()
}

func (s *searcher) found() Found {
	f := Found{MaxQPS: s.lo}
	if !math.IsInf(s.hi, 1) {
		f.Upper = s.hi
	}
	return f
}
