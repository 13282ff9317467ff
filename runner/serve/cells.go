package serve

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// ParamKeys are the parameters server cells add to their strategy's: the
// offered load, and whether the cell is a strategy's SLO search.
var ParamKeys = []results.ParamKey{{Key: "qps", Type: "int"}, {Key: "slo_search", Type: "bool"}}

// Env is what serving a plan needs from the runner.
type Env struct {
	Plan     *config.Plan
	Workload workload.Workload
	Verifier *verify.Verifier
	// Options are the config's base session options.
	Options onnx.Options
	// Seed seeds the arrivals when load.seed is 0 (the run's seed).
	Seed int64
	// Base is a plan cell's results identity (the runner's).
	Base func(config.Cell) results.Cell
	// OutDir receives each cell's histogram log.
	OutDir string
	// Progress, when set, is told about each load as it starts (the plan
	// cell's index, "serve 500/s").
	Progress func(cell int, phase string)
	// Registry and Command start the strategies whose sessions live in
	// worker processes (Serving.Remote): the registry to make one, the
	// command that runs this binary as a worker.
	Registry strategy.Registry
	Command  []string
}

// Cells serves every plan cell at every QPS of the sweep and, with an
// SLO, searches each one's highest sustainable QPS. publish is called
// with the cells so far after each one.
func Cells(ctx context.Context, env Env, publish func([]results.Cell) error) ([]results.Cell, error) {
	c := env.Plan.Config
	l := c.Load
	seed := uint64(l.Seed)
	if seed == 0 {
		seed = uint64(env.Seed)
	}
	var out []results.Cell
	for _, pc := range env.Plan.Cells {
		if ctx.Err() != nil {
			cell := env.Base(pc)
			cell.Status, cell.Error = results.StatusSkipped, "interrupted before it started"
			out = append(out, cell)
			continue
		}
		cells := serveCell(ctx, env, pc, seed)
		out = append(out, cells...)
		if err := publish(out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// serveCell serves one plan cell at every load.
func serveCell(ctx context.Context, env Env, pc config.Cell, seed uint64) []results.Cell {
	c := env.Plan.Config
	l := c.Load
	shape, ok := strategy.ServingOf(pc.Config)
	failed := func(err error) []results.Cell {
		cell := env.Base(pc)
		cell.Status, cell.Error = results.StatusFailed, err.Error()
		if ctx.Err() != nil {
			cell.Status = results.StatusSkipped
		}
		return []results.Cell{cell}
	}
	if !ok {
		return failed(fmt.Errorf("%s has no serving side", pc.Strategy))
	}
	t0 := time.Now()
	svc, err := open(ctx, env, pc, shape, l.RequestRows)
	if err != nil {
		return failed(fmt.Errorf("start-up: %w", err))
	}
	defer svc.close()
	startup := time.Since(t0)
	service, err := svc.warm(c.WarmupBatches, shape)
	if err != nil {
		return failed(fmt.Errorf("warm-up: %w", err))
	}
	limits := Limits{Duration: l.Duration, MinRequests: l.MinRequests, Percentile: l.SLO.Percentile, Latency: l.SLO.Latency}
	var lastLat, bestLat *hdr.Histogram
	measure := func(qps float64) (Step, results.Cell, error) {
		if env.Progress != nil {
			env.Progress(pc.Index, fmt.Sprintf("serve %.0f/s", qps))
		}
		cell := env.Base(pc)
		cell.StartupSeconds = startup.Seconds()
		sched, err := ScheduleFor(l.Arrival, qps, l.Duration, l.MinRequests, seed)
		if err != nil {
			return Step{}, cell, err
		}
		svc.reset()
		cpu0, noise := metrics.SelfCPU(), metrics.MarkNoise()
		o, err := Run(ctx, svc, Options{Schedule: sched, Servers: shape.Servers(), MaxBatch: shape.MaxBatch, MaxDelay: shape.MaxDelay,
			Slots: svc.slots, SLO: l.SLO.Latency, Drain: max(2*time.Second, l.Duration/2)})
		cpu := metrics.SelfCPU().Sub(cpu0)
		if o == nil {
			return Step{}, cell, err
		}
		lastLat = o.Latency
		st := Step{QPS: qps, Outcome: o}
		st.Rule, st.Detail = Judge(o, limits)
		fill(&cell, o, svc.report(), env, l, qps, shape, st)
		cell.CPU = results.CPU{UserSeconds: cpu.User, SystemSeconds: cpu.System}
		if o.Span > 0 {
			cell.CPU.CoresBusy = (cpu.User + cpu.System) / o.Span.Seconds()
			cell.CPU.Utilization = cell.CPU.CoresBusy / float64(runtime.NumCPU())
		}
		nz := noise.Since(cpu)
		cell.Repetitions[0].Noise = &results.Noise{OtherCores: nz.OtherCores, StealCores: nz.StealCores, Load1: nz.Load1}
		if nz.OtherCores+nz.StealCores > c.NoiseThreshold {
			cell.Disturbed = 1
		}
		return st, cell, err
	}
	var out []results.Cell
	for _, q := range l.QPS {
		_, cell, err := measure(float64(q))
		cell.Params = append(cell.Params, results.Param{Key: "qps", Value: int64(q)})
		cell.Name += "/qps=" + strconv.Itoa(q)
		if err != nil {
			cell.Status, cell.Error = results.StatusFailed, err.Error()
			return append(out, cell)
		}
		cell.Serving.HistogramLog = writeLog(env.OutDir, cell.Name, cell.Serving, lastLat)
		out = append(out, cell)
	}
	if !l.HasSLO() {
		return out
	}
	start := float64(shape.Servers()*max(shape.MaxBatch, 1)) / max(service.Seconds(), 1e-6) / 2
	if len(l.QPS) > 0 {
		start = float64(l.QPS[0])
	}
	best := env.Base(pc)
	var steps []results.SearchStep
	maxQPS, _, err := Search(ctx, start, l.SLO.Precision, func(qps float64) (Step, error) {
		st, cell, err := measure(qps)
		if st.Passed() && cell.Status == results.StatusOK {
			best, bestLat = cell, lastLat
		} else if st.Rule == "" && st.Outcome != nil {
			st.Rule, st.Detail = "verification", cell.Verification.FirstError
		}
		if st.Outcome != nil {
			steps = append(steps, searchStep(st, l.SLO.Percentile))
		}
		return st, err
	})
	best.Params = append(best.Params, results.Param{Key: "qps", Value: int64(math.Round(maxQPS))}, results.Param{Key: "slo_search", Value: true})
	best.Name = pc.Name + "/slo_search"
	if best.Serving == nil {
		best.Serving = &results.Serving{Arrival: l.Arrival, Seed: seed, RequestRows: l.RequestRows}
		best.Status = results.StatusFailed
		best.Error = "no load met the SLO"
		if len(steps) > 0 {
			best.Error += ": the lowest tried broke " + steps[len(steps)-1].FailedRule
		}
	}
	best.Serving.Search = &results.Search{MaxSustainableQPS: maxQPS, Precision: l.SLO.Precision, Steps: steps}
	if err != nil {
		best.Status, best.Error = results.StatusFailed, err.Error()
	}
	if best.Status != results.StatusFailed {
		best.Serving.HistogramLog = writeLog(env.OutDir, best.Name, best.Serving, bestLat)
	}
	return append(out, best)
}

func searchStep(st Step, percentile float64) results.SearchStep {
	o := st.Outcome
	return results.SearchStep{QPS: st.QPS, AchievedQPS: o.Achieved, Requests: o.Completed, OverSLO: o.OverSLO,
		PercentileSeconds: seconds(o.Latency.ValueAtQuantile(percentile)), P99Seconds: seconds(o.Latency.ValueAtQuantile(99)),
		Passed: st.Passed(), FailedRule: st.Rule, Detail: st.Detail}
}

func seconds(ns int64) float64 { return float64(ns) / 1e9 }

func latencyOf(h *hdr.Histogram) results.Latency {
	if h.TotalCount() == 0 {
		return results.Latency{}
	}
	return results.Latency{Mean: h.Mean() / 1e9, P50: seconds(h.ValueAtQuantile(50)), P90: seconds(h.ValueAtQuantile(90)),
		P99: seconds(h.ValueAtQuantile(99)), P999: seconds(h.ValueAtQuantile(99.9)), Max: seconds(h.Max())}
}

// fill writes one load's figures into its cell.
func fill(cell *results.Cell, o *Outcome, rep verify.Report, env Env, l config.LoadSection, qps float64, shape strategy.Serving, st Step) {
	s := &results.Serving{Arrival: l.Arrival, RequestRows: l.RequestRows, TargetQPS: qps, OfferedQPS: o.Offered, AchievedQPS: o.Achieved,
		Requests: o.Requests, Completed: o.Completed, Unfinished: o.Unfinished, Servers: shape.Servers(), DurationSeconds: o.Span.Seconds(),
		Latency: latencyOf(o.Latency), Queueing: latencyOf(o.Queueing), Service: latencyOf(o.Service), SchedulingError: latencyOf(o.Lateness),
		QueueGrowth: o.QueueGrowth, Saturated: o.Saturated, SaturatedReason: o.Why}
	seed := uint64(l.Seed)
	if seed == 0 {
		seed = uint64(env.Seed)
	}
	s.Seed = seed
	if shape.MaxBatch > 1 {
		s.BatchSizes = map[string]int64{}
		for k, n := range o.Batches {
			if n > 0 {
				s.BatchSizes[strconv.Itoa(k)] = n
			}
		}
	}
	if l.HasSLO() {
		s.SLO = &results.SLO{Percentile: l.SLO.Percentile, LatencySeconds: l.SLO.Latency.Seconds(), Met: st.Passed(), FailedRule: st.Rule, Detail: st.Detail}
		if o.Completed > 0 {
			s.SLO.MissedFraction = float64(o.OverSLO) / float64(o.Completed)
		}
		if o.Span > 0 {
			s.SLO.GoodputQPS = float64(o.Completed-o.OverSLO) / o.Span.Seconds()
		}
	}
	cell.Serving = s
	cell.Latency = s.Latency
	cell.WallSeconds = o.Span.Seconds()
	cell.RowsPerSecond = o.Achieved * float64(l.RequestRows)
	cell.BatchesPerSec = o.Achieved
	cell.Throughput = results.Summary{Median: cell.RowsPerSecond}
	cell.Repetitions = []results.Repetition{{WallSeconds: cell.WallSeconds, Passes: 1, RowsPerSecond: cell.RowsPerSecond,
		P50Seconds: s.Latency.P50, P99Seconds: s.Latency.P99, Round: 1}}
	cell.Verification = results.Verification{RowsChecked: rep.RowsChecked, Mismatches: rep.Mismatches, MaxAbsDiff: rep.MaxAbsDiff,
		Passed: rep.Passed() && rep.RowsChecked > 0, Reference: env.Verifier.Name, FirstError: rep.FirstError}
	switch {
	case !cell.Verification.Passed:
		cell.Status = results.StatusFailed
		if cell.Verification.FirstError == "" {
			cell.Verification.FirstError = "no request completed"
		}
		cell.Error = "outputs differ from the reference: " + cell.Verification.FirstError
	default:
		cell.Status = results.StatusOK
	}
}

// writeLog writes a cell's latency histogram in HdrHistogram's interval
// log format beside results.json and returns its file name ("" if none).
func writeLog(dir, name string, s *results.Serving, h *hdr.Histogram) string {
	if dir == "" || h == nil || h.TotalCount() == 0 {
		return ""
	}
	file := "latency-" + strings.NewReplacer("/", "_", "=", "-").Replace(name) + ".hlog"
	var b strings.Builder
	lw := hdr.NewHistogramLogWriter(&b)
	_ = lw.OutputLogFormatVersion()
	_ = lw.OutputComment(fmt.Sprintf("ortbench %s: latency from scheduled arrival (ns), %s arrivals at %.0f requests/s", name, s.Arrival, s.TargetQPS))
	_ = lw.OutputStartTime(0)
	_ = lw.OutputLegend()
	h.SetStartTimeMs(0)
	h.SetEndTimeMs(int64(s.DurationSeconds * 1000))
	if err := lw.OutputIntervalHistogram(h); err != nil {
		return ""
	}
	if err := results.WriteFileAtomic(filepath.Join(dir, file), []byte(b.String())); err != nil {
		return ""
	}
	return file
}
