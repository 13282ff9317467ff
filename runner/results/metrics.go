package results

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// The metric list: every per-cell figure and fact, once, in the order every
// output shows it (docs/METRICS.md, "The metric list"). The flat files
// (CSV, Parquet), bench.txt, the terminal tables, compare and the report's
// summary table iterate it; a new figure is one entry here and its
// definition in docs/METRICS.md.
//
// Note: one struct per output (a column list in write.go, a unit list in
// benchfmt.go, a header string in table.go, …) was how it began; a figure
// then reached every output through ten files, and the outputs drifted.

// Better says which way a figure improves.
type Better int

// The directions: Neither for facts (a count, a word).
const (
	Neither Better = iota
	Higher
	Lower
)

// Word is benchfmt's word for the direction ("higher", "lower", "").
func (b Better) Word() string {
	switch b {
	case Higher:
		return "higher"
	case Lower:
		return "lower"
	}
	return ""
}

// Metric is one per-cell figure and where it is shown.
type Metric struct {
	// Name is its flat column and its key in results.json's and compare's
	// figures: snake_case ending in its unit ("latency_p99_seconds").
	Name string
	// Unit, in the flat column's terms ("rows/s", "s", "B"; "" for counts
	// and words).
	Unit   string
	Better Better
	// Type is the flat column's Arrow type; nil: no flat column (a figure
	// shown in a table only).
	Type arrow.DataType
	// Value reads it for the flat files and results.json's figures:
	// float64, int64, bool, string, or nil where it does not apply (NULL;
	// each entry states its null rule).
	Value func(c *Cell) any
	// Of is the cell's figure as a number: what compare prints, and
	// bench.txt's one reading of a cell without repetitions.
	Of func(c *Cell) float64
	// Rep reads it from one repetition (bench.txt's lines, compare's
	// samples); nil where a repetition has no such reading; 0 = none.
	Rep func(c *Cell, r Repetition) float64
	// JSON: the figure is computed from the cell's stored fields, not a
	// field of Cell itself, so results.json writes it into the cell's
	// "figures" object under Name.
	JSON bool
	// Bench are its bench.txt units, with the repetition's reading converted.
	Bench []BenchUnit
	// Table are its columns in the terminal table, ServingTable in the
	// table of server cells under it.
	Table, ServingTable []Column
	// Report is its column in the HTML report's summary table.
	Report *Column
	// Compare is how compare shows it, old against new.
	Compare *CompareView
	// perPercentile marks a place in the list that holds one metric per
	// run's percentile (Run.Percentiles), made by it.
	perPercentile func(p float64) Metric
}

// BenchUnit is one bench.txt unit of a metric (Unit … better=… line).
type BenchUnit struct {
	Unit   string
	Better Better
	// Convert turns the metric's reading into this unit (nil: as is).
	Convert func(v float64) float64
	// Zero: 0 is a reading (a flag, a share), written; a negative
	// reading is none. Otherwise 0 is none.
	Zero bool
}

// Column is a metric's column in a table.
type Column struct {
	Header string
	// Text prints the cell's figure. It is called for measured cells only
	// (the others print a dash) unless Always.
	Text   func(c *Cell) string
	Always bool
	// Note is muted text after the figure in the report (the interval's ±).
	Note func(c *Cell) string
	// Class is the report's CSS class for the figure (nil: none).
	Class func(c *Cell) string
}

// CompareView is how compare shows a metric: "old LABEL", "new LABEL",
// "vs old" (and the test's p and n, with P).
type CompareView struct {
	Label string
	Text  func(v float64) string
	// Range is a side's ± where the figure has an interval (nil: none).
	Range func(c *Cell) string
	P     bool
}

// Metrics is the run's list, in output order: its percentiles
// (Run.Percentiles) expanded in place.
func Metrics(run *Run) []Metric { return metricsFor(run.Percentiles()) }

// metricsFor is the list with one latency metric per percentile of ps.
func metricsFor(ps []float64) []Metric {
	var out []Metric
	for _, m := range metricList {
		if m.perPercentile == nil {
			out = append(out, m)
			continue
		}
		for _, p := range ps {
			out = append(out, m.perPercentile(p))
		}
	}
	return out
}

