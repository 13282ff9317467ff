package serve

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/load"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// cellRun is one plan cell being served: its strategy started and warm,
// then measured at each load.
type cellRun struct {
	env      Env
	pc       config.Cell
	load     config.LoadSection
	pattern  load.Pattern
	seed     uint64
	shape    strategy.Serving
	svc      *service
	startup  time.Duration
	service  time.Duration // median single-request service time, from warm-up
	limits   Limits
	trace    *load.Trace // arrival: trace's recording
	stages   load.Stages // load.stages: one staged load instead of the sweep
	meanRows float64     // the load being measured: its requests' mean rows when the trace sizes them
	records  bool        // keep per-request records (the fixed loads, with load.records)
}

// measured is one load's step, its results cell and its latencies.
type measured struct {
	step Step
	cell results.Cell
	lat  *metrics.Recorder
}

// serveCell serves one plan cell at every fixed load and, with an SLO,
// searches its highest sustainable one. A cell fails only when it could
// not run (start-up, warm-up, a request that errs) or gave wrong outputs;
// a load that misses the SLO is a result.
func serveCell(ctx context.Context, env Env, pc config.Cell, l config.LoadSection, seed uint64) []results.Cell {
	cr, err := startCell(ctx, env, pc, l, seed)
	if err != nil {
		cell := env.Base(pc)
		cell.Status, cell.Error = results.StatusFailed, err.Error()
		if ctx.Err() != nil {
			cell.Status = results.StatusSkipped
		}
		return []results.Cell{cell}
	}
	defer cr.svc.close()
	var open, closed []level
	for _, q := range l.QPS {
		open = append(open, level{qps: float64(q)})
	}
	if len(open) == 0 && cr.trace != nil && cr.trace.Rate() > 0 { // the trace at its own pace
		open = append(open, level{qps: cr.trace.Rate()})
	}
	for _, n := range l.Concurrency {
		closed = append(closed, level{clients: n})
	}
	if len(cr.stages) > 0 { // one load; its SLO judges each stage, no search
		out, _, _ := cr.fixedLoads(ctx, []level{{staged: len(cr.stages)}})
		return out
	}
	out, fixed, err := cr.fixedLoads(ctx, append(open, closed...))
	if err != nil || !l.HasSLO() {
		return out
	}
	// The open loop's search runs when qps is given or nothing is; the
	// closed loop's when concurrency is.
	if len(open) > 0 || len(l.Concurrency) == 0 {
		out = append(out, cr.search(ctx, fixed[:min(len(fixed), len(open))], false))
	}
	if len(l.Concurrency) > 0 && len(fixed) > len(open) {
		out = append(out, cr.search(ctx, fixed[len(open):], true))
	}
	return out
}

// level is one load: an open loop's rate, a closed loop's clients, or
// the staged load (staged: its stages).
type level struct {
	qps     float64
	clients int
	staged  int
}

// of is the level a search step's load names.
func of(load float64, closed bool) level {
	if closed {
		return level{clients: int(load)}
	}
	return level{qps: load}
}

// load is the level as the search sees it.
func (lv level) load() float64 {
	if lv.clients > 0 {
		return float64(lv.clients)
	}
	return lv.qps
}

// param is the level's cell parameter, as the cell name shows it.
func (lv level) param() results.Param {
	if lv.staged > 0 {
		return results.Param{Key: "stages", Value: int64(lv.staged)}
	}
	if lv.clients > 0 {
		return results.Param{Key: "concurrency", Value: int64(lv.clients)}
	}
	return results.Param{Key: "qps", Value: int64(math.Round(lv.qps))}
}

func (lv level) String() string {
	if lv.staged > 0 {
		return fmt.Sprintf("%d stages", lv.staged)
	}
	if lv.clients > 0 {
		return fmt.Sprintf("%d clients", lv.clients)
	}
	return fmt.Sprintf("%.0f/s", lv.qps)
}

