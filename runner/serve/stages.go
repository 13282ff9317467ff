package serve

import (
	"fmt"
	"time"

	"github.com/ortbench/ortbench/runner/load"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
)

// stageOutcomes splits a staged load's outcome, which must hold its
// records (Options.Records), into one Outcome per stage: the requests
// scheduled within each stage, wherever they completed, judged by the
// same rules as a whole load (Outcome.judge).
func stageOutcomes(o *Outcome, st load.Stages, slo time.Duration) []*Outcome {
	bounds := st.Bounds()
	idx := load.StageOf(o.Schedule, bounds)
	out := make([]*Outcome, len(st))
	lo := 0
	for k := range st {
		hi := lo
		for hi < len(idx) && int(idx[hi]) == k {
			hi++
		}
		out[k] = stageOutcome(o, lo, hi, slo)
		lo = hi
	}
	return out
}

// stageOutcome is requests lo..hi−1 of o as a load of their own.
func stageOutcome(o *Outcome, lo, hi int, slo time.Duration) *Outcome {
	s := &Outcome{Requests: hi - lo, Latency: metrics.NewRecorder(), Queueing: metrics.NewRecorder(), Service: metrics.NewRecorder(),
		Schedule: o.Schedule[lo:hi]}
	var sx, sy, sxx, sxy, n float64
	var last time.Duration
	for i := lo; i < hi; i++ {
		at, st, end := o.Schedule[i], o.Starts[i], o.Ends[i]
		switch {
		case end >= 0:
			s.Completed++
			s.Latency.Record(end - at)
			s.Queueing.Record(st - at)
			s.Service.Record(end - st)
			if slo > 0 && end-at > slo {
				s.OverSLO++
			}
			x, y := at.Seconds(), (st - at).Seconds()
			sx, sy, sxx, sxy, n = sx+x, sy+y, sxx+x*x, sxy+x*y, n+1
			last = max(last, end)
		case st < 0:
			s.Dropped++
		default:
			s.Unfinished++
		}
	}
	if s.Requests == 0 {
		return s
	}
	first := o.Schedule[lo]
	if span := o.Schedule[hi-1] - first; s.Requests > 1 && span > 0 {
		s.Offered = float64(s.Requests-1) / span.Seconds()
	}
	if last > first {
		s.Span = last - first
		s.Achieved = float64(s.Completed) / s.Span.Seconds()
	}
	if d := n*sxx - sx*sx; n > 2 && d > 0 {
		s.QueueGrowth = (n*sxy - sx*sy) / d
	}
	if s.Unfinished > 0 && o.EndedEarly != "" {
		s.EndedEarly = o.EndedEarly
	}
	s.judge()
	return s
}

// stageFigures are the stages' results: their outcomes' figures, and
// with an SLO each one's goodput and standing.
func stageFigures(outs []*Outcome, st load.Stages, lim Limits, ps []float64) []results.Stage {
	bounds := st.Bounds()
	fig := make([]results.Stage, len(outs))
	for k, s := range outs {
		fig[k] = results.Stage{Stage: k + 1, FromQPS: st[k].From, ToQPS: st[k].To, StartSeconds: bounds[k].Seconds(),
			DurationSeconds: st[k].Duration.Seconds(), OfferedQPS: s.Offered, AchievedQPS: s.Achieved, Requests: s.Requests,
			Completed: s.Completed, Unfinished: s.Unfinished, Dropped: s.Dropped, Latency: s.Latency.Latency(ps),
			Queueing: s.Queueing.Latency(ps), Service: s.Service.Latency(ps),
			QueueGrowth: s.QueueGrowth, Saturated: s.Saturated, SaturatedReason: s.Why}
		if lim.Latency <= 0 {
			continue
		}
		slo := &results.SLO{Percentile: lim.Percentile, LatencySeconds: lim.Latency.Seconds(), Met: true}
		if s.Completed > 0 {
			slo.MissedFraction = float64(s.OverSLO) / float64(s.Completed)
		}
		slo.GoodputQPS, slo.GoodFraction = Goodput(s)
		pct := s.Latency.Quantile(lim.Percentile)
		switch {
		case s.Saturated:
			slo.Met, slo.FailedRule, slo.Detail = false, "saturated", s.Why
		case s.Completed == 0:
			slo.Met, slo.FailedRule, slo.Detail = false, "latency", "no request of the stage completed"
		case pct > lim.Latency:
			slo.Met, slo.FailedRule, slo.Detail = false, "latency", fmt.Sprintf("p%g %s above the SLO's %s", lim.Percentile, pct, lim.Latency)
		}
		fig[k].SLO = slo
	}
	return fig
}
