package results

import (
	"fmt"
	"io"
	"strings"
)

// Serving is a server-scenario cell's figures (docs/METRICS.md, "Serving"):
// requests of RequestRows rows arrived open-loop at TargetQPS; latency
// runs from each request's scheduled arrival to its completion.
type Serving struct {
	Arrival string `json:"arrival"` // poisson | constant | closed (a closed loop)
	// Shape is gamma arrivals' shape (CV 1/√shape).
	Shape       float64 `json:"shape,omitempty"`
	Seed        uint64  `json:"seed"`
	RequestRows int     `json:"request_rows"`
	// RequestRowsMean is, for a trace that sizes its requests (rows
	// column), their mean rows (RequestRows then does not apply).
	RequestRowsMean float64 `json:"request_rows_mean,omitempty"`
	TargetQPS       float64 `json:"target_qps"`
	// OfferedQPS is the schedule's own rate; AchievedQPS completions per
	// second from the first arrival to the last completion.
	OfferedQPS  float64 `json:"offered_qps"`
	AchievedQPS float64 `json:"achieved_qps"`
	Requests    int     `json:"requests"`
	Completed   int     `json:"completed"`
	Unfinished  int     `json:"unfinished"`
	// Concurrency is a closed-loop cell's clients (0: open loop).
	Concurrency int `json:"concurrency,omitempty"`
	// MaxInFlight is the open loop's cap (0: none); Dropped the arrivals
	// it refused (never sent, counted in Requests).
	MaxInFlight int `json:"max_in_flight,omitempty"`
	Dropped     int `json:"dropped,omitempty"`
	// Servers is how many goroutines served at once.
	Servers         int     `json:"servers"`
	DurationSeconds float64 `json:"duration_seconds"`
	Latency         Latency `json:"latency_seconds"`
	Queueing        Latency `json:"queueing_seconds"`
	Service         Latency `json:"service_seconds"`
	// SchedulingError is the load generator's: actual − scheduled send.
	SchedulingError Latency `json:"scheduling_error_seconds"`
	// QueueGrowth is the slope of queueing delay against arrival time.
	QueueGrowth float64 `json:"queue_growth"`
	// Saturated: the cell did not keep up (achieved more than 5% below
	// offered, the queue growing, or requests left unfinished).
	Saturated       bool   `json:"saturated"`
	SaturatedReason string `json:"saturated_reason,omitempty"`
	SLO             *SLO   `json:"slo,omitempty"`
	// BatchSizes counts inference calls by the requests they served
	// ("1": 812, "4": 30); the batcher's formed batches.
	BatchSizes map[string]int64 `json:"batch_sizes,omitempty"`
	// HistogramLog is the file (beside results.json) holding this cell's
	// latency histogram in HdrHistogram's interval log format.
	HistogramLog string `json:"histogram_log,omitempty"`
	// RecordsFile is the file (beside results.json) holding one row per
	// served request of this load (load.records; fixed loads only).
	RecordsFile string `json:"records_file,omitempty"`
	// Search is set on a strategy's SLO-search cell.
	Search *Search `json:"search,omitempty"`
	// Stages are a staged load's (load.stages) figures, stage by stage;
	// the fields above are the whole load's.
	Stages []Stage `json:"stages,omitempty"`
}

