package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// WriteFileAtomic writes data to path through a temp file in the same
// directory and a rename, so readers see the old file or the new one, never
// half of one.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Encoder renders a run into one file's bytes.
type Encoder struct {
	File   string
	Encode func(*Run, io.Writer) error
}

// Encoders maps a format name (the config's output.formats words) to its
// encoder. Other packages (reports) add theirs through Register.
var encoders = map[string]Encoder{
	"json":     {File: "results.json", Encode: EncodeJSON},
	"csv":      {File: "results.csv", Encode: EncodeCSV},
	"parquet":  {File: "results.parquet", Encode: EncodeParquet},
	"benchfmt": {File: "bench.txt", Encode: EncodeBenchfmt},
}

// Register adds a format; it is meant to be called from main's wiring.
func Register(name string, e Encoder) { encoders[name] = e }

// Formats lists the known format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(encoders))
	for n := range encoders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the encoder for a format name, or an error listing the valid ones.
func Lookup(name string) (Encoder, error) {
	e, ok := encoders[name]
	if !ok {
		return Encoder{}, fmt.Errorf("unknown format %q (valid: %s)", name, strings.Join(Formats(), ", "))
	}
	return e, nil
}

// WriteAll writes every named format into dir, atomically, and returns the
// paths written. results.json is always written.
func WriteAll(run *Run, dir string, formats []string) ([]string, error) {
	seen := map[string]bool{"json": true}
	names := []string{"json"}
	for _, f := range formats {
		if !seen[f] {
			seen[f] = true
			names = append(names, f)
		}
	}
	var paths []string
	var errs []error
	for _, n := range names {
		enc, err := Lookup(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var buf bytes.Buffer
		if err := enc.Encode(run, &buf); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", enc.File, err))
			continue
		}
		p := filepath.Join(dir, enc.File)
		if err := WriteFileAtomic(p, buf.Bytes()); err != nil {
			errs = append(errs, err)
			continue
		}
		paths = append(paths, p)
	}
	return paths, errors.Join(errs...)
}

// EncodeJSON writes the run as indented JSON.
func EncodeJSON(run *Run, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(run)
}

// ReadJSON reads a results.json, refusing other schemas and broken files with
// a message naming the file.
func ReadJSON(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s: not a results file: %v", path, err)
	}
	if probe.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, this ortbench reads %q", path, probe.Schema, Schema)
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &run, nil
}

// column is one flat column of results.csv and results.parquet: its name,
// Arrow type and how to read it from a cell. value returns float64, int64,
// bool or string.
type column struct {
	name  string
	typ   arrow.DataType
	value func(r *Run, c *Cell) any
}

var (
	f64 = arrow.PrimitiveTypes.Float64
	i64 = arrow.PrimitiveTypes.Int64
	str = arrow.BinaryTypes.String
	bln = arrow.FixedWidthTypes.Boolean
)

