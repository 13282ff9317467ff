package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ortbench/ortbench/runner/load"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Load scenarios (the load section's words) and the default load pattern.
// The patterns themselves are runner/load's registry.
const (
	ScenarioOffline = "offline"
	ScenarioServer  = "server"
	ArrivalPoisson  = "poisson"
	ArrivalGamma    = "gamma"
	ArrivalTrace    = "trace"
)

// LoadSection is the load section. Offline (the default) pushes the dataset
// through as fast as possible; server issues requests of RequestRows rows
// at their own, seeded arrival times (open loop, as MLPerf LoadGen's server
// scenario and wrk2/vegeta do) at each QPS of the sweep, and with an SLO
// searches each strategy's highest sustainable QPS (runner/serve).
type LoadSection struct {
	Scenario string `mapstructure:"scenario"`
	// Arrival names the load pattern: an entry of runner/load's registry
	// (poisson, constant, gamma, trace). A list serves each plan cell under
	// each pattern in turn, the cells named /arrival=NAME (same qps, same
	// strategies: one run to compare them); the closed loop, which has no
	// arrivals, runs once, with the first.
	Arrival StringList `mapstructure:"arrival"`
	// Shape is the gamma pattern's shape k: gaps with CV 1/√k (1 =
	// Poisson, below 1 bursty).
	Shape float64 `mapstructure:"shape"`
	// Trace is the trace pattern's CSV of arrival offsets (relative to the
	// config), TimeScale what its offsets are multiplied by (2: half the
	// rate). Without qps the trace is served once at its own pace; each
	// qps rescales it to that mean rate.
	Trace     string  `mapstructure:"trace"`
	TimeScale float64 `mapstructure:"time_scale"`
	// QPS is the offered load in requests per second: one value or a sweep;
	// each value is part of a server cell's identity.
	QPS IntList `mapstructure:"qps"`
	// Concurrency is the closed loop's levels (Triton perf_analyzer's
	// --concurrency-range): that many clients, each sending its next
	// request the moment its last returns; each value a cell, beside the
	// qps cells, and with an SLO the search for the highest level within it.
	Concurrency IntList `mapstructure:"concurrency"`
	// MaxInFlight > 0 caps the open loop's requests in flight: an arrival
	// beyond it is dropped and counted, never queued or sent later.
	MaxInFlight int `mapstructure:"max_in_flight"`
	// Stages, when given, make one load of stages run back to back
	// (inference-perf's): each a rate (qps: 200) or a ramp (qps: [200,
	// 800], rising linearly over the stage) for its duration, arrivals
	// from load.arrival at the instantaneous rate, each stage reported on
	// its own. They replace qps and concurrency.
	Stages []Stage `mapstructure:"stages"`
	// Records writes each fixed load's requests, one row each, as Parquet
	// beside the results (runner/serve: RecordBytes a request while held).
	Records bool `mapstructure:"records"`
	// RequestRows is the rows each request carries (drawn from the dataset
	// in order, wrapping).
	RequestRows int `mapstructure:"request_rows"`
	// Duration and MinRequests are LoadGen's minimum duration and query
	// count: a cell issues requests until both are reached.
	Duration    time.Duration `mapstructure:"duration"`
	MinRequests int           `mapstructure:"min_requests"`
	// Seed seeds the arrival process; 0: the run's seed (recorded).
	Seed int64 `mapstructure:"seed"`
	SLO  SLO   `mapstructure:"slo"`
}

// Stage is one stage of load.stages: a rate, or a ramp from QPS[0] to
// QPS[1], for Duration.
type Stage struct {
	QPS      IntList       `mapstructure:"qps"`
	Duration time.Duration `mapstructure:"duration"`
}

// Rates is the stage's rate at its start and end (equal: no ramp).
func (s Stage) Rates() (from, to float64) {
	if len(s.QPS) == 0 {
		return 0, 0
	}
	return float64(s.QPS[0]), float64(s.QPS[len(s.QPS)-1])
}

