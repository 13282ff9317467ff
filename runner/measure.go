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
	interval    time.Duration // memory sampling interval
	nb, rows    int
	minDuration time.Duration
}

// repetition is one measured repetition: whole passes until it has lasted
// minDuration, each pass timed alone and verified between passes, untimed.
type repetition struct {
	round   int
	wall    time.Duration
	passes  int
	rows    int
	cpu     metrics.CPUTimes
	peakRSS uint64
	latency *metrics.Recorder // this repetition's batch latencies, merged
	check   verify.Report
	noise   metrics.Noise
	// memory sampled during this repetition only (the cell's own tree).
	points   []metrics.Point
	peak     metrics.Mem
	procs    int
	perProc  []metrics.ProcessPeak
	duration time.Duration // wall clock of the whole repetition, verification included
}

// repetition samples memory and the machine's noise during this
// repetition only, so under the interleaved schedule nothing another cell
// does is charged to this one.
func (m *measurer) repetition(ctx context.Context, round int) (repetition, error) {
	rep := repetition{round: round}
	m.recs.Reset()
	metrics.ResetPeakRSS()
	sampler := metrics.StartSampler(m.interval, m.probe.pids)
	noise := metrics.MarkNoise()
	cpuStart := m.probe.cpu()
	t0 := time.Now()
	for rep.passes == 0 || rep.wall < m.minDuration {
		m.out.Reset()
		cpu0 := m.probe.cpu()
		t := time.Now()
		err := m.s.Pass(ctx, m.nb, m.out, m.recs)
		rep.wall += time.Since(t)
		rep.cpu = rep.cpu.Add(m.probe.cpu().Sub(cpu0))
		if err != nil {
			sampler.Stop()
			return rep, err
		}
		rep.passes++
		rep.check.Merge(m.ver.Check(m.out, m.nb))
	}
	rep.duration = time.Since(t0)
	rep.noise = noise.Since(m.probe.cpu().Sub(cpuStart))
	rep.points, rep.peak, rep.procs = sampler.Stop()
	rep.perProc = sampler.PerProcess()
	rep.rows = m.rows * rep.passes
	// The repetition's peak: the largest tree-wide RSS sampled during it,
	// and for an in-process cell the kernel's exact high-water mark.
	rep.peakRSS = rep.peak.RSS
	if !m.probe.multiProcess {
		rep.peakRSS = max(rep.peakRSS, metrics.PeakRSS())
	}
	rep.latency = metrics.NewRecorder()
	m.recs.Merge(rep.latency)
	return rep, nil
}
