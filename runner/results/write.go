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

// CSVHeader is the flat column list of results.csv, one row per cell.
var CSVHeader = []string{
	"experiment", "cell", "strategy", "status", "workers", "intra_op_threads", "inter_op_threads",
	"batch_size", "spinning", "transport", "start", "workload", "model", "dataset", "rows",
	"startup_seconds", "wall_seconds", "rows_per_second", "rows_per_second_lo", "rows_per_second_hi",
	"speedup", "efficiency", "unstable", "latency_p50", "latency_p90", "latency_p99", "latency_p999", "latency_max",
	"cpu_user_seconds", "cpu_system_seconds", "cpu_utilization", "peak_rss_bytes", "rss_sum_bytes",
	"pss_sum_bytes", "uss_sum_bytes", "verified", "mismatches", "max_abs_diff", "repetitions", "error",
}

// CSVRecord flattens one cell in CSVHeader's order.
func CSVRecord(run *Run, c *Cell) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	i := func(v int) string { return strconv.Itoa(v) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	b := strconv.FormatBool
	return []string{
		run.Experiment.Name, c.Name, c.Strategy, c.Status, i(c.Params.Workers), i(c.Params.IntraOpThreads), i(c.Params.InterOpThreads),
		i(c.Params.BatchSize), b(c.Params.Spinning), c.Params.Transport, c.Params.Start, c.Workload.Kind, c.Workload.Model, c.Workload.Dataset, i(c.Workload.Rows),
		f(c.StartupSeconds), f(c.WallSeconds), f(c.RowsPerSecond), f(c.Throughput.Lo), f(c.Throughput.Hi),
		f(c.Speedup), f(c.Efficiency), b(c.Unstable), f(c.Latency.P50), f(c.Latency.P90), f(c.Latency.P99), f(c.Latency.P999), f(c.Latency.Max),
		f(c.CPU.UserSeconds), f(c.CPU.SystemSeconds), f(c.CPU.Utilization), u(c.Memory.PeakRSSBytes), u(c.Memory.RSSSumBytes),
		u(c.Memory.PSSSumBytes), u(c.Memory.USSSumBytes), b(c.Verification.Passed), i(c.Verification.Mismatches), f(c.Verification.MaxAbsDiff), i(len(c.Repetitions)), c.Error,
	}
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