// Stage is one stage of a staged load (docs/METRICS.md, "Stages"): its
// requests are those scheduled to arrive within it, wherever they
// completed.
type Stage struct {
	Stage int `json:"stage"` // from 1
	// FromQPS and ToQPS are its target rate at its start and end (equal:
	// no ramp); StartSeconds its start from the load's.
	FromQPS         float64 `json:"from_qps"`
	ToQPS           float64 `json:"to_qps"`
	StartSeconds    float64 `json:"start_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	// OfferedQPS is its arrivals' own rate; AchievedQPS its completions
	// per second from its first arrival to its last completion.
	OfferedQPS  float64 `json:"offered_qps"`
	AchievedQPS float64 `json:"achieved_qps"`
	Requests    int     `json:"requests"`
	Completed   int     `json:"completed"`
	Unfinished  int     `json:"unfinished"`
	Dropped     int     `json:"dropped"`
	Latency     Latency `json:"latency_seconds"`
	Queueing    Latency `json:"queueing_seconds"`
	Service     Latency `json:"service_seconds"`
	QueueGrowth float64 `json:"queue_growth"`
	// Saturated as for a whole load, judged on this stage's requests.
	Saturated       bool   `json:"saturated"`
	SaturatedReason string `json:"saturated_reason,omitempty"`
	// SLO: its goodput and misses (with load.slo); Met when it was not
	// saturated and its percentile was within the latency.
	SLO *SLO `json:"slo,omitempty"`
}

// SLO is a server cell's standing against the latency objective.
type SLO struct {
	Percentile     float64 `json:"percentile"`
	LatencySeconds float64 `json:"latency_seconds"`
	// MissedFraction is the share of completed requests slower than the
	// SLO; GoodputQPS those that met it, per second.
	MissedFraction float64 `json:"missed_fraction"`
	GoodputQPS     float64 `json:"goodput_qps"`
	// GoodFraction is the share of all requests (dropped and unfinished
	// ones too) that completed within the SLO.
	GoodFraction float64 `json:"good_fraction"`
	// Met: every LoadGen rule held (FailedRule names the first that did
	// not: saturated, min_duration, min_requests, early_stopping).
	Met        bool   `json:"met"`
	FailedRule string `json:"failed_rule,omitempty"`
	Detail     string `json:"detail,omitempty"`
}

// Search is the highest QPS a strategy sustains within the SLO.
type Search struct {
	// MaxSustainableQPS is the highest load that met every rule (0: none),
	// the sweep's fixed loads included: never below one that passed.
	MaxSustainableQPS float64 `json:"max_sustainable_qps"`
	// UpperQPS is the lowest load above it that failed twice running (0:
	// none found); the capacity lies between the two.
	UpperQPS float64 `json:"upper_qps,omitempty"`
	// MaxConcurrency and UpperConcurrency are a closed-loop search's
	// bracket in clients (MaxSustainableQPS is then the throughput at
	// MaxConcurrency, UpperQPS at UpperConcurrency).
	MaxConcurrency   int          `json:"max_concurrency,omitempty"`
	UpperConcurrency int          `json:"upper_concurrency,omitempty"`
	Precision        float64      `json:"precision"`
	Steps            []SearchStep `json:"steps"`
	// Note says why there is no max (no load met the SLO).
	Note string `json:"note,omitempty"`
}

// SearchStep is one load the search tried, in order.
type SearchStep struct {
	QPS float64 `json:"qps"`
	// Concurrency is a closed-loop step's clients (QPS is then 0).
	Concurrency       int     `json:"concurrency,omitempty"`
	AchievedQPS       float64 `json:"achieved_qps"`
	Requests          int     `json:"requests"`
	OverSLO           int     `json:"over_slo"`
	PercentileSeconds float64 `json:"percentile_seconds"`
	P99Seconds        float64 `json:"p99_seconds"`
	Passed            bool    `json:"passed"`
	FailedRule        string  `json:"failed_rule,omitempty"`
	Detail            string  `json:"detail,omitempty"`
	// Fixed: a load of the sweep (load.qps), measured before the search;
	// Repeat: the failed load before it measured again to confirm it.
	Fixed  bool `json:"fixed,omitempty"`
	Repeat bool `json:"repeat,omitempty"`
}

// StageCells are c's stages as server cells of their own ("stage 2:
// 200→800/s"), for the tables: the serving table's columns show them.
func StageCells(c *Cell) []Cell {
	if c.Serving == nil {
		return nil
	}
	out := make([]Cell, len(c.Serving.Stages))
	for i, st := range c.Serving.Stages {
		rate := fmt.Sprintf("%g/s", st.FromQPS)
		if st.ToQPS != st.FromQPS {
			rate = fmt.Sprintf("%g→%g/s", st.FromQPS, st.ToQPS)
		}
		out[i] = Cell{Name: fmt.Sprintf("stage %d: %s", st.Stage, rate), Status: StatusOK, Strategy: c.Strategy,
			Serving: &Serving{Arrival: c.Serving.Arrival, TargetQPS: (st.FromQPS + st.ToQPS) / 2, OfferedQPS: st.OfferedQPS,
				AchievedQPS: st.AchievedQPS, Requests: st.Requests, Completed: st.Completed, Unfinished: st.Unfinished, Dropped: st.Dropped,
				DurationSeconds: st.DurationSeconds, Latency: st.Latency, Queueing: st.Queueing, Service: st.Service,
				QueueGrowth: st.QueueGrowth, Saturated: st.Saturated, SaturatedReason: st.SaturatedReason, SLO: st.SLO}}
	}
	return out
}

// ServingColumns are the serving table's columns (the terminal's and the
// report's), from the metric list.
func ServingColumns(run *Run) []Column { return servingTableColumns(run) }

// IsServer reports whether the cell ran under server load.
func (c *Cell) IsServer() bool { return c.Serving != nil }

// servingMetrics are a server cell's figures (NULL for offline cells, and
// for a server cell that was not measured), the part of the metric list
// (metrics.go) that the table of server cells shows.
var servingMetrics = []Metric{
	// A closed loop offers no rate of its own (its clients wait for their
	// replies): its target and offered rates are NULL and "-", not 0.
	{Name: "target_qps", Unit: "requests/s", Type: f64, Value: servingOf(func(s *Serving) any { return openLoop(s, s.TargetQPS) })},
	{Name: "offered_qps", Unit: "requests/s", Type: f64, Value: servingOf(func(s *Serving) any { return openLoop(s, s.OfferedQPS) }),
		ServingTable: col("offered/s", func(c *Cell) string {
			if c.Serving.ClosedLoop() {
				return "-"
			}
			return Num(c.Serving.OfferedQPS)
		})},
	{Name: "achieved_qps", Unit: "requests/s", Better: Higher, Type: f64, Value: servingOf(func(s *Serving) any { return s.AchievedQPS }),
		ServingTable: col("achieved/s", func(c *Cell) string { return Num(c.Serving.AchievedQPS) })},
	// The latency from the scheduled arrival: the flat files carry it as
	// the cell's latency_*_seconds.
	{perPercentile: servingPercentile},
	{Name: "queueing_p99_seconds", Unit: "s", Better: Lower, Type: f64, Value: servingOf(func(s *Serving) any { return s.Queueing.P99 }),
		ServingTable: col("queue p99", func(c *Cell) string { return Dur(c.Serving.Queueing.P99) })},
	{Name: "service_p99_seconds", Unit: "s", Better: Lower, Type: f64, Value: servingOf(func(s *Serving) any { return s.Service.P99 }),
		ServingTable: col("service p99", func(c *Cell) string { return Dur(c.Serving.Service.P99) })},
	{Name: "saturated", Type: bln, Value: servingOf(func(s *Serving) any { return s.Saturated }),
		// bench.txt: 1 saturated, 0 not (its reason on a comment line).
		Rep: func(c *Cell, _ Repetition) float64 {
			switch {
			case c.Serving == nil:
				return -1
			case c.Serving.Saturated:
				return 1
			}
			return 0
		},
		Bench: []BenchUnit{{Unit: UnitSaturated, Better: Lower, Zero: true}},
		ServingTable: []Column{{Header: "saturated", Text: func(c *Cell) string {
			if c.Serving.Saturated {
				return "YES"
			}
			return "no"
		}, Note: func(c *Cell) string { return c.Serving.SaturatedReason }}}}, // the report's: the reason beside it
	{Name: "saturated_reason", Type: str, Value: servingOf(func(s *Serving) any { return NullIfZero(s.SaturatedReason) })},
	{Name: "dropped", Type: i64, Value: servingOf(func(s *Serving) any { return int64(s.Dropped) })},
	{Name: "slo_missed_fraction", Better: Lower, Type: f64, Value: servingOf(func(s *Serving) any { return sloOr(s, func(x *SLO) any { return x.MissedFraction }) }),
		ServingTable: col("over SLO", func(c *Cell) string {
			if c.Serving.SLO == nil {
				return "-"
			}
			return fmt.Sprintf("%.2f%%", 100*c.Serving.SLO.MissedFraction)
		})},
	{Name: "goodput_qps", Unit: "requests/s", Better: Higher, Type: f64, Value: servingOf(func(s *Serving) any { return sloOr(s, func(x *SLO) any { return x.GoodputQPS }) }),
		Rep: goodputOf(func(x *SLO) float64 { return x.GoodputQPS }), Bench: []BenchUnit{{Unit: UnitGoodput, Better: Higher}},
		ServingTable: col("goodput/s", func(c *Cell) string {
			if c.Serving.SLO == nil {
				return "-"
			}
			return Num(c.Serving.SLO.GoodputQPS)
		})},
	{Name: "goodput_fraction", Better: Higher, Type: f64, Value: servingOf(func(s *Serving) any { return sloOr(s, func(x *SLO) any { return x.GoodFraction }) }),
		Rep: goodputOf(func(x *SLO) float64 { return x.GoodFraction }), Bench: []BenchUnit{{Unit: UnitGoodFraction, Better: Higher, Zero: true}},
		ServingTable: col("good", func(c *Cell) string {
			if c.Serving.SLO == nil {
				return "-"
			}
			return fmt.Sprintf("%.1f%%", 100*c.Serving.SLO.GoodFraction)
		})},
	{Name: "slo_met", Type: bln, Value: servingOf(func(s *Serving) any { return sloOr(s, func(x *SLO) any { return x.Met }) })},
	{Name: "max_sustainable_qps", Unit: "requests/s", Better: Higher, Type: f64, Value: func(c *Cell) any {
		if c.Serving == nil || c.Serving.Search == nil {
			return nil
		}
		return c.Serving.Search.MaxSustainableQPS
	},
		ServingTable: col("max QPS", func(c *Cell) string {
			if c.Serving.Search == nil {
				return "-"
			}
			return Num(c.Serving.Search.MaxSustainableQPS)
		})},
	{Name: "max_concurrency", Type: i64, Value: func(c *Cell) any {
		if c.Serving == nil || c.Serving.Search == nil || c.Serving.Search.MaxConcurrency == 0 {
			return nil
		}
		return int64(c.Serving.Search.MaxConcurrency)
	}},
}

// goodputOf reads an SLO figure for bench.txt (-1, none: no SLO).
func goodputOf(get func(*SLO) float64) func(c *Cell, _ Repetition) float64 {
	return func(c *Cell, _ Repetition) float64 {
		if c.Serving == nil || c.Serving.SLO == nil {
			return -1
		}
		return get(c.Serving.SLO)
	}
}

// ClosedLoop reports whether the load was a closed loop's: clients that
// each send their next request when the last returns (a concurrency
// search's cell holds its outcome at the clients it found).
func (s *Serving) ClosedLoop() bool { return s.Concurrency > 0 }

// openLoop is v for an open-loop load, NULL for a closed loop's.
func openLoop(s *Serving, v float64) any {
	if s.ClosedLoop() {
		return nil
	}
	return v
}

func sloOr(s *Serving, get func(*SLO) any) any {
	if s.SLO == nil {
		return nil
	}
	return get(s.SLO)
}

// writeServingTable prints the server cells' own figures under the table:
// offered and achieved QPS, latency from the scheduled arrival (the run's
// percentiles), p99 queueing and service, SLO misses, goodput, saturation, and
// each SLO search's max sustainable QPS with its steps.
func writeServingTable(run *Run, w io.Writer) error {
	var server []*Cell
	for i := range run.Cells {
		if run.Cells[i].Serving != nil && Measured(run.Cells[i].Status) {
			server = append(server, &run.Cells[i])
		}
	}
	if len(server) == 0 {
		return nil
	}
	fmt.Fprintln(w, "serving (latency from the scheduled arrival):")
	if err := writeColumns(w, server, servingTableColumns(run)); err != nil {
		return err
	}
	for _, c := range server {
		if s := c.Serving.Search; s != nil && c.Serving.SLO != nil {
			var steps []string
			for _, st := range s.Steps {
				word := "met"
				if !st.Passed {
					word = st.FailedRule
				}
				switch {
				case st.Fixed:
					word += " (fixed)"
				case st.Repeat:
					word += " (again)"
				}
				load := fmt.Sprintf("%.0f", st.QPS)
				if st.Concurrency > 0 {
					load = fmt.Sprintf("%d clients", st.Concurrency)
				}
				steps = append(steps, load+" "+word)
			}
			head := fmt.Sprintf("max sustainable %.0f requests/s", s.MaxSustainableQPS)
			if c.Serving.ClosedLoop() || s.MaxConcurrency > 0 {
				head = fmt.Sprintf("max concurrency %d (%.0f requests/s there)", s.MaxConcurrency, s.MaxSustainableQPS)
			}
			fmt.Fprintf(w, "  %s: %s (p%g ≤ %s, ±%.0f%%); tried %s\n", c.Name, head,
				c.Serving.SLO.Percentile, Dur(c.Serving.SLO.LatencySeconds), 100*s.Precision, strings.Join(steps, ", "))
			if s.Note != "" {
				fmt.Fprintf(w, "    %s\n", s.Note)
			}
		}
	}
	for _, c := range server {
		if len(c.Serving.Stages) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s, stage by stage:\n", c.Name)
		stages := StageCells(c)
		ptrs := make([]*Cell, len(stages))
		for i := range stages {
			ptrs[i] = &stages[i]
		}
		if err := writeColumns(w, ptrs, servingTableColumns(run)); err != nil {
			return err
		}
		for _, st := range stages {
			if st.Serving.Saturated {
				fmt.Fprintf(w, "    %s saturated: %s\n", st.Name, st.Serving.SaturatedReason)
			}
		}
	}
	for _, v := range run.ServingVerdicts {
		fmt.Fprintln(w, v.Line())
	}
	return nil
}

// ServingVerdict names, per workload and SLO, the strategy whose search
// found the highest QPS within the SLO (runner/serve), and the strategies
// whose search brackets overlap its own: the measurements cannot tell
// them apart, so they are tied with it.
type ServingVerdict struct {
	Group string `json:"group"` // "mlp_large_digits, 1 row per request, p99 ≤ 20ms"
	// Best is the winning search cell (its plan cell's name + "/slo_search");
	// MaxQPS its max sustainable QPS and UpperQPS the lowest load above it
	// that failed (0: none found).
	Best     string   `json:"best,omitempty"`
	MaxQPS   float64  `json:"max_qps,omitempty"`
	UpperQPS float64  `json:"upper_qps,omitempty"`
	Tied     []string `json:"tied,omitempty"`
	// MaxConcurrency and UpperConcurrency are a closed-loop winner's
	// bracket in clients (MaxQPS is then its throughput there).
	MaxConcurrency   int `json:"max_concurrency,omitempty"`
	UpperConcurrency int `json:"upper_concurrency,omitempty"`
	// Reason says why no strategy is named (none met the SLO).
	Reason string `json:"reason,omitempty"`
}

// Line is the verdict as one sentence, for the table and the report.
func (v ServingVerdict) Line() string {
	if v.Best == "" {
		return fmt.Sprintf("%s: serving: no winner (%s)", v.Group, v.Reason)
	}
	s := fmt.Sprintf("%s: serves the most: %s, %.0f QPS", v.Group, v.Best, v.MaxQPS)
	switch {
	case v.MaxConcurrency > 0:
		s += fmt.Sprintf(" at %d clients", v.MaxConcurrency)
		if v.UpperConcurrency > 0 {
			s += fmt.Sprintf(" (fails at %d)", v.UpperConcurrency)
		}
	case v.UpperQPS > 0:
		s += fmt.Sprintf(" (fails at %.0f)", v.UpperQPS)
	}
	if len(v.Tied) > 0 {
		s += " (tied, brackets overlap: " + strings.Join(v.Tied, ", ") + ")"
	}
	return s
}