// Readings are a metric's readings of a cell: one per repetition, or the
// cell's own figure when it has no repetitions (Rep nil: the cell's alone).
func (m Metric) Readings(c *Cell) []float64 {
	if len(c.Repetitions) == 0 || m.Rep == nil {
		if m.Of == nil {
			return nil
		}
		return []float64{m.Of(c)}
	}
	out := make([]float64, len(c.Repetitions))
	for i, r := range c.Repetitions {
		out[i] = m.Rep(c, r)
	}
	return out
}

// whenMeasured wraps a figure that is NULL for a cell that was not measured.
func whenMeasured(get func(c *Cell) any) func(c *Cell) any {
	return func(c *Cell) any {
		if !Measured(c.Status) {
			return nil
		}
		return get(c)
	}
}

// computeOf reads a roofline figure (NULL without one: the heavy task, a
// cell not measured, FLOPs unknown, no ceiling).
func computeOf(get func(*Compute) any) func(c *Cell) any {
	return func(c *Cell) any {
		if c.Compute == nil || !Measured(c.Status) {
			return nil
		}
		return get(c.Compute)
	}
}

// servingOf reads a server cell's figure (NULL for offline cells and for a
// server cell that was not measured).
func servingOf(get func(s *Serving) any) func(c *Cell) any {
	return func(c *Cell) any {
		if c.Serving == nil || !Measured(c.Status) {
			return nil
		}
		return get(c.Serving)
	}
}

// col is a table column printed with text for measured cells.
func col(header string, text func(c *Cell) string) []Column {
	return []Column{{Header: header, Text: text}}
}

// cpuText is CPU % (cores busy × 100), "n/a" where CPU cannot be trusted.
func cpuText(format string) func(c *Cell) string {
	return func(c *Cell) string {
		if !c.HasCPU() {
			return "n/a"
		}
		return fmt.Sprintf(format, 100*c.CPU.CoresBusy)
	}
}

// verifiedText is the verification verdict: dash without a check, "yes", or
// "NO (" + the mismatches + mismatchWord + ")".
func verifiedText(dash, mismatchWord string) func(c *Cell) string {
	return func(c *Cell) string {
		v := c.Verification
		switch {
		case v.RowsChecked == 0:
			return dash
		case v.Passed:
			return "yes"
		}
		return fmt.Sprintf("NO (%d%s)", v.Mismatches, mismatchWord)
	}
}

// latencyPercentile is one of the run's percentiles in every output, with
// a reading per repetition (a server cell's one repetition is the cell).
// Compare shows the tail (p99 and above).
func latencyPercentile(p float64) Metric {
	get := func(c *Cell) float64 { return c.Latency.At(p) }
	header := PercentileName(p)
	text := func(c *Cell) string { return Dur(get(c)) }
	m := Metric{Name: percentileColumn(p), Unit: "s", Better: Lower, Type: f64,
		Value: whenMeasured(func(c *Cell) any { return get(c) }), Of: get,
		Bench: []BenchUnit{{Unit: PercentileUnit(p), Better: Lower, Convert: func(v float64) float64 { return v * 1e9 }}},
		Table: col(header, text), Report: &Column{Header: header, Text: text}}
	m.Rep = func(c *Cell, r Repetition) float64 {
		switch {
		case p == 50:
			return r.P50Seconds
		case p == 99:
			return r.P99Seconds
		case c.Serving != nil:
			return get(c)
		}
		return r.Latency[header]
	}
	if p >= 99 {
		m.Compare = &CompareView{Label: header, Text: Dur}
	}
	return m
}

// servingPercentile is a server cell's latency from the scheduled arrival
// at one of the run's percentiles, in the serving table.
func servingPercentile(p float64) Metric {
	return Metric{Name: "serving_" + PercentileName(p), ServingTable: col(PercentileName(p), func(c *Cell) string { return Dur(c.Serving.Latency.At(p)) })}
}

func bytesMetric(name, header string, get func(m Memory) uint64) Metric {
	m := Metric{Name: name, Unit: "B", Better: Lower, Type: i64,
		Value: whenMeasured(func(c *Cell) any { return NullIfZero(int64(get(c.Memory))) }),
		Of:    func(c *Cell) float64 { return float64(get(c.Memory)) }}
	if header != "" {
		text := func(c *Cell) string { return Bytes(get(c.Memory)) }
		m.Table, m.Report = col(header, text), &Column{Header: header, Text: text}
	}
	return m
}