// startCell starts the cell's strategy and warms it up, for the loads
// of l (one arrival's).
func startCell(ctx context.Context, env Env, pc config.Cell, l config.LoadSection, seed uint64) (*cellRun, error) {
	shape, ok := strategy.ServingOf(pc.Config)
	if !ok {
		return nil, fmt.Errorf("%s has no serving side", pc.Strategy)
	}
	patterns := env.Patterns
	if patterns == nil {
		patterns = load.Default()
	}
	pat, err := patterns.Lookup(l.Pattern())
	if err != nil {
		return nil, err
	}
	var trace *load.Trace
	if l.Pattern() == config.ArrivalTrace {
		tr, err := load.ReadTrace(env.Plan.Config.Abs(l.Trace), l.TimeScale)
		if err != nil {
			return nil, err
		}
		trace = &tr
		if m := tr.MaxRows(); m > env.Workload.Rows() {
			return nil, fmt.Errorf("%s: a request of %d rows, but the workload has %d", l.Trace, m, env.Workload.Rows())
		}
	}
	t0 := time.Now()
	svc, err := open(ctx, env, pc, shape, l.RequestRows)
	if err != nil {
		return nil, fmt.Errorf("start-up: %w", err)
	}
	cr := &cellRun{env: env, pc: pc, load: l, pattern: pat, seed: seed, shape: shape, svc: svc, startup: time.Since(t0), trace: trace, stages: l.LoadStages(),
		limits: Limits{Duration: l.Duration, MinRequests: l.MinRequests, Percentile: l.SLO.Percentile, Latency: l.SLO.Latency}}
	if cr.service, err = svc.warm(env.Plan.Config.WarmupBatches, shape); err != nil {
		svc.close()
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	return cr, nil
}

// fixedLoads measures the sweep's loads (load.qps, then
// load.concurrency), one cell each; a load that could not run ends the
// cell there. It returns the measurements too, for the searches to start
// from.
func (cr *cellRun) fixedLoads(ctx context.Context, levels []level) ([]results.Cell, []measured, error) {
	var out []results.Cell
	var fixed []measured
	cr.records = cr.load.Records
	defer func() { cr.records = false }()
	for _, lv := range levels {
		m, err := cr.measure(ctx, lv)
		cell := m.cell
		p := lv.param()
		cell.Params = append(slices.Clone(cell.Params), p)
		cell.Name += "/" + p.Key + "=" + strconv.FormatInt(p.Value.(int64), 10)
		if err != nil {
			cell.Status, cell.Error = results.StatusFailed, err.Error()
			return append(out, cell), fixed, err
		}
		cell.Serving.HistogramLog = writeLog(cr.env.OutDir, cell.Name, cell.Serving, m.lat)
		if o := m.step.Outcome; o != nil && o.Ends != nil {
			cols := recordCols{Each: int32(max(cr.load.RequestRows, 1))}
			if lv.staged > 0 {
				cols.Stage = load.StageOf(o.Schedule, cr.stages.Bounds())
			}
			if len(cr.svc.rows) == len(o.Ends) { // this load's sizes (sizeRequests)
				cols.Sized = cr.svc.rows
			}
			file, err := writeRecords(cr.env.OutDir, cell.Name, o, cols)
			o.Starts, o.Ends = nil, nil // one load's records held at a time
			cell.Serving.RecordsFile = file
			if err != nil {
				cell.Status, cell.Error = results.StatusFailed, "records: "+err.Error()
			}
		}
		out = append(out, cell)
		fixed = append(fixed, m) // unnamed: the search cell names its own
	}
	return out, fixed, nil
}

// measure serves one load and judges it.
func (cr *cellRun) measure(ctx context.Context, lv level) (measured, error) {
	env, l := cr.env, cr.load
	if env.Progress != nil {
		phase := "serve " + lv.String()
		if len(env.Plan.Config.Load.Arrivals()) > 1 && lv.clients == 0 {
			phase = "serve " + l.Pattern() + " " + lv.String()
		}
		env.Progress(cr.pc.Index, phase)
	}
	m := measured{cell: env.Base(cr.pc), step: Step{QPS: lv.load()}}
	m.cell.StartupSeconds = cr.startup.Seconds()
	opts, err := cr.options(lv)
	if err != nil {
		return m, err
	}
	cr.svc.reset()
	cpu0, noise := metrics.SelfCPU(), metrics.MarkNoise()
	o, err := Run(ctx, cr.svc, opts)
	cpu := metrics.SelfCPU().Sub(cpu0)
	if o == nil {
		return m, err
	}
	m.lat, m.step.Outcome = o.Latency, o
	lim := cr.limits
	if lv.staged > 0 { // the stages set the load's length, not the minimums
		lim.Duration, lim.MinRequests = 0, 0
	}
	m.step.Rule, m.step.Detail = Judge(o, lim)
	fill(&m.cell, o, cr.svc.report(), env, l, lv.qps, cr.shape, m.step)
	if cr.meanRows > 0 { // the trace's sizes, not request_rows, are the rows served
		m.cell.Serving.RequestRowsMean = cr.meanRows
		rps := o.Achieved * cr.meanRows
		m.cell.RowsPerSecond, m.cell.Throughput.Median, m.cell.Repetitions[0].RowsPerSecond = rps, rps, rps
	}
	if lv.staged > 0 {
		m.cell.Serving.Stages = stageFigures(stageOutcomes(o, cr.stages, l.SLO.Latency), cr.stages, cr.limits, env.Plan.Config.Percentiles)
		m.cell.Serving.TargetQPS = cr.stages.Mean()
		if !cr.records { // kept for the stages alone
			o.Starts, o.Ends = nil, nil
		}
	}
	if m.step.Passed() && m.cell.Status != results.StatusOK {
		m.step.Rule, m.step.Detail = "verification", m.cell.Verification.FirstError
	}
	m.cell.CPU = results.CPU{UserSeconds: cpu.User, SystemSeconds: cpu.System}
	if o.Span > 0 {
		m.cell.CPU.CoresBusy = (cpu.User + cpu.System) / o.Span.Seconds()
		m.cell.CPU.Utilization = m.cell.CPU.CoresBusy / float64(max(env.Cores, 1))
	}
	nz := noise.Since(cpu)
	m.cell.Repetitions[0].Noise = &results.Noise{OtherCores: nz.OtherCores, StealCores: nz.StealCores, Load1: nz.Load1}
	if nz.OtherCores+nz.StealCores > env.Plan.Config.NoiseThreshold {
		m.cell.Disturbed = 1
	}
	return m, err
}

// MaxClosedRequests bounds the requests a closed-loop load reserves times
// for (12 bytes each: at most 48 MB); the reservation is four times what
// the servers could complete at the warm-up's service time.
const MaxClosedRequests = 4 << 20

// options are the engine's options for one load.
func (cr *cellRun) options(lv level) (Options, error) {
	l, sh := cr.load, cr.shape
	opts := Options{Servers: sh.Servers, MaxBatch: sh.MaxBatch, MaxDelay: sh.MaxDelay, Slots: cr.svc.slots, SLO: l.SLO.Latency,
		Drain: max(2*time.Second, l.Duration/2), Records: cr.records}
	_, cr.meanRows = cr.svc.sized(nil, 0, 0)
	if lv.clients > 0 {
		// Until both minimums, or twice the time min_requests needs at the
		// warm-up's service time (and 2 s more) when that is longer.
		par := min(lv.clients, sh.Servers*max(sh.MaxBatch, 1))
		need := time.Duration(float64(l.MinRequests) * float64(cr.service) / float64(par))
		opts.Clients, opts.Duration, opts.MinRequests = lv.clients, l.Duration, l.MinRequests
		opts.Deadline = max(2*l.Duration, 2*need) + 2*time.Second
		capacity := float64(par) / max(cr.service.Seconds(), 1e-7)
		opts.Reserve = int(min(max(4*capacity*opts.Deadline.Seconds(), float64(l.MinRequests)), MaxClosedRequests))
		return opts, nil
	}
	opts.MaxInFlight = l.MaxInFlight
	if lv.staged > 0 { // the pattern at rate 1, time-rescaled to the stages' rates
		pacer, err := cr.pattern.New(load.Spec{Rate: 1, Seed: cr.seed, Shape: l.Shape, Trace: cr.trace})
		if err != nil {
			return opts, err
		}
		opts.Records = true // the stages' figures are computed from them
		opts.Drain = max(2*time.Second, cr.stages.Duration()/2)
		opts.Schedule, err = load.StageSchedule(pacer, cr.stages)
		return cr.sizeRequests(opts), err
	}
	pacer, err := cr.pattern.New(load.Spec{Rate: lv.qps, Seed: cr.seed, Shape: l.Shape, Trace: cr.trace})
	if err != nil {
		return opts, err
	}
	opts.Schedule, err = load.Schedule(pacer, l.Duration, l.MinRequests)
	return cr.sizeRequests(opts), err
}

// sizeRequests gives an open loop's requests the trace's sizes, request
// i the trace's arrival i mod its length (replayed as it repeats), when
// the trace has them.
func (cr *cellRun) sizeRequests(opts Options) Options {
	if cr.trace == nil || cr.trace.Rows == nil || len(opts.Schedule) == 0 {
		return opts
	}
	opts.Breaks, cr.meanRows = cr.svc.sized(cr.trace.Rows, len(opts.Schedule), cr.svc.w.Rows())
	opts.Slots = 0 // the wraps are Breaks
	return opts
}

// search finds the cell's highest sustainable QPS (closed: concurrency),
// bracketed by the fixed loads, and returns it as the cell's "slo_search"
// ("slo_search_concurrency") cell: the figures of its highest passing
// load, or, when no load met the SLO, of the lowest tried — a result
// (status ok, max 0), not a failure.
func (cr *cellRun) search(ctx context.Context, fixed []measured, closed bool) results.Cell {
	l := cr.load
	opts := SearchOptions{Precision: l.SLO.Precision, Whole: closed,
		Start: float64(cr.shape.Servers*max(cr.shape.MaxBatch, 1)) / max(cr.service.Seconds(), 1e-6) / 2}
	switch {
	case closed:
		opts.Start, opts.Max = float64(l.Concurrency[0]), config.MaxConcurrency
	case len(l.QPS) > 0:
		opts.Start = float64(l.QPS[0])
	case cr.trace != nil && cr.trace.Rate() > 0:
		opts.Start = cr.trace.Rate()
	}
	var best, lowest *measured
	var steps []results.SearchStep
	keep := func(m *measured) {
		if m.step.Passed() && (best == nil || m.step.QPS > best.step.QPS) {
			best = m
		}
		if lowest == nil || m.step.QPS <= lowest.step.QPS {
			lowest = m
		}
	}
	for i := range fixed {
		m := &fixed[i]
		keep(m)
		if m.step.Passed() {
			opts.Passed = append(opts.Passed, m.step.QPS)
		} else {
			opts.Failed = append(opts.Failed, m.step.QPS)
		}
		st := searchStep(m.step, l.SLO.Percentile, closed)
		st.Fixed = true
		steps = append(steps, st)
	}
	found, searched, err := Search(ctx, opts, func(q float64) (Step, error) {
		m, err := cr.measure(ctx, of(q, closed))
		if m.step.Outcome != nil {
			keep(&m)
		}
		return m.step, err
	})
	for _, st := range searched {
		if st.Outcome != nil {
			steps = append(steps, searchStep(st, l.SLO.Percentile, closed))
		}
	}
	return cr.searchCell(found, best, lowest, steps, err, closed)
}

// searchCell is the search's result cell.
func (cr *cellRun) searchCell(found Found, best, lowest *measured, steps []results.SearchStep, err error, closed bool) results.Cell {
	l := cr.load
	var cell results.Cell
	var lat *metrics.Recorder
	switch {
	case best != nil:
		cell, lat = best.cell, best.lat
	case lowest != nil:
		cell, lat = lowest.cell, lowest.lat
	default:
		cell = cr.env.Base(cr.pc)
		cell.Serving = &results.Serving{Arrival: l.Pattern(), Seed: cr.seed, RequestRows: l.RequestRows}
		cell.Status, cell.Error = results.StatusFailed, "no load could be measured"
	}
	lv := of(found.MaxQPS, closed)
	cell.Params = append(slices.Clone(cell.Params), lv.param(), results.Param{Key: "slo_search", Value: true})
	cell.Name = cr.env.Base(cr.pc).Name + "/slo_search"
	cell.Serving = cloneServing(cell.Serving)
	cell.Serving.HistogramLog = ""
	s := &results.Search{MaxSustainableQPS: found.MaxQPS, UpperQPS: found.Upper, Precision: l.SLO.Precision, Steps: steps}
	if closed {
		cell.Name += "_concurrency"
		s.MaxConcurrency, s.UpperConcurrency, s.MaxSustainableQPS, s.UpperQPS = int(found.MaxQPS), int(found.Upper), 0, 0
		for _, st := range steps { // the throughputs at the bracket's ends
			switch {
			case st.Passed && st.Concurrency == s.MaxConcurrency:
				s.MaxSustainableQPS = st.AchievedQPS
			case !st.Passed && st.Concurrency == s.UpperConcurrency:
				s.UpperQPS = max(s.UpperQPS, st.AchievedQPS)
			}
		}
	}
	cell.Serving.Search = s
	if best == nil && lowest != nil {
		s.Note = fmt.Sprintf("no load met the SLO: the lowest tried, %s, broke %s", of(lowest.step.QPS, closed), lowest.step.Rule)
	}
	if err != nil {
		cell.Status, cell.Error = results.StatusFailed, err.Error()
	}
	if cell.Status != results.StatusFailed {
		cell.Serving.HistogramLog = writeLog(cr.env.OutDir, cell.Name, cell.Serving, lat)
	}
	return cell
}

// cloneServing copies s so that the search cell's fields do not change
// the fixed-load cell it was taken from.
func cloneServing(s *results.Serving) *results.Serving {
	c := *s
	if s.SLO != nil {
		slo := *s.SLO
		c.SLO = &slo
	}
	return &c
}