// LoadStages is the stages as runner/load paces them.
func (l LoadSection) LoadStages() []load.Stage {
	out := make([]load.Stage, len(l.Stages))
	for i, s := range l.Stages {
		out[i].From, out[i].To = s.Rates()
		out[i].Duration = s.Duration
	}
	return out
}

// SLO is a latency objective: Percentile of the requests within Latency.
// Set (Latency > 0) it turns on the search for each strategy's highest
// sustainable QPS, to within Precision (a fraction of that QPS).
type SLO struct {
	Percentile float64       `mapstructure:"percentile"`
	Latency    time.Duration `mapstructure:"latency"`
	Precision  float64       `mapstructure:"precision"`
}

// Arrivals is load.arrival's patterns (none: poisson).
func (l LoadSection) Arrivals() []string {
	if len(l.Arrival) == 0 {
		return []string{ArrivalPoisson}
	}
	return l.Arrival
}

// Pattern is the pattern this section's open loop runs: its first
// arrival (runner/serve serves a list as one section per arrival, For).
func (l LoadSection) Pattern() string { return l.Arrivals()[0] }

// For is the section with arrival a alone.
func (l LoadSection) For(a string) LoadSection {
	l.Arrival = StringList{a}
	return l
}

// allTrace reports whether every arrival replays the trace (which, with
// no qps, runs at its own pace); hasArrival whether one is a.
func (l LoadSection) allTrace() bool {
	return !slices.ContainsFunc(l.Arrivals(), func(a string) bool { return a != ArrivalTrace })
}

func (l LoadSection) hasArrival(a string) bool { return slices.Contains(l.Arrivals(), a) }

// Server reports whether the config runs the server scenario.
func (l LoadSection) Server() bool { return l.Scenario == ScenarioServer }

// HasSLO reports whether an SLO was given.
func (l LoadSection) HasSLO() bool { return l.SLO.Latency > 0 }

// Upper bounds of the load section. MaxConcurrency: a closed loop's
// clients are goroutines, but a level beyond the threads a cell may keep
// (MaxThreads) only lengthens the queue in front of the servers.
const (
	MaxConcurrency  = MaxThreads
	maxQPS          = 10_000_000
	maxRequestRows  = 1 << 20
	maxRequests     = 100_000_000
	maxLoadDuration = time.Hour
)