// flatColumns is the one list both flat formats are made from, one row per
// cell, so CSV and Parquet cannot drift apart.
var flatColumns = []column{
	{"experiment", str, func(r *Run, c *Cell) any { return r.Experiment.Name }},
	{"cell", str, func(r *Run, c *Cell) any { return c.Name }},
	{"strategy", str, func(r *Run, c *Cell) any { return c.Strategy }},
	{"status", str, func(r *Run, c *Cell) any { return c.Status }},
	{"workers", i64, func(r *Run, c *Cell) any { return int64(c.Params.Workers) }},
	{"intra_op_threads", i64, func(r *Run, c *Cell) any { return int64(c.Params.IntraOpThreads) }},
	{"inter_op_threads", i64, func(r *Run, c *Cell) any { return int64(c.Params.InterOpThreads) }},
	{"batch_size", i64, func(r *Run, c *Cell) any { return int64(c.Params.BatchSize) }},
	{"spinning", bln, func(r *Run, c *Cell) any { return c.Params.Spinning }},
	{"transport", str, func(r *Run, c *Cell) any { return c.Params.Transport }},
	{"start", str, func(r *Run, c *Cell) any { return c.Params.Start }},
	{"start_method", str, func(r *Run, c *Cell) any { return c.Params.StartMethod }},
	{"data", str, func(r *Run, c *Cell) any { return c.Params.Data }},
	{"workload", str, func(r *Run, c *Cell) any { return c.Workload.Kind }},
	{"model", str, func(r *Run, c *Cell) any { return c.Workload.Model }},
	{"dataset", str, func(r *Run, c *Cell) any { return c.Workload.Dataset }},
	{"rows", i64, func(r *Run, c *Cell) any { return int64(c.Workload.Rows) }},
	{"startup_seconds", f64, func(r *Run, c *Cell) any { return c.StartupSeconds }},
	{"wall_seconds", f64, func(r *Run, c *Cell) any { return c.WallSeconds }},
	{"rows_per_second", f64, func(r *Run, c *Cell) any { return c.RowsPerSecond }},
	{"rows_per_second_lo", f64, func(r *Run, c *Cell) any { return c.Throughput.Lo }},
	{"rows_per_second_hi", f64, func(r *Run, c *Cell) any { return c.Throughput.Hi }},
	{"speedup", f64, func(r *Run, c *Cell) any { return c.Speedup }},
	{"speedup_base", str, func(r *Run, c *Cell) any { return c.SpeedupBase }},
	{"efficiency", f64, func(r *Run, c *Cell) any { return c.Efficiency }},
	{"unstable", bln, func(r *Run, c *Cell) any { return c.Unstable }},
	{"latency_p50", f64, func(r *Run, c *Cell) any { return c.Latency.P50 }},
	{"latency_p90", f64, func(r *Run, c *Cell) any { return c.Latency.P90 }},
	{"latency_p99", f64, func(r *Run, c *Cell) any { return c.Latency.P99 }},
	{"latency_p999", f64, func(r *Run, c *Cell) any { return c.Latency.P999 }},
	{"latency_max", f64, func(r *Run, c *Cell) any { return c.Latency.Max }},
	{"cpu_user_seconds", f64, func(r *Run, c *Cell) any { return c.CPU.UserSeconds }},
	{"cpu_system_seconds", f64, func(r *Run, c *Cell) any { return c.CPU.SystemSeconds }},
	{"cpu_utilization", f64, func(r *Run, c *Cell) any { return c.CPU.Utilization }},
	{"peak_rss_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.PeakRSSBytes) }},
	{"rss_sum_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.RSSSumBytes) }},
	{"pss_sum_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.PSSSumBytes) }},
	{"uss_sum_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.USSSumBytes) }},
	{"verified", bln, func(r *Run, c *Cell) any { return c.Verification.Passed }},
	{"mismatches", i64, func(r *Run, c *Cell) any { return int64(c.Verification.Mismatches) }},
	{"max_abs_diff", f64, func(r *Run, c *Cell) any { return c.Verification.MaxAbsDiff }},
	{"repetitions", i64, func(r *Run, c *Cell) any { return int64(len(c.Repetitions)) }},
	{"error", str, func(r *Run, c *Cell) any { return c.Error }},
}

// CSVHeader is the flat column list of results.csv, one row per cell.
var CSVHeader = func() []string {
	names := make([]string, len(flatColumns))
	for i, col := range flatColumns {
		names[i] = col.name
	}
	return names
}()

// CSVRecord flattens one cell in CSVHeader's order.
func CSVRecord(run *Run, c *Cell) []string {
	rec := make([]string, len(flatColumns))
	for i, col := range flatColumns {
		switch v := col.value(run, c).(type) {
		case float64:
			rec[i] = strconv.FormatFloat(v, 'g', 8, 64)
		case int64:
			rec[i] = strconv.FormatInt(v, 10)
		case bool:
			rec[i] = strconv.FormatBool(v)
		case string:
			rec[i] = v
		}
	}
	return rec
}

// EncodeCSV writes one row per cell with flat columns.
func EncodeCSV(run *Run, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for i := range run.Cells {
		if err := cw.Write(CSVRecord(run, &run.Cells[i])); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
