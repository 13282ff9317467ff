package tune

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Result is what a tune found.
type Result struct {
	// Grid is the space's size (what a brute-force run measures), Visited
	// the distinct points measured.
	Grid       int     `json:"grid"`
	Visited    int     `json:"visited"`
	VisitedPct float64 `json:"visited_pct"`
	Steps      int     `json:"steps"`
	Seconds    float64 `json:"seconds"`
	StopReason string  `json:"stop_reason"`
	Objective  string  `json:"objective"`
	// Server: the points were served open-loop (server load) within SLO.
	Server bool   `json:"server,omitempty"`
	SLO    string `json:"slo,omitempty"`
	// Constraints in words; Infeasible says, when no measured point meets
	// them, which constraint binds.
	Constraints     string           `json:"constraints"`
	Infeasible      string           `json:"infeasible,omitempty"`
	Recommendations []Recommendation `json:"recommendations"`
	// Front is the Pareto front over throughput (higher), p99 (lower) and
	// peak RSS (lower), fastest first.
	Front  []PointFigures `json:"front"`
	Why    []string       `json:"why"`
	Points []PointFigures `json:"points"`
}

// PointFigures is a visited point's estimate: throughput and p99 on the
// anchor's scale (paired ratios chained to the first baseline), memory and
// cores as measured last.
type PointFigures struct {
	Point         Point    `json:"point"`
	FirstStep     int      `json:"first_step"`
	RowsPerSecond float64  `json:"rows_per_second"`
	P99           float64  `json:"p99_seconds"`
	PeakRSS       uint64   `json:"peak_rss_bytes"`
	CoresBusy     float64  `json:"cores_busy"`
	Failed        bool     `json:"failed,omitempty"`
	Error         string   `json:"error,omitempty"`
	Violates      []string `json:"violates,omitempty"`
	// Server load: the highest QPS within the SLO, and the lowest load
	// the search saw fail above it.
	MaxQPS   float64 `json:"max_qps_under_slo,omitempty"`
	MaxQPSHi float64 `json:"max_qps_failed_above,omitempty"`
}

// Recommendation is the best point for one objective.
type Recommendation struct {
	Objective string `json:"objective"`
	Point     Point  `json:"point"`
	// Value is the objective's figure (rows/s, p99 seconds, rows/s per
	// core) with its 95% interval where the confirmation measured one.
	Value         float64 `json:"value"`
	Lo            float64 `json:"lo,omitempty"`
	Hi            float64 `json:"hi,omitempty"`
	RowsPerSecond float64 `json:"rows_per_second"`
	P99           float64 `json:"p99_seconds"`
	PeakRSS       uint64  `json:"peak_rss_bytes"`
	CoresBusy     float64 `json:"cores_busy"`
	// MaxQPS is the point's highest QPS within the SLO (server load).
	MaxQPS float64 `json:"max_qps_under_slo,omitempty"`
	// Tied are the points the confirmation could not tell apart from it
	// (their paired interval includes 1).
	Tied []Point `json:"tied,omitempty"`
	// Confirmed: measured in the final step beside its rivals.
	Confirmed bool   `json:"confirmed"`
	Note      string `json:"note,omitempty"`
}

// result derives the Result from the state.
func (s *search) result() *Result {
	set := s.t.Settings
	r := &Result{
		Grid: s.t.Space.Size(), Visited: len(s.order), Steps: len(s.state.Steps),
		Seconds: s.state.Seconds(), StopReason: s.state.StopReason, Objective: set.Objective,
		Constraints: set.Constraints.Describe(), Server: set.Server, SLO: set.SLO,
	}
	if r.Grid > 0 {
		r.VisitedPct = 100 * float64(r.Visited) / float64(r.Grid)
	}
	for i, p := range s.order {
		r.Points = append(r.Points, s.figures(s.scores[p.Key()], s.firstStep(p, i)))
	}
	if len(s.ranked(ObjectiveThroughput)) == 0 {
		r.Infeasible = s.binding()
	} else {
		var confirm *Step
		if n := len(s.state.Steps); n > 0 && s.state.Steps[n-1].Kind == KindConfirm {
			confirm = &s.state.Steps[n-1]
		}
		for _, obj := range set.objectives() {
			r.Recommendations = append(r.Recommendations, s.recommend(obj, confirm))
		}
		r.Front = s.front()
	}
	r.Why = s.why()
	return r
}