func computeMetric(name, unit string, get func(x *Compute) *float64) Metric {
	return Metric{Name: name, Unit: unit, Type: f64, Value: computeOf(func(x *Compute) any { return orNil(get(x)) })}
}

// metricList is the whole list: a cell's figures, then a server cell's
// (serving.go).
var metricList = slices.Concat(cellMetrics, servingMetrics)

var cellMetrics = []Metric{
	{Name: "scenario", Type: str, Value: func(c *Cell) any { return c.Scenario() }},
	{Name: "workload", Type: str, Value: func(c *Cell) any { return c.Workload.Kind }},
	{Name: "model", Type: str, Value: func(c *Cell) any { return NullIfZero(c.Workload.Model) }},
	{Name: "dataset", Type: str, Value: func(c *Cell) any { return NullIfZero(c.Workload.Dataset) }},
	{Name: "rows", Type: i64, Value: func(c *Cell) any { return int64(c.Workload.Rows) }},
	{Name: "startup_seconds", Unit: "s", Better: Lower, Type: f64, Value: func(c *Cell) any { return NullIfZero(c.StartupSeconds) }},
	{Name: "wall_seconds", Unit: "s", Type: f64, Value: whenMeasured(func(c *Cell) any { return c.WallSeconds })},
	{Name: "rows_per_second", Unit: "rows/s", Better: Higher, Type: f64,
		Value: whenMeasured(func(c *Cell) any { return c.RowsPerSecond }),
		Of:    func(c *Cell) float64 { return c.RowsPerSecond },
		Rep:   func(_ *Cell, r Repetition) float64 { return r.RowsPerSecond },
		Bench: []BenchUnit{{Unit: UnitRowsPerSec, Better: Higher}, {Unit: UnitNsPerRow, Better: Lower, Convert: func(v float64) float64 { return 1e9 / v }}},
		Table: []Column{{Header: "rows/s", Text: func(c *Cell) string { return Num(c.RowsPerSecond) }},
			{Header: "±95%", Always: true, Text: func(c *Cell) string {
				if !Measured(c.Status) {
					return ""
				}
				return c.Throughput.PctRange()
			}}},
		Report: &Column{Header: "rows/s", Text: func(c *Cell) string { return Num(c.RowsPerSecond) }, Note: func(c *Cell) string { return c.Throughput.PctRange() }},
		Compare: &CompareView{Label: "rows/s", Text: Num, P: true,
			Range: func(c *Cell) string { return c.Throughput.PctRange() }},
	},
	{Name: "rows_per_second_lo", Unit: "rows/s", Type: f64, Value: whenMeasured(func(c *Cell) any { return interval(c.Throughput, c.Throughput.Lo) })},
	{Name: "rows_per_second_hi", Unit: "rows/s", Type: f64, Value: whenMeasured(func(c *Cell) any { return interval(c.Throughput, c.Throughput.Hi) })},
	{Name: "rows_per_second_confidence", Type: f64, Value: whenMeasured(func(c *Cell) any { return interval(c.Throughput, c.Throughput.Confidence) })},
	{Name: "speedup", Unit: "x", Better: Higher, Type: f64, Value: func(c *Cell) any { return speedupOr(c, c.Speedup) },
		Table: col("speedup", (*Cell).SpeedupText), Report: &Column{Header: "speedup", Text: (*Cell).SpeedupText}},
	{Name: "speedup_lo", Unit: "x", Type: f64, Value: func(c *Cell) any { return speedupBound(c, func(s *Summary) float64 { return s.Lo }) }},
	{Name: "speedup_hi", Unit: "x", Type: f64, Value: func(c *Cell) any { return speedupBound(c, func(s *Summary) float64 { return s.Hi }) }},
	{Name: "speedup_base", Type: str, Value: func(c *Cell) any { return NullIfZero(c.SpeedupBase) }},
	{Name: "efficiency", Better: Higher, Type: f64, Value: func(c *Cell) any { return speedupOr(c, c.Efficiency) },
		Table:  col("eff", func(c *Cell) string { return speedupFormat(c, "%.2f", c.Efficiency) }),
		Report: &Column{Header: "efficiency", Text: func(c *Cell) string { return speedupFormat(c, "%.0f%%", 100*c.Efficiency) }}},
	{Name: "cores_used", Type: i64, Value: func(c *Cell) any { return int64(c.CoresUsed) }},
	{perPercentile: latencyPercentile},
	{Name: "latency_max_seconds", Unit: "s", Better: Lower, Type: f64,
		Value: whenMeasured(func(c *Cell) any { return c.Latency.Max }), Of: func(c *Cell) float64 { return c.Latency.Max }},
	{Name: "cpu_user_seconds", Unit: "s", Type: f64, Value: whenMeasured(func(c *Cell) any { return c.CPU.UserSeconds })},
	{Name: "cpu_system_seconds", Unit: "s", Type: f64, Value: whenMeasured(func(c *Cell) any { return c.CPU.SystemSeconds })},
	{Name: "cpu_cores_busy", Type: f64, Value: whenMeasured(func(c *Cell) any { return cpuOr(c, c.CPU.CoresBusy) }),
		Table: col("CPU%", cpuText("%.0f")), Report: &Column{Header: "CPU %", Text: cpuText("%.0f%%")}},
	{Name: "cpu_utilization_fraction", Type: f64, Value: whenMeasured(func(c *Cell) any { return cpuOr(c, c.CPU.Utilization) })},
	{Name: "cpu_seconds_per_1k_items", Unit: "s", Better: Lower, Type: f64, JSON: true,
		Value: func(c *Cell) any { return NullIfZero(cpuPer1k(c)) }, Of: cpuPer1k,
		Rep: func(c *Cell, r Repetition) float64 {
			if c.Serving != nil { // a server cell's one repetition is the cell
				return cpuPer1k(c)
			}
			return per1k(r.CPUSeconds, c.Workload.Rows*r.Passes)
		},
		Bench:   []BenchUnit{{Unit: "cpu-sec/1k-items", Better: Lower}},
		Table:   col("CPU/1k", cpuPer1kText),
		Report:  &Column{Header: "CPU per 1k", Text: cpuPer1kText},
		Compare: &CompareView{Label: "CPU/1k", Text: Dur}},
	func() Metric {
		m := bytesMetric("peak_rss_bytes", "peak RSS", func(m Memory) uint64 { return m.PeakRSSBytes })
		m.Rep = func(_ *Cell, r Repetition) float64 { return float64(r.PeakRSSBytes) }
		m.Bench = []BenchUnit{{Unit: UnitPeakRSS, Better: Lower}}
		return m
	}(),
	bytesMetric("rss_sum_bytes", "", func(m Memory) uint64 { return m.RSSSumBytes }),
	bytesMetric("pss_sum_bytes", "PSS sum", func(m Memory) uint64 { return m.PSSSumBytes }),
	bytesMetric("uss_sum_bytes", "", func(m Memory) uint64 { return m.USSSumBytes }),
	{Name: "flops_per_row", Type: i64, Value: computeOf(func(x *Compute) any { return NullIfZero(x.FlopsPerRow) })},
	computeMetric("gflops", "GFLOP/s", func(x *Compute) *float64 { return x.GFLOPS }),
	computeMetric("ceiling_gflops", "GFLOP/s", func(x *Compute) *float64 { return x.CeilingGFLOPS }),
	computeMetric("pct_of_ceiling", "%", func(x *Compute) *float64 { return x.PctOfCeiling }),
	computeMetric("pct_of_ceiling_lo", "%", func(x *Compute) *float64 { return x.PctOfCeilingLo }),
	computeMetric("pct_of_ceiling_hi", "%", func(x *Compute) *float64 { return x.PctOfCeilingHi }),
	computeMetric("bytes_per_row", "B", func(x *Compute) *float64 { return x.BytesPerRow }),
	computeMetric("flops_per_byte", "FLOP/B", func(x *Compute) *float64 { return x.FlopsPerByte }),
	computeMetric("ceiling_bandwidth_gbps", "GB/s", func(x *Compute) *float64 { return x.CeilingBandwidthGBPS }),
	computeMetric("attainable_gflops", "GFLOP/s", func(x *Compute) *float64 { return x.AttainableGFLOPS }),
	{Name: "verified", Type: bln, Value: func(c *Cell) any {
		if c.Verification.RowsChecked == 0 {
			return nil
		}
		return c.Verification.Passed
	},
		Table:  []Column{{Header: "verified", Always: true, Text: verifiedText("-", "")}},
		Report: &Column{Header: "verified", Always: true, Text: verifiedText("–", " mismatches"), Class: verifiedClass}},
	{Name: "rows_checked", Type: i64, Value: func(c *Cell) any { return int64(c.Verification.RowsChecked) }},
	{Name: "mismatches", Better: Lower, Type: i64, Value: func(c *Cell) any { return int64(c.Verification.Mismatches) }},
	{Name: "max_abs_diff", Better: Lower, Type: f64, Value: func(c *Cell) any {
		if c.Verification.RowsChecked == 0 {
			return nil
		}
		return c.Verification.MaxAbsDiff
	}},
	{Name: "repetitions", Type: i64, Value: func(c *Cell) any { return int64(len(c.Repetitions)) }},
	{Name: "error", Type: str, Value: func(c *Cell) any { return NullIfZero(c.Error) }},
}