// checkLoad reports every problem of the load section, each at its key.
func checkLoad(c *Config, reg strategy.Registry, bad func(key, format string, args ...any)) {
	l := c.Load
	switch l.Scenario {
	case ScenarioOffline, ScenarioServer:
	default:
		bad("load.scenario", "%q: want offline (the dataset as fast as possible) or server (requests at a target rate)", l.Scenario)
		return
	}
	if l.SLO.Latency < 0 {
		bad("load.slo.latency", "must be > 0, got %s", l.SLO.Latency)
	}
	if !l.Server() {
		if l.HasSLO() {
			bad("load.slo", "an SLO needs server load: set load.scenario: server")
		}
		if len(l.QPS) > 0 {
			bad("load.qps", "qps needs server load: set load.scenario: server")
		}
		if len(l.Concurrency) > 0 {
			bad("load.concurrency", "concurrency needs server load: set load.scenario: server")
		}
		if l.Records {
			bad("load.records", "records are per request: set load.scenario: server")
		}
		if len(l.Stages) > 0 {
			bad("load.stages", "stages are server load: set load.scenario: server")
		}
		for i, raw := range c.Strategies {
			if name, _ := raw["strategy"].(string); reg.ServerOnly(name) {
				bad(fmt.Sprintf("strategies[%d].strategy", i), "%s serves requests only: set load.scenario: server", name)
			}
		}
		return
	}
	checkPatterns(c, bad)
	checkStages(l, bad)
	if len(l.QPS) == 0 && len(l.Concurrency) == 0 && len(l.Stages) == 0 && !l.HasSLO() && !l.allTrace() {
		bad("load.qps", "server load needs qps or concurrency (one value or a list), an slo to search for the highest, or both")
	}
	checkSweep(l, bad)
	checkRecords(l, bad)
	if len(c.BatchSizes) > 1 {
		bad("batch_sizes", "server load sends load.request_rows rows per request; batch_sizes is the offline scenario's: give one value or none")
	}
	for i, q := range l.QPS {
		if q <= 0 || q > maxQPS {
			bad(fmt.Sprintf("load.qps[%d]", i), "must be > 0 and at most %d requests/s, got %d", maxQPS, q)
		}
	}
	if l.RequestRows < 1 || l.RequestRows > maxRequestRows {
		bad("load.request_rows", "must be ≥ 1 and at most %d, got %d", maxRequestRows, l.RequestRows)
	}
	if l.Duration <= 0 || l.Duration > maxLoadDuration {
		bad("load.duration", "must be > 0 and at most %s, got %s", maxLoadDuration, l.Duration)
	}
	if l.MinRequests < 1 || l.MinRequests > maxRequests {
		bad("load.min_requests", "must be ≥ 1 and at most %d, got %d", maxRequests, l.MinRequests)
	}
	if !l.HasSLO() && c.loc.given("load.slo") && !c.loc.given("load.slo.latency") {
		bad("load.slo", "an slo needs latency (slo: {percentile: 99, latency: 20ms}); without it nothing is judged")
	}
	if l.HasSLO() {
		if p := l.SLO.Percentile; !(p > 0 && p < 100) {
			bad("load.slo.percentile", "must be above 0 and below 100 (99 = p99), got %g", p)
		}
		if p := l.SLO.Precision; !(p > 0 && p < 1) {
			bad("load.slo.precision", "must be above 0 and below 1 (0.05 = within 5%%), got %g", p)
		}
	}
	if c.Workload.Kind != "heavy-task" && c.Workload.Rows > 0 && l.RequestRows > c.Workload.Rows {
		bad("load.request_rows", "%d rows per request, but workload.rows uses only %d", l.RequestRows, c.Workload.Rows)
	}
	for i, raw := range c.Strategies {
		name, _ := raw["strategy"].(string)
		if _, known := reg[name]; known && !reg.Serves(name) {
			bad(fmt.Sprintf("strategies[%d].strategy", i), "%s has no serving side yet (server load runs %s)", name, strings.Join(reg.Servers(), ", "))
		}
	}
}

// checkStages: each stage has a duration > 0 and a rate > 0, or a ramp
// of two rates ≥ 0, not both 0; stages replace the qps and concurrency
// sweeps (one staged load, not a cell per value), and together they stay
// within maxLoadDuration and maxRequests.
func checkStages(l LoadSection, bad func(key, format string, args ...any)) {
	if len(l.Stages) == 0 {
		return
	}
	if len(l.QPS) > 0 || len(l.Concurrency) > 0 {
		bad("load.stages", "stages are one load of their own rates: drop load.qps and load.concurrency (or the stages)")
	}
	var total time.Duration
	var requests float64
	for i, s := range l.Stages {
		key := fmt.Sprintf("load.stages[%d]", i)
		if s.Duration <= 0 || s.Duration > maxLoadDuration {
			bad(key+".duration", "must be > 0 and at most %s, got %s", maxLoadDuration, s.Duration)
		}
		total += max(s.Duration, 0)
		from, to := s.Rates()
		switch {
		case len(s.QPS) == 0:
			bad(key+".qps", "missing: give a rate (qps: 200) or a ramp (qps: [200, 800])")
		case len(s.QPS) > 2:
			bad(key+".qps", "%d values: give a rate (qps: 200) or a ramp of two (qps: [200, 800])", len(s.QPS))
		case len(s.QPS) == 1 && (from <= 0 || from > maxQPS):
			bad(key+".qps", "must be > 0 and at most %d requests/s, got %g", maxQPS, from)
		case from < 0 || to < 0 || from > maxQPS || to > maxQPS:
			bad(key+".qps", "a ramp's rates must be ≥ 0 and at most %d requests/s, got [%g, %g]", maxQPS, from, to)
		case from == 0 && to == 0:
			bad(key+".qps", "a ramp from 0 to 0 sends nothing")
		}
		requests += (from + to) / 2 * max(s.Duration, 0).Seconds()
	}
	if total > maxLoadDuration {
		bad("load.stages", "the stages last %s, more than %s", total, maxLoadDuration)
	}
	if requests > maxRequests {
		bad("load.stages", "the stages would send ~%.0f requests, more than %d", requests, maxRequests)
	}
	// The stages' figures need every request's start and end (16 bytes)
	// even without records.
	key, per := "load.stages", 16.0
	if l.Records {
		key, per = "load.records", recordBytes
	}
	if b := requests * per; b > MaxRecordsBytes {
		bad(key, "the stages' ~%.0f requests would hold %.0f MB (%.0f bytes each), more than %d MB: shorten or lower the stages", requests, b/(1<<20), per, MaxRecordsBytes>>20)
	}
}