func (s *search) firstStep(p Point, _ int) int {
	for _, st := range s.state.Steps {
		if containsPoint(st.Points, p) {
			return st.Index
		}
	}
	return 0
}

func (s *search) figures(e *estimate, step int) PointFigures {
	f := PointFigures{Point: e.point, FirstStep: step, RowsPerSecond: e.Rate(), P99: e.P99(), Failed: e.failed}
	f.MaxQPS = e.MaxQPS()
	if e.last != nil {
		f.PeakRSS, f.CoresBusy = e.last.PeakRSS, e.last.CoresBusy
		_, f.MaxQPSHi = e.bracket()
		if e.failed {
			f.Error = e.last.Error
		} else {
			f.Violates = s.t.Settings.Constraints.violated(e.last)
		}
	}
	return f
}

// recommend picks the best point for an objective: from the confirmation
// step when it ran (its own medians, paired ties), else from the search's
// estimates.
func (s *search) recommend(obj string, confirm *Step) Recommendation {
	best := s.ranked(obj)[0]
	rec := Recommendation{Objective: obj, Point: best.point}
	if s.t.Settings.Server {
		return s.recommendServer(obj, best, confirm)
	}
	if confirm != nil {
		var ms []*Measurement
		for i := range confirm.Measurements {
			m := &confirm.Measurements[i]
			if m.Measured() && s.t.Settings.Constraints.violation(m) == 0 {
				ms = append(ms, m)
			}
		}
		if len(ms) > 0 {
			fig := func(m *Measurement) float64 {
				switch obj {
				case ObjectiveP99:
					return -roundsP99(m)
				case ObjectivePerCore:
					return m.RowsPerSecond / coresOfM(m)
				}
				return m.RowsPerSecond
			}
			b := ms[0]
			for _, m := range ms[1:] {
				if fig(m) > fig(b) {
					b = m
				}
			}
			rec.Point, rec.Confirmed = b.Point, true
			rec.RowsPerSecond, rec.P99, rec.PeakRSS, rec.CoresBusy = b.RowsPerSecond, roundsP99(b), b.PeakRSS, b.CoresBusy
			switch obj {
			case ObjectiveP99:
				sum := metrics.Summarize(roundValues(b, p99of))
				rec.Value, rec.Lo, rec.Hi = sum.Median, sum.Lo, sum.Hi
			case ObjectivePerCore:
				c := coresOfM(b)
				rec.Value, rec.Lo, rec.Hi = b.RowsPerSecond/c, b.Lo/c, b.Hi/c
			default:
				rec.Value, rec.Lo, rec.Hi = b.RowsPerSecond, b.Lo, b.Hi
			}
			get := rate
			if obj == ObjectiveP99 {
				get = p99of
			}
			for _, m := range ms {
				if m == b {
					continue
				}
				ratios := pairedRatios(m, b, get)
				if obj == ObjectivePerCore {
					scale := coresOfM(b) / coresOfM(m)
					for i := range ratios {
						ratios[i] *= scale
					}
				}
				if len(ratios) == 0 {
					continue
				}
				sum := metrics.Summarize(ratios)
				if sum.Confidence == 0 || (sum.Lo <= 1 && 1 <= sum.Hi) {
					rec.Tied = append(rec.Tied, m.Point)
				}
			}
			return rec
		}
	}
	rec.RowsPerSecond, rec.P99, rec.MaxQPS = best.Rate(), best.P99(), best.MaxQPS()
	if best.last != nil {
		rec.PeakRSS, rec.CoresBusy = best.last.PeakRSS, best.last.CoresBusy
	}
	rec.Value = s.value(best, obj)
	if obj == ObjectiveP99 {
		rec.Value = best.P99()
	}
	rec.Note = "not confirmed: no confirmation step ran; figures are the search's paired estimates"
	return rec
}

