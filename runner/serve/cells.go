package serve

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/load"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// ParamKeys are the parameters server cells add to their strategy's: the
// offered load (a staged load: its number of stages), and whether the cell is a strategy's SLO search.
// The arrival pattern is one when load.arrival lists several.
var ParamKeys = []results.ParamKey{{Key: "arrival", Type: "string"}, {Key: "qps", Type: "int"}, {Key: "concurrency", Type: "int"}, {Key: "stages", Type: "int"}, {Key: "slo_search", Type: "bool"}}

// ArrivalClosed is a closed-loop cell's arrival (results.Serving.Arrival).
const ArrivalClosed = "closed"

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
	// Registry makes each cell's strategy, which serves on its own sessions
	// (strategy.RowServer); Command runs this binary as a worker process
	// (the processes strategy).
	Registry strategy.Registry
	Command  []string
	// Patterns are the load patterns load.arrival names (nil: load.Default).
	Patterns load.Registry
	// Cores is the usable core count (runner/sysinfo's definition: affinity
	// ∩ cpuset, capped by the quota) CPU utilisation divides by; 0 counts 1.
	Cores int
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
		for _, ps := range passes(l) {
			ae, al := arrivalEnv(env, ps.arrival), ps.load
			if ctx.Err() != nil {
				cell := ae.Base(pc)
				cell.Status, cell.Error = results.StatusSkipped, "interrupted before it started"
				out = append(out, cell)
				continue
			}
			out = append(out, serveCell(ctx, ae, pc, al, seed)...)
			if err := publish(out); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// pass is one serving of a plan cell: the loads of one arrival (named
// when load.arrival lists several), or the closed loop on its own.
type pass struct {
	arrival string
	load    config.LoadSection
}

// passes are the servings of each plan cell: one arrival, all its loads
// at once, as before; a list, each arrival's open loop (load.qps, stages,
// the search) in turn and then, when load.concurrency is given, the
// closed loop once on its own, named as without a list: it has no
// arrivals, so serving it per arrival would measure the same thing twice.
func passes(l config.LoadSection) []pass {
	arr := l.Arrivals()
	if len(arr) == 1 {
		return []pass{{load: l}}
	}
	var out []pass
	for _, a := range arr {
		al := l.For(a)
		al.Concurrency = nil
		out = append(out, pass{arrival: a, load: al})
	}
	if len(l.Concurrency) > 0 {
		cl := l.For(config.ArrivalPoisson) // unused: no open loop
		cl.QPS, cl.Stages = nil, nil
		out = append(out, pass{load: cl})
	}
	return out
}

// arrivalEnv is env for the cells of arrival a: named /arrival=a after
// their plan cell's name, the arrival a parameter ("": env as it is).
func arrivalEnv(env Env, a string) Env {
	if a == "" {
		return env
	}
	base := env.Base
	env.Base = func(pc config.Cell) results.Cell {
		c := base(pc)
		c.Name += "/arrival=" + a
		c.Params = append(slices.Clone(c.Params), results.Param{Key: "arrival", Value: a})
		return c
	}
	return env
}

func searchStep(st Step, percentile float64, closed bool) results.SearchStep {
	o := st.Outcome
	qps, clients := st.QPS, 0
	if closed {
		qps, clients = 0, int(st.QPS)
	}
	return results.SearchStep{QPS: qps, Concurrency: clients, AchievedQPS: o.Achieved, Requests: o.Completed, OverSLO: o.OverSLO,
		PercentileSeconds: o.Latency.Quantile(percentile).Seconds(), P99Seconds: o.Latency.Quantile(99).Seconds(),
		Passed: st.Passed(), FailedRule: st.Rule, Detail: st.Detail, Repeat: st.Repeat}
}

// fill writes one load's figures into its cell.
func fill(cell *results.Cell, o *Outcome, rep verify.Report, env Env, l config.LoadSection, qps float64, shape strategy.Serving, st Step) {
	ps := env.Plan.Config.Percentiles
	s := &results.Serving{Arrival: l.Pattern(), RequestRows: l.RequestRows, TargetQPS: qps, OfferedQPS: o.Offered, AchievedQPS: o.Achieved,
		Requests: o.Requests, Completed: o.Completed, Unfinished: o.Unfinished, Servers: shape.Servers, DurationSeconds: o.Span.Seconds(),
		Latency: o.Latency.Latency(ps), Queueing: o.Queueing.Latency(ps), Service: o.Service.Latency(ps), SchedulingError: o.Lateness.Latency(ps),
		QueueGrowth: o.QueueGrowth, Saturated: o.Saturated, SaturatedReason: o.Why, Concurrency: o.Clients, Dropped: o.Dropped}
	if o.Clients == 0 {
		s.MaxInFlight = l.MaxInFlight
	} else {
		s.Arrival = ArrivalClosed
	}
	if s.Arrival == config.ArrivalGamma {
		s.Shape = l.Shape
	}
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
		s.SLO.GoodputQPS, s.SLO.GoodFraction = Goodput(o)
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

// Goodput is o's requests that completed within its SLO, per second of
// its span, and as a share of all its requests (dropped and unfinished
// ones count as missed).
func Goodput(o *Outcome) (perSecond, share float64) {
	good := float64(o.Completed - o.OverSLO)
	if o.Span > 0 {
		perSecond = good / o.Span.Seconds()
	}
	if o.Requests > 0 {
		share = good / float64(o.Requests)
	}
	return perSecond, share
}

// writeLog writes a cell's latency histogram in HdrHistogram's interval
// log format beside results.json and returns its file name ("" if none).
func writeLog(dir, name string, s *results.Serving, r *metrics.Recorder) string {
	if dir == "" || r == nil || r.Count() == 0 {
		return ""
	}
	h := r.Histogram()
	file := "latency-" + strings.NewReplacer("/", "_", "=", "-").Replace(name) + ".hlog"
	var b strings.Builder
	lw := hdr.NewHistogramLogWriter(&b)
	_ = lw.OutputLogFormatVersion()
	load := fmt.Sprintf("%s arrivals at %.0f requests/s", s.Arrival, s.TargetQPS)
	if s.ClosedLoop() {
		load = fmt.Sprintf("closed loop of %d clients", s.Concurrency)
	}
	_ = lw.OutputComment(fmt.Sprintf("ortbench %s: latency from scheduled arrival (ns), %s", name, load))
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
