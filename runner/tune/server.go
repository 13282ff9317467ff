package tune

import (
	"fmt"
	"math"
	"sort"
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

// serverAxes are the dimensions the server why lines compare along: the
// offline ones, the batcher's two settings, and batching itself (the same
// sessions with and without the batcher).
var serverAxes = []axis{
	threadsAxis, workersAxis, spinningAxis, affinityAxis, sharingAxis,
	{"dynamic batching", func(a, b Point) bool {
		return family(a.Strategy) == "sessions" && b.Strategy == "batcher" && b.MaxBatch > 1 &&
			sameBut(a, b, func(p *Point) { p.Strategy, p.MaxBatch, p.MaxDelay = "", 0, 0 })
	}, func(p Point) string {
		if p.MaxBatch > 0 {
			return fmt.Sprintf("batcher ≤ %d within %s", p.MaxBatch, p.MaxDelay)
		}
		return p.Strategy + " (each request alone)"
	}},
	{"batcher max_batch", func(a, b Point) bool {
		return a.MaxBatch > 0 && a.MaxBatch < b.MaxBatch && sameBut(a, b, func(p *Point) { p.MaxBatch, p.MaxDelay = 0, 0 }) &&
			(a.MaxDelay == b.MaxDelay || a.MaxBatch == 1)
	}, func(p Point) string { return fmt.Sprintf("%d", p.MaxBatch) }},
	{"batcher max_delay", func(a, b Point) bool {
		return a.MaxBatch > 1 && a.MaxDelay < b.MaxDelay && sameBut(a, b, func(p *Point) { p.MaxDelay = 0 })
	}, func(p Point) string { return p.MaxDelay.String() }},
}

// serverWhy explains the server search from pairs of measured points that
// differ in one setting, on the max QPS within the SLO.
func (s *search) serverWhy() []string {
	best := s.best(ObjectiveMaxQPS)
	var out []string
	for _, ax := range serverAxes {
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
		line := fmt.Sprintf("%s (%s → %s): %.2f× the highest QPS within %s (%s → %s req/s)",
			ax.name, ax.word(a.point), ax.word(b.point), b.MaxQPS()/a.MaxQPS(), s.t.Settings.SLO, FormatRate(a.MaxQPS()), FormatRate(b.MaxQPS()))
		if bracketsOverlap(a, b) {
			line = "no measurable difference at the search's precision: " + line + ", the searches' brackets overlap"
		}
		if pa, pb := a.P99(), b.P99(); pa > 0 && pb > 0 && math.Abs(pb/pa-1) >= 0.05 && a.last != nil && a.last.P99QPS > 0 {
			line += fmt.Sprintf("; p99 at %s req/s %+.0f%%", FormatRate(a.last.P99QPS), 100*(pb/pa-1))
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
	if lo.last == nil || hi.last == nil {
		return true
	}
	return lo.last.MaxQPSHi == 0 || lo.last.MaxQPSHi > hi.MaxQPS()
}