func coresOfM(m *Measurement) float64 {
	if m.CoresBusy > 0 {
		return m.CoresBusy
	}
	return float64(m.Point.Cores())
}

func roundValues(m *Measurement, get func(results.Repetition) float64) []float64 {
	var out []float64
	for _, r := range m.Rounds {
		if v := get(r); v > 0 {
			out = append(out, v)
		}
	}
	return out
}

// binding says, when no measured point meets the constraints, which one
// binds: a constraint no point meets on its own, or the ones that
// conflict.
func (s *search) binding() string {
	c := s.t.Settings.Constraints
	var ms []*Measurement
	for _, p := range s.order {
		if e := s.scores[p.Key()]; !e.failed && e.last != nil {
			ms = append(ms, e.last)
		}
	}
	if len(ms) == 0 {
		return "no point could be measured (every one failed)"
	}
	var alone []string
	if c.MaxP99 > 0 {
		lo := math.Inf(1)
		for _, m := range ms {
			lo = math.Min(lo, m.P99)
		}
		if lo > c.MaxP99.Seconds() {
			alone = append(alone, fmt.Sprintf("max_p99 %s binds: the lowest p99 measured is %s", c.MaxP99, results.Dur(lo)))
		}
	}
	if c.MaxRSS > 0 {
		lo := uint64(math.MaxUint64)
		for _, m := range ms {
			lo = min(lo, m.PeakRSS)
		}
		if lo > uint64(c.MaxRSS) {
			alone = append(alone, fmt.Sprintf("max_rss %s binds: the smallest peak RSS measured is %s", results.Bytes(uint64(c.MaxRSS)), results.Bytes(lo)))
		}
	}
	if c.MinThroughput > 0 {
		hi := 0.0
		for _, m := range ms {
			hi = math.Max(hi, m.RowsPerSecond)
		}
		if hi < c.MinThroughput {
			alone = append(alone, fmt.Sprintf("min_throughput %s rows/s binds: the highest measured is %s rows/s", results.Num(c.MinThroughput), results.Num(hi)))
		}
	}
	if len(alone) > 0 {
		return "no measured point meets the constraints: " + strings.Join(alone, "; ")
	}
	return "no measured point meets every constraint at once (each alone is met by some point): " + c.Describe() + " conflict"
}

// front is the Pareto front of the feasible points: no other point has
// higher throughput, lower p99 and lower memory all at once.
func (s *search) front() []PointFigures {
	pts := s.ranked(ObjectiveThroughput)
	server := s.t.Settings.Server
	var out []PointFigures
	for _, a := range pts {
		dominated := false
		for _, b := range pts {
			if a == b {
				continue
			}
			ra, rb := a.Rate(), b.Rate()
			pa, pb := a.P99(), b.P99()
			ma, mb := float64(a.last.PeakRSS), float64(b.last.PeakRSS)
			if server {
				// Server cells have no RSS of their own: max QPS within
				// the SLO, p99 at the fixed load, cores busy.
				ra, rb, ma, mb = a.MaxQPS(), b.MaxQPS(), coresOf(a), coresOf(b)
			}
			if rb >= ra && pb <= pa && mb <= ma && (rb > ra || pb < pa || mb < ma) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, s.figures(a, s.firstStep(a.point, 0)))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if server {
			return out[i].MaxQPS > out[j].MaxQPS
		}
		return out[i].RowsPerSecond > out[j].RowsPerSecond
	})
	return out
}

// effect is one axis's measured effect between two points that differ in
// that axis only.
type effect struct {
	a, b     *estimate
	rate     float64 // b ÷ a
	p99      float64 // b ÷ a
	lo, hi   float64 // the rate ratio's 95% interval, when paired
	paired   bool
	cores    float64 // b's cores busy − a's
	hasCores bool
}

