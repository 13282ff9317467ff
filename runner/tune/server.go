package tune

import (
	"fmt"
	"math"
	"sort"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
)

// Server load (the config's load.scenario: server): each point is served
// open-loop by runner/serve at the config's fixed QPS and then searched
// for its highest QPS within the SLO (RunnerMeasurer, fromServerCells).
// The space holds the strategies that serve requests, the batcher among
// them with its max_batch × max_delay; the objectives gain
// max_qps_under_slo, and per_core becomes that QPS per core kept busy.
//
// Note: the serving engine measures one point after another, not in
// interleaved rounds, so a step's points are not paired round by round:
// throughput and p99 are single measurements chained to the step's
// baseline, and a max QPS is bracketed by the search itself (the highest
// load that met the SLO, the lowest that failed above it). Ties are
// overlapping brackets; a paired interval would need the serving engine
// to interleave loads across cells.

// serverLoad refuses the load keys a server tune cannot honour, rather
// than run every step into points that all fail: tune ranks each point by
// its SLO search over open-loop QPS (fromServerCells), which a staged load
// (judged stage by stage, no search), a list of arrivals (a search per
// arrival) and a closed loop (a search over concurrency) do not make. Everything else of the load section is passed
// to every step as it is (pointsConfig).
func serverLoad(l config.LoadSection, keyErr func(key, format string, args ...any) error) error {
	switch {
	case len(l.Stages) > 0:
		return keyErr("load.stages", "a server tune ranks each point by its SLO search over a fixed qps, and a staged load has no search (each stage is judged on its own): give load.qps instead, and run the stages with `ortbench run`")
	case len(l.Arrival) > 1:
		return keyErr("load.arrival", "a server tune ranks each point by one search, under one arrival pattern, and a list makes a search per arrival: give one (load.arrival: %s), and compare the arrivals with `ortbench run`", l.Arrival[0])
	case len(l.Concurrency) > 0:
		return keyErr("load.concurrency", "a server tune ranks each point by its highest open-loop QPS within the SLO, not a closed loop's concurrency: give load.qps instead, and run the closed loop with `ortbench run`")
	}
	return nil
}

// recommendServer is the recommendation for obj under server load, from
// every search of each point (the confirmation's included), not from the
// confirmation alone: one search is one draw of one-sided noise (a lone
// spike at a low load collapses it), so the median of a point's searches
// ranks it. Max QPS (and per core) carries the median search's bracket;
// the feasible points whose own bracket reaches above the winner's value
// are tied with it. Throughput and p99 are single measurements per step,
// chained to the step's baseline: no interval, no ties.
func (s *search) recommendServer(obj string, best *estimate, confirm *Step) Recommendation {
	rec := Recommendation{Objective: obj, Point: best.point, Value: s.value(best, obj),
		RowsPerSecond: best.Rate(), P99: best.P99(), MaxQPS: best.MaxQPS()}
	if best.last != nil {
		rec.PeakRSS, rec.CoresBusy = best.last.PeakRSS, best.last.CoresBusy
	}
	if obj == ObjectiveP99 {
		rec.Value = best.P99()
	}
	if confirm != nil {
		rec.Confirmed = containsPoint(confirm.Points, best.point)
	}
	if !rec.Confirmed {
		rec.Note = "not measured in the confirmation step"
	}
	switch obj {
	case ObjectiveMaxQPS, ObjectivePerCore:
		perCore := func(e *estimate) float64 {
			if obj == ObjectivePerCore {
				return coresOf(e)
			}
			return 1
		}
		lo, hi := best.bracket()
		rec.Lo, rec.Hi = lo/perCore(best), hi/perCore(best)
		for _, e := range s.ranked(obj)[1:] {
			if _, h := e.bracket(); h == 0 || h/perCore(e) > rec.Value {
				rec.Tied = append(rec.Tied, e.point)
			}
		}
	default:
		note := "one measurement per step under server load: no interval, no paired ties"
		if rec.Note != "" {
			note = rec.Note + "; " + note
		}
		rec.Note = note
	}
	return rec
}

// serverWhy explains the server search from pairs of measured points that
// differ in one setting, on the max QPS within the SLO.
func (s *search) serverWhy() []string {
	best := s.best(ObjectiveMaxQPS)
	var out []string
	for _, ax := range s.axes() {
		type pair struct{ a, b *estimate }
		var found []pair
		for _, p := range s.order {
			a := s.scores[p.Key()]
			if a.failed || a.MaxQPS() <= 0 {
				continue
			}
			for _, q := range s.order {
				b := s.scores[q.Key()]
				if b.failed || b.MaxQPS() <= 0 || !ax.pair(p, q) {
					continue
				}
				found = append(found, pair{a, b})
			}
		}
		if len(found) == 0 {
			continue
		}
		sort.SliceStable(found, func(i, j int) bool {
			bi := found[i].a == best || found[i].b == best
			bj := found[j].a == best || found[j].b == best
			if bi != bj {
				return bi
			}
			return math.Max(found[i].a.MaxQPS(), found[i].b.MaxQPS()) > math.Max(found[j].a.MaxQPS(), found[j].b.MaxQPS())
		})
		a, b := found[0].a, found[0].b
		line := fmt.Sprintf("%s (%s → %s): %.2f× the highest QPS within %s (%s → %s req/s, %s)",
			ax.name, ax.word(a.point), ax.word(b.point), b.MaxQPS()/a.MaxQPS(), s.t.Settings.SLO, results.Num(a.MaxQPS()), results.Num(b.MaxQPS()), searches(a, b))
		if bracketsOverlap(a, b) {
			line = "no measurable difference at the search's precision: " + line + ", the searches' brackets overlap"
		}
		if pa, pb := a.P99(), b.P99(); pa > 0 && pb > 0 && math.Abs(pb/pa-1) >= 0.05 && a.last != nil && a.last.P99QPS > 0 {
			line += fmt.Sprintf("; p99 at %s req/s %+.0f%%", results.Num(a.last.P99QPS), 100*(pb/pa-1))
		}
		out = append(out, line)
	}
	return out
}

// bracketsOverlap: the two points' SLO searches cannot tell them apart —
// the lower one's first failing load lies above the higher one's best (or
// it never failed above its best).
func bracketsOverlap(a, b *estimate) bool {
	lo, hi := a, b
	if lo.MaxQPS() > hi.MaxQPS() {
		lo, hi = hi, lo
	}
	_, loHi := lo.bracket()
	return loHi == 0 || loHi > hi.MaxQPS()
}

// searches says how many SLO searches each side's figure is the median of.
func searches(a, b *estimate) string {
	if len(a.qps) == 1 && len(b.qps) == 1 {
		return "one search each"
	}
	return fmt.Sprintf("medians of %d and %d searches", len(a.qps), len(b.qps))
}
