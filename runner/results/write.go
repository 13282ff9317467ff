package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ortbench/ortbench/runner/regular"
	"github.com/ortbench/ortbench/runner/tempfiles"
)

// WriteFileAtomic writes data to path through a temp file in the same
// directory and a rename, so readers see the old file or the new one, never
// half of one. The temp file is listed in tempfiles until then, so a quit
// at once (the second Ctrl-C) removes it.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := tempfiles.Create(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer tempfiles.Forget(tmp) // renamed into place or removed below
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

// Formats maps a format name (the config's output.formats words) to its
// encoder: a registry built in main and passed in, never a global.
type Formats map[string]Encoder

// BaseFormats are the formats this package writes itself; main adds the
// HTML report's.
func BaseFormats() Formats {
	return Formats{
		"json":     {File: "results.json", Encode: EncodeJSON},
		"csv":      {File: "results.csv", Encode: EncodeCSV},
		"parquet":  {File: "results.parquet", Encode: EncodeParquet},
		"benchfmt": {File: "bench.txt", Encode: EncodeBenchfmt},
		"markdown": {File: "summary.md", Encode: EncodeMarkdown},
	}
}

// Names lists the format names, sorted.
func (f Formats) Names() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the encoder for a format name, or an error listing the valid ones.
func (f Formats) Lookup(name string) (Encoder, error) {
	e, ok := f[name]
	if !ok {
		return Encoder{}, fmt.Errorf("unknown format %q (valid: %s)", name, strings.Join(f.Names(), ", "))
	}
	return e, nil
}

// WriteAll writes the named formats (none named: all of them) into dir as
// one set (see manifest.go): every file is encoded first; results.json,
// the authoritative file, is written first, then the files derived from
// it, then manifest.json naming each with its SHA-256, last. Each write is
// atomic. It returns the paths written.
func (f Formats) WriteAll(run *Run, dir string, formats []string) ([]string, error) {
	if len(formats) == 0 {
		formats = f.Names()
	}
	seen := map[string]bool{"json": true}
	names := []string{"json"}
	for _, n := range formats {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	var files []setFile
	var errs []error
	for _, n := range names {
		enc, err := f.Lookup(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var buf bytes.Buffer
		if err := enc.Encode(run, &buf); err != nil {
			if n == "json" {
				// Without the authoritative file there is no set to write.
				return nil, fmt.Errorf("%s: %w", enc.File, err)
			}
			errs = append(errs, fmt.Errorf("%s: %w", enc.File, err))
			continue
		}
		files = append(files, setFile{enc.File, buf.Bytes()})
	}
	return writeSet(run, dir, files, errs) // writeset.go
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
	data, err := regular.ReadFile(path, MaxJSONBytes)
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
	run.markUnfinished() // incomplete.go
	return &run, nil
}

// column is one flat column of results.csv and results.parquet: its name
// (with its unit), Arrow type and how to read it from a cell. value returns
// float64, int64, bool, string, or nil for NULL (a figure that does not apply).
type column struct {
	name  string
	typ   arrow.DataType
	value func(r *Run, c *Cell) any
}

// Short names for the column tables below and in metrics.go.
var f64, i64, str, bln, tsp = FlatFloat, FlatInt, FlatString, FlatBool, FlatTime

// runColumns identify the run on every row, so the files of several runs
// concatenate (pandas.concat, DuckDB's read_parquet('…/*.parquet')).
var runColumns = []column{
	{"run_id", str, func(r *Run, c *Cell) any { return r.RunID }},
	{"experiment", str, func(r *Run, c *Cell) any { return r.Experiment.Name }},
	{"config_sha256", str, func(r *Run, c *Cell) any { return r.Experiment.ConfigSHA256 }},
	{"started_at", tsp, func(r *Run, c *Cell) any { return r.StartedAt }},
	{"host", str, func(r *Run, c *Cell) any { return r.Environment.Hostname }},
	{"cpu_model", str, func(r *Run, c *Cell) any { return r.Environment.CPUModel }},
	{"logical_cores", i64, func(r *Run, c *Cell) any { return int64(r.Environment.LogicalCores) }},
	{"git_commit", str, func(r *Run, c *Cell) any { return r.Environment.GitCommit }},
	{"onnxruntime_version", str, func(r *Run, c *Cell) any { return NullIfZero(r.Environment.OnnxruntimeVersion) }},
	{"cell", str, func(r *Run, c *Cell) any { return c.Name }},
	{"strategy", str, func(r *Run, c *Cell) any { return c.Strategy }},
	{"status", str, func(r *Run, c *Cell) any { return c.Status }},
}

func orNil(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func interval(s Summary, v float64) any {
	if !s.HasInterval() {
		return nil
	}
	return v
}

func speedupOr(c *Cell, v float64) any {
	if !c.HasSpeedup() {
		return nil
	}
	return v
}

func cpuOr(c *Cell, v float64) any {
	if !c.HasCPU() {
		return nil
	}
	return v
}

// ArrowType is a parameter column's Arrow type (TypeOf's words).
func ArrowType(typ string) arrow.DataType {
	switch typ {
	case "int":
		return i64
	case "float":
		return f64
	case "bool":
		return bln
	}
	return str
}

// flatColumns is the one list both flat formats are made from, one row per
// cell, so CSV and Parquet cannot drift apart: the run's identity, then one
// column per parameter key (NULL where a cell's strategy lacks the key),
// then the metric list's figures (metrics.go).
func flatColumns(r *Run) []column {
	cols := slices.Clone(runColumns)
	for _, k := range paramKeys(r) {
		cols = append(cols, column{name: k.Key, typ: ArrowType(k.Type), value: func(_ *Run, c *Cell) any {
			v, _ := c.Params.Get(k.Key)
			return v
		}})
	}
	return append(cols, flatMetrics(r)...)
}

// flatTable is the run's flat files' table: one row per cell.
func flatTable(run *Run) FlatTable {
	cols := flatColumns(run)
	fc := make([]FlatColumn, len(cols))
	for i, col := range cols {
		fc[i] = FlatColumn{Name: col.name, Type: col.typ}
	}
	return FlatTable{Columns: fc, Rows: len(run.Cells), Metadata: map[string]string{"ortbench.schema": Schema},
		Value: func(row, col int) any { return cols[col].value(run, &run.Cells[row]) }}
}

// CSVHeader is the flat column list of results.csv, one row per cell.
func CSVHeader(r *Run) []string { return flatTable(r).Header() }

// CSVRecord flattens one cell in CSVHeader's order; NULL is an empty field.
func CSVRecord(run *Run, c *Cell) []string {
	t, cols := flatTable(run), flatColumns(run)
	t.Value = func(_, col int) any { return cols[col].value(run, c) }
	return t.Record(0)
}

// EncodeCSV writes one row per cell with flat columns.
func EncodeCSV(run *Run, w io.Writer) error { return flatTable(run).WriteCSV(w) }