// pairEffect compares b with a: paired per round when one step measured
// both, else from the chained estimates.
func (s *search) pairEffect(a, b *estimate) effect {
	ef := effect{a: a, b: b, rate: b.Rate() / a.Rate(), p99: b.P99() / a.P99()}
	for i := len(s.state.Steps) - 1; i >= 0 && !ef.paired; i-- {
		st := &s.state.Steps[i]
		var ma, mb *Measurement
		for j := range st.Measurements {
			switch st.Measurements[j].Point.Key() {
			case a.point.Key():
				ma = &st.Measurements[j]
			case b.point.Key():
				mb = &st.Measurements[j]
			}
		}
		if ma == nil || mb == nil || !ma.Measured() || !mb.Measured() {
			continue
		}
		if rs := pairedRatios(mb, ma, rate); len(rs) > 0 {
			sum := metrics.Summarize(rs)
			ef.rate, ef.paired = sum.Median, true
			ef.lo, ef.hi = sum.Lo, sum.Hi
			if sum.Confidence == 0 {
				ef.lo, ef.hi = 0, 0
			}
			if pm := pairedMedian(mb, ma, p99of); pm > 0 {
				ef.p99 = pm
			}
		}
		if ma.CoresBusy > 0 && mb.CoresBusy > 0 {
			ef.cores, ef.hasCores = mb.CoresBusy-ma.CoresBusy, true
		}
	}
	if !ef.hasCores && a.last != nil && b.last != nil && a.last.CoresBusy > 0 && b.last.CoresBusy > 0 {
		ef.cores, ef.hasCores = b.last.CoresBusy-a.last.CoresBusy, true
	}
	return ef
}

// significant: a paired interval that excludes 1, or, unpaired, a
// difference beyond 10% (chained estimates carry the drift of each link).
func (ef effect) significant() bool {
	if ef.paired && ef.hi > 0 {
		return ef.lo > 1 || ef.hi < 1
	}
	return math.Abs(ef.rate-1) > 0.10
}

func (ef effect) describe() string {
	s := fmt.Sprintf("%.2f× throughput", ef.rate)
	if ef.paired && ef.hi > 0 {
		s += fmt.Sprintf(" (paired, 95%% interval %.2f–%.2f)", ef.lo, ef.hi)
	} else if ef.paired {
		s += " (paired, too few rounds for an interval)"
	} else {
		s += " (chained estimate, not measured side by side)"
	}
	if !ef.significant() {
		s = "no measurable difference: " + s
	}
	if ef.p99 > 0 && math.Abs(ef.p99-1) >= 0.05 {
		s += fmt.Sprintf(", p99 %+.0f%%", 100*(ef.p99-1))
	}
	return s
}

// why derives explanations from pairs of measured points that differ in
// one setting: per-call overhead and batching, then each searchable key of
// the space (thread counts, spinning and its idle cost in cores, …) and
// each strategy against the others. Each line states the pair it comes
// from; settings without such a pair say nothing.
func (s *search) why() []string {
	if s.t.Settings.Server {
		return s.serverWhy()
	}
	var out []string
	if share, a, b := s.overheadPair(); a != nil {
		line := fmt.Sprintf("at batch %d per-call overhead is ~%.0f%% of a call's time (%s: %s rows/s at batch %d vs %s at batch %d)",
			a.point.Batch, 100*share, shape(a.point), results.Num(b.Rate()), b.point.Batch, results.Num(a.Rate()), a.point.Batch)
		if share >= 0.3 {
			line += ": batching pays"
			small := func(p Point) bool { return p.Batch == a.point.Batch }
			for _, ax := range s.axes() {
				if !ax.cores {
					continue
				}
				if ef, ok := s.axisEffect(small, ax); ok && ef.significant() && ef.rate > 1 {
					line += fmt.Sprintf(", more %s at batch %d pay (%s)", ax.name, a.point.Batch, ef.describe())
				} else if ok {
					line += fmt.Sprintf(", more %s at batch %d do not (%s)", ax.name, a.point.Batch, ef.describe())
				}
			}
		} else if share < 0.1 {
			line += ": the arithmetic dominates, batching buys little beyond it"
		}
		out = append(out, line)
	}
	for _, ax := range s.axes() {
		ef, ok := s.axisEffect(nil, ax)
		if !ok {
			continue
		}
		line := fmt.Sprintf("%s (%s → %s): %s", ax.name, ax.word(ef.a.point), ax.word(ef.b.point), ef.describe())
		if ax.bool && ef.hasCores && ef.paired {
			line += fmt.Sprintf("; costs %+.1f cores busy", ef.cores)
		}
		out = append(out, line)
	}
	return out
}