// cpuPer1k is user+system CPU seconds per 1000 items (rows) processed in
// the measured repetitions — a server cell's: its completed requests' rows —
// 0 where the cell has no trusted CPU figure or no items.
func cpuPer1k(c *Cell) float64 {
	if !c.HasCPU() {
		return 0
	}
	items := 0
	for _, r := range c.Repetitions {
		items += c.Workload.Rows * r.Passes
	}
	if s := c.Serving; s != nil {
		items = s.Completed * s.RequestRows
		if s.RequestRowsMean > 0 {
			items = int(float64(s.Completed) * s.RequestRowsMean)
		}
	}
	return per1k(c.CPU.UserSeconds+c.CPU.SystemSeconds, items)
}

func cpuPer1kText(c *Cell) string {
	if v := cpuPer1k(c); v > 0 {
		return Dur(v)
	}
	return "n/a"
}

func per1k(seconds float64, items int) float64 {
	if seconds <= 0 || items <= 0 {
		return 0
	}
	return seconds / float64(items) * 1000
}

func speedupFormat(c *Cell, format string, v float64) string {
	if !c.HasSpeedup() {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

// speedupBound is one end of the paired speedup's interval: NULL without a
// speedup or without a paired interval (a sequential schedule, too few rounds).
func speedupBound(c *Cell, end func(s *Summary) float64) any {
	if !c.HasSpeedup() || c.SpeedupInterval == nil || !c.SpeedupInterval.HasInterval() {
		return nil
	}
	return end(c.SpeedupInterval)
}

func verifiedClass(c *Cell) string {
	switch v := c.Verification; {
	case v.RowsChecked == 0:
		return ""
	case v.Passed:
		return "ok"
	}
	return "bad"
}

// The views: each output's part of the list, in list order.

func tableColumns(run *Run) []Column {
	cols := []Column{{Header: "status", Always: true, Text: func(c *Cell) string { return c.Status }}}
	for _, m := range Metrics(run) {
		cols = append(cols, m.Table...)
	}
	return cols
}

func servingTableColumns(run *Run) []Column {
	var cols []Column
	for _, m := range Metrics(run) {
		cols = append(cols, m.ServingTable...)
	}
	return cols
}

// ReportColumns are the report's summary table columns after the cell's
// name and strategy.
func ReportColumns(run *Run) []Column {
	var cols []Column
	for _, m := range Metrics(run) {
		if m.Report != nil {
			cols = append(cols, *m.Report)
		}
	}
	return cols
}

// Compared are the metrics compare shows of run.
func Compared(run *Run) []Metric {
	var ms []Metric
	for _, m := range Metrics(run) {
		if m.Compare != nil {
			ms = append(ms, m)
		}
	}
	return ms
}

// flatMetrics are the metrics with a flat column.
func flatMetrics(run *Run) []column {
	var cols []column
	for _, m := range Metrics(run) {
		if m.Type != nil {
			value := m.Value
			cols = append(cols, column{m.Name, m.Type, func(_ *Run, c *Cell) any { return value(c) }})
		}
	}
	return cols
}
