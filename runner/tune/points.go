package tune

import (
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ortbench/ortbench/runner/results"
)

// The points of a finished tune in the flat formats: one row per visited
// point, in the order the search first measured them.
const (
	PointsCSV     = "tune-points.csv"
	PointsParquet = "tune-points.parquet"
)

// pointRow is one visited point and what the flat files say of it beside
// its figures: its measurement in the last step that measured it (the
// runner's own figures and interval there), how many steps measured it,
// and whether it is recommended or on the front.
type pointRow struct {
	order    int
	f        *PointFigures
	last     *Measurement
	lastStep int
	steps    int
	objs     []string
	front    bool
}

// pointColumn is one column of tune-points.csv and .parquet; value
// returns float64, int64, bool, string, time.Time or nil (NULL).
type pointColumn struct {
	name  string
	typ   arrow.DataType
	value func(st *State, r *pointRow) any
}

// Short names for the column tables below.
var f64, i64, str, bln = results.FlatFloat, results.FlatInt, results.FlatString, results.FlatBool

// lastOf reads the point's last measurement (NULL without one).
func lastOf(get func(m *Measurement) any) func(*State, *pointRow) any {
	return func(_ *State, r *pointRow) any {
		if r.last == nil {
			return nil
		}
		return get(r.last)
	}
}

// measuredOf is a figure of the last measurement, NULL unless it has figures.
func measuredOf(get func(m *Measurement) float64) func(*State, *pointRow) any {
	return lastOf(func(m *Measurement) any {
		if !m.Measured() {
			return nil
		}
		return results.NullIfZero(get(m))
	})
}

// headColumns come before the point's settings: the tune, the point's
// place in the search and its words.
var headColumns = []pointColumn{
	{"tune", str, func(st *State, _ *pointRow) any {
		if st.Origin == nil {
			return nil
		}
		return results.NullIfZero(st.Origin.Name)
	}},
	{"started_at", results.FlatTime, func(st *State, _ *pointRow) any { return st.StartedAt }},
	{"order", i64, func(_ *State, r *pointRow) any { return int64(r.order) }},
	{"first_step", i64, func(_ *State, r *pointRow) any { return int64(r.f.FirstStep) }},
	{"last_step", i64, func(_ *State, r *pointRow) any { return int64(r.lastStep) }},
	{"steps_measured", i64, func(_ *State, r *pointRow) any { return int64(r.steps) }},
	{"point", str, func(_ *State, r *pointRow) any { return r.f.Point.String() }},
	{"strategy", str, func(_ *State, r *pointRow) any { return r.f.Point.Strategy }},
}

// figureColumns come after the settings: the verdicts, the figures the
// report shows (on the anchor's scale), then the last measurement's own.
var figureColumns = []pointColumn{
	{"max_threads", i64, func(_ *State, r *pointRow) any { return int64(r.f.Point.Cores()) }},
	{"status", str, func(_ *State, r *pointRow) any {
		if r.f.Failed || r.last == nil {
			return "failed"
		}
		return r.last.Status
	}},
	{"constraints", str, func(_ *State, r *pointRow) any {
		switch {
		case r.f.Failed:
			return nil
		case len(r.f.Violates) > 0:
			return "misses " + strings.Join(r.f.Violates, " ")
		}
		return "met"
	}},
	{"error", str, func(_ *State, r *pointRow) any { return results.NullIfZero(r.f.Error) }},
	{"recommended_for", str, func(_ *State, r *pointRow) any { return results.NullIfZero(strings.Join(r.objs, " ")) }},
	{"pareto_front", bln, func(_ *State, r *pointRow) any { return r.front }},
	{"rows_per_second", f64, func(_ *State, r *pointRow) any { return results.NullIfZero(r.f.RowsPerSecond) }},
	{"latency_p99_seconds", f64, func(_ *State, r *pointRow) any { return results.NullIfZero(r.f.P99) }},
	{"max_qps_under_slo", f64, func(_ *State, r *pointRow) any { return results.NullIfZero(r.f.MaxQPS) }},
	{"max_qps_failed_above", f64, func(_ *State, r *pointRow) any { return results.NullIfZero(r.f.MaxQPSHi) }},
	{"peak_rss_bytes", i64, func(_ *State, r *pointRow) any { return results.NullIfZero(int64(r.f.PeakRSS)) }},
	{"cores_busy", f64, func(_ *State, r *pointRow) any { return results.NullIfZero(r.f.CoresBusy) }},
	{"measured_rows_per_second", f64, measuredOf(func(m *Measurement) float64 { return m.RowsPerSecond })},
	{"measured_rows_per_second_lo", f64, measuredOf(func(m *Measurement) float64 { return m.Lo })},
	{"measured_rows_per_second_hi", f64, measuredOf(func(m *Measurement) float64 { return m.Hi })},
	{"measured_latency_p99_seconds", f64, measuredOf(func(m *Measurement) float64 { return m.P99 })},
	{"measured_p99_at_qps", f64, measuredOf(func(m *Measurement) float64 { return m.P99QPS })},
	{"rounds", i64, lastOf(func(m *Measurement) any { return int64(len(m.Rounds)) })},
	{"disturbed_repetitions", i64, lastOf(func(m *Measurement) any { return int64(m.Disturbed) })},
}