// checkSweep: the loads of a sweep are distinct (each names a cell), the
// closed loop's levels within MaxConcurrency, and a cap at least 1 (0:
// none, the default a written-out config repeats).
func checkSweep(l LoadSection, bad func(key, format string, args ...any)) {
	for _, sw := range []struct {
		key  string
		vals IntList
	}{{"load.qps", l.QPS}, {"load.concurrency", l.Concurrency}} {
		seen := map[int]int{}
		for i, v := range sw.vals {
			if j, dup := seen[v]; dup {
				bad(fmt.Sprintf("%s[%d]", sw.key, i), "%d repeats %s[%d]: each load of a sweep is a cell of its own name", v, sw.key, j)
			}
			seen[v] = i
		}
	}
	for i, n := range l.Concurrency {
		if n < 1 || n > MaxConcurrency {
			bad(fmt.Sprintf("load.concurrency[%d]", i), "must be ≥ 1 and at most %d clients, got %d", MaxConcurrency, n)
		}
	}
	if l.MaxInFlight < 0 || l.MaxInFlight > MaxConcurrency {
		bad("load.max_in_flight", "must be ≥ 1 and at most %d requests (0 or none: no cap), got %d", MaxConcurrency, l.MaxInFlight)
	}
	if l.MaxInFlight > 0 && len(l.QPS) == 0 && len(l.Stages) == 0 && !l.hasArrival(ArrivalTrace) && !(len(l.Concurrency) == 0 && l.HasSLO()) {
		bad("load.max_in_flight", "caps the open loop (load.qps): a closed loop's concurrency is its own cap")
	}
}

// MaxRecordsBytes bounds what one load's records may hold (RecordBytes a
// request; serve.RecordBytes is 80, restated here to keep config free of
// runner/serve).
const (
	MaxRecordsBytes = 1 << 30
	recordBytes     = 80
)

// checkRecords refuses records whose largest fixed load would hold more
// than MaxRecordsBytes: the requests its schedule makes (the longer of
// duration at the highest qps and min_requests), or, for a closed loop,
// what a load may reserve (4·2²⁰ requests).
func checkRecords(l LoadSection, bad func(key, format string, args ...any)) {
	if !l.Records {
		return
	}
	n := float64(l.MinRequests)
	for _, q := range l.QPS {
		n = max(n, float64(q)*l.Duration.Seconds())
	}
	if len(l.Concurrency) > 0 {
		n = max(n, 4<<20)
	}
	if b := n * recordBytes; b > MaxRecordsBytes {
		bad("load.records", "a load of ~%.0f requests would hold %.0f MB of records (%d bytes each), more than %d MB: shorten load.duration or lower load.qps",
			n, b/(1<<20), recordBytes, MaxRecordsBytes>>20)
	}
}

