package runner

import (
	"context"
	"time"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// measurer measures repetitions of one started cell.
type measurer struct {
	s           strategy.Strategy
	out         *workload.Outputs
	recs        *metrics.Recorders
	ver         *verify.Verifier
	probe       probe
	sampler     *metrics.Sampler
	nb, rows    int
	minDuration time.Duration
}

// repetition is one measured repetition: whole passes until it has lasted
// minDuration, each pass timed alone and verified between passes, untimed.
type repetition struct {
	wall    time.Duration
	passes  int
	rows    int
	cpu     metrics.CPUTimes
	peakRSS uint64
	latency *metrics.Recorder // this repetition's batch latencies, merged
	check   verify.Report
}

func (m *measurer) repetition(ctx context.Context) (repetition, error) {
	var rep repetition
	m.recs.Reset()
	mark := m.sampler.Mark()
	metrics.ResetPeakRSS()
	for rep.passes == 0 || rep.wall < m.minDuration {
		m.out.Reset()
		cpu0 := m.probe.cpu()
		t := time.Now()
		err := m.s.Pass(ctx, m.nb, m.out, m.recs)
		rep.wall += time.Since(t)
		rep.cpu = rep.cpu.Add(m.probe.cpu().Sub(cpu0))
		if err != nil {
			return rep, err
		}
		rep.passes++
		rep.check.Merge(m.ver.Check(m.out, m.nb))
	}
	rep.rows = m.rows * rep.passes
	// The repetition's peak: the largest tree-wide RSS sampled during it,
	// and for an in-process cell the kernel's exact high-water mark.
	m.sampler.Mark()
	rep.peakRSS = m.sampler.PeakRSSSince(mark)
	if !m.probe.multiProcess {
		rep.peakRSS = max(rep.peakRSS, metrics.PeakRSS())
	}
	rep.latency = metrics.NewRecorder()
	m.recs.Merge(rep.latency)
	return rep, nil
}