// axis is one dimension the why lines compare along.
type axis struct {
	name string
	// pair reports whether b is a's neighbour along the axis (a the
	// "before", b the "after").
	pair        func(a, b Point) bool
	word        func(p Point) string
	cores, bool bool // a thread count; a bool key
}

// axes are the space's: each searchable key (points of one wider
// strategy differing only in it), then each strategy against those
// before it in the space's order (the same settings otherwise).
func (s *search) axes() []axis {
	sp := s.t.Space
	var out []axis
	for _, k := range sp.Keys {
		if len(sp.Axes[k.Name]) < 2 {
			continue
		}
		key := k
		out = append(out, axis{name: key.Name, cores: key.Cores(), bool: key.Type == "bool",
			pair: func(a, b Point) bool {
				va, okA := sp.general[a.Key()].values[key.Name]
				vb, okB := sp.general[b.Key()].values[key.Name]
				return okA && okB && strategy.CompareValues(va, vb) < 0 && sp.sameBut(a, b, key.Name)
			},
			word: func(p Point) string {
				v := sp.general[p.Key()].values[key.Name]
				if b, ok := v.(bool); ok {
					return onOff(b)
				}
				return results.FormatValue(v)
			}})
	}
	var wide []string // the wider strategies, in the space's order
	for _, st := range sp.Strategies {
		if g := sp.generalName(st); !slices.Contains(wide, g) {
			wide = append(wide, g)
		}
	}
	for i, g := range wide[min(1, len(wide)):] {
		before := wide[:i+1]
		out = append(out, axis{name: "strategy " + g, word: func(p Point) string { return p.String() },
			pair: func(a, b Point) bool {
				ga, gb := sp.general[a.Key()], sp.general[b.Key()]
				return gb.name == g && slices.Contains(before, ga.name) && commonEqual(ga.values, gb.values)
			}})
	}
	return out
}

// commonEqual reports whether the keys a and b share have equal values.
func commonEqual(a, b map[string]any) bool {
	for k, v := range a {
		if w, ok := b[k]; ok && strategy.CompareValues(v, w) != 0 {
			return false
		}
	}
	return true
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func shape(p Point) string {
	return fmt.Sprintf("%s %d×%d", p.Strategy, max(p.Shape.Workers, 1), max(p.Shape.Threads, 1))
}

// axisEffect is the effect along ax of the pair nearest the best point
// (filter, when given, limits the "before" points). Pairs measured in the
// same step are preferred.
func (s *search) axisEffect(filter func(Point) bool, ax axis) (effect, bool) {
	best := s.best(s.t.Settings.Objective)
	var found []effect
	for _, p := range s.order {
		a := s.scores[p.Key()]
		if a.failed || (filter != nil && !filter(p)) {
			continue
		}
		for _, q := range s.order {
			b := s.scores[q.Key()]
			if b.failed || !ax.pair(p, q) {
				continue
			}
			found = append(found, s.pairEffect(a, b))
		}
	}
	if len(found) == 0 {
		return effect{}, false
	}
	// Prefer paired pairs, then pairs that include the best point, then
	// the fastest pair.
	sort.SliceStable(found, func(i, j int) bool {
		fi, fj := found[i], found[j]
		if fi.paired != fj.paired {
			return fi.paired
		}
		bi := best != nil && (fi.a == best || fi.b == best)
		bj := best != nil && (fj.a == best || fj.b == best)
		if bi != bj {
			return bi
		}
		return math.Max(fi.a.Rate(), fi.b.Rate()) > math.Max(fj.a.Rate(), fj.b.Rate())
	})
	return found[0], true
}