// checkTraceSizes: a trace that sizes its requests sets their rows, so
// request_rows stays 1, and its largest fits the dataset.
func checkTraceSizes(c *Config, tr load.Trace, bad func(key, format string, args ...any)) {
	m := tr.MaxRows()
	switch {
	case m == 0:
	case c.Load.RequestRows != 1:
		bad("load.request_rows", "the trace gives each request's rows (its second column): leave request_rows at 1")
	case m > maxRequestRows:
		bad("load.trace", "a request of %d rows, more than %d", m, maxRequestRows)
	case c.Workload.Kind != "heavy-task" && c.Workload.Rows > 0 && m > c.Workload.Rows:
		bad("load.trace", "a request of %d rows, but workload.rows uses only %d", m, c.Workload.Rows)
	}
}

// checkPatterns checks each arrival of load.arrival (load.arrival[i] in
// a list: distinct, each a pattern that can pace every load), and that
// the trace and shape keys have an arrival that uses them.
func checkPatterns(c *Config, bad func(key, format string, args ...any)) {
	l := c.Load
	arr := l.Arrivals()
	if c.loc.given("load.arrival") && len(l.Arrival) == 0 {
		bad("load.arrival", "an empty list serves nothing; give a pattern (poisson) or a list of them")
		return
	}
	if len(arr) > 1 && len(l.QPS) == 0 && len(l.Stages) == 0 && len(l.Concurrency) > 0 {
		bad("load.arrival", "a list compares open-loop arrivals, but load.concurrency's closed loop has none: add load.qps (or give one arrival)")
	}
	seen := map[string]int{}
	for i, a := range arr {
		key := "load.arrival"
		if len(arr) > 1 {
			key = fmt.Sprintf("load.arrival[%d]", i)
		}
		if j, dup := seen[a]; dup {
			bad(key, "%s repeats load.arrival[%d]: each arrival is a set of cells of its own name", a, j)
			continue
		}
		seen[a] = i
		checkPattern(c, a, key, bad)
	}
	if (l.Trace != "" || l.TimeScale != 1) && !l.hasArrival(ArrivalTrace) {
		bad("load.trace", "a trace (and time_scale) needs arrival: trace (load.arrival is %s)", strings.Join(arr, ", "))
	}
	if l.Shape != 1 && !l.hasArrival(ArrivalGamma) {
		bad("load.shape", "shape %g shapes gamma arrivals only (load.arrival is %s)", l.Shape, strings.Join(arr, ", "))
	}
}

// checkPattern: arrival a (at key) names a pattern of runner/load's
// registry (the one runner/serve runs), and the pattern can pace every
// load of the sweep.
func checkPattern(c *Config, a, key string, bad func(key, format string, args ...any)) {
	l := c.Load
	p, err := load.Default().Lookup(a)
	if err != nil {
		bad(key, "%v", err)
		return
	}
	spec := load.Spec{Rate: 1, Shape: l.Shape}
	switch {
	case a == ArrivalTrace && l.Trace == "":
		bad("load.trace", "arrival: trace needs load.trace, a CSV of arrival offsets in seconds")
		return
	case a == ArrivalTrace:
		tr, err := load.ReadTrace(c.Abs(l.Trace), l.TimeScale)
		if err != nil {
			bad("load.trace", "%v", err)
			return
		}
		spec.Trace = &tr
		checkTraceSizes(c, tr, bad)
	}
	if a != ArrivalGamma {
		spec.Shape = 1
	}
	if _, err := p.New(spec); err != nil {
		bad("load.shape", "%s: %v", a, err)
		return
	}
	for i, q := range l.QPS {
		if q <= 0 || q > maxQPS {
			continue // reported at load.qps
		}
		spec.Rate = float64(q)
		if _, err := p.New(spec); err != nil {
			bad(fmt.Sprintf("load.qps[%d]", i), "%s: %v", a, err)
		}
	}
}