// pointColumns is the one list both flat files are made from: the head,
// one column per parameter key of the points (NULL where a point's
// strategy lacks it; a key whose values differ in type is a string; one
// named like a fixed column is param_KEY), then the figures.
func pointColumns(r *Result) []pointColumn {
	var keys []results.ParamKey
	for _, p := range r.Points {
		for _, q := range p.Point.Params {
			typ := results.TypeOf(q.Value)
			if i := slices.IndexFunc(keys, func(k results.ParamKey) bool { return k.Key == q.Key }); i < 0 {
				keys = append(keys, results.ParamKey{Key: q.Key, Type: typ})
			} else if keys[i].Type != typ {
				keys[i].Type = "string"
			}
		}
	}
	cols := slices.Clone(headColumns)
	for _, k := range keys {
		name := k.Key
		if slices.ContainsFunc(slices.Concat(headColumns, figureColumns), func(c pointColumn) bool { return c.name == name }) {
			name = "param_" + name // the fixed columns keep their names
		}
		cols = append(cols, pointColumn{name: name, typ: results.ArrowType(k.Type), value: func(_ *State, r *pointRow) any {
			v, ok := r.f.Point.Params.Get(k.Key)
			if ok && k.Type == "string" {
				return results.FormatValue(v)
			}
			return v
		}})
	}
	return append(cols, figureColumns...)
}

// pointRows are the result's points with their last measurements.
func pointRows(st *State) []pointRow {
	r := st.Result
	rows := make([]pointRow, len(r.Points))
	for i := range r.Points {
		f := &r.Points[i]
		row := pointRow{order: i, f: f, front: slices.ContainsFunc(r.Front, func(q PointFigures) bool { return q.Point.Same(f.Point) })}
		for _, rec := range r.Recommendations {
			if rec.Point.Same(f.Point) {
				row.objs = append(row.objs, rec.Objective)
			}
		}
		for j := range st.Steps {
			for k := range st.Steps[j].Measurements {
				if m := &st.Steps[j].Measurements[k]; m.Point.Same(f.Point) {
					row.last, row.lastStep = m, st.Steps[j].Index
					row.steps++
				}
			}
		}
		rows[i] = row
	}
	return rows
}

// PointsTable is a finished tune's points as a flat table (CSV, Parquet).
func PointsTable(st *State) results.FlatTable {
	cols := pointColumns(st.Result)
	rows := pointRows(st)
	fc := make([]results.FlatColumn, len(cols))
	for i, c := range cols {
		fc[i] = results.FlatColumn{Name: c.name, Type: c.typ}
	}
	return results.FlatTable{Columns: fc, Rows: len(rows), Metadata: map[string]string{"ortbench.schema": StateSchema},
		Value: func(row, col int) any { return cols[col].value(st, &rows[row]) }}
}
