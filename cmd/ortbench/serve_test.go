package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ortbench/ortbench/internal/pqtest"
	"github.com/ortbench/ortbench/runner/results"
)

// TestServeThroughTheRunner serves a real model at a fixed rate through
// the whole runner — an in-process strategy, the worker processes (whose
// sessions live in other processes and serve through strategy.RowServer)
// and the batcher — and requires every request verified against the
// reference, the serving figures filled in and the histogram logs written.
func TestServeThroughTheRunner(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, `
name: serve-it
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
warmup_batches: 2
load:
  scenario: server
  arrival: poisson
  qps: 200
  duration: 300ms
  min_requests: 60
strategies:
  - strategy: sequential
  - strategy: processes
    workers: 2
    transport: copy
  - strategy: batcher
    workers: 1
    max_batch: 4
    max_delay: 2ms
`)
	code, stdout, stderr := cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	run := readRun(t, out)
	if len(run.Cells) != 3 {
		t.Fatalf("%d cells", len(run.Cells))
	}
	for _, c := range run.Cells {
		sv := c.Serving
		if c.Status == results.StatusFailed || c.Status == results.StatusSkipped || sv == nil {
			t.Fatalf("%s: %s %s serving %+v", c.Name, c.Status, c.Error, sv)
		}
		if !c.Verification.Passed || c.Verification.RowsChecked < 60 {
			t.Errorf("%s: verification %+v", c.Name, c.Verification)
		}
		if sv.Completed < 60 || sv.AchievedQPS <= 0 || sv.Latency.P99 <= 0 || sv.Latency.P99 < sv.Service.P50 {
			t.Errorf("%s: serving %+v", c.Name, sv)
		}
		if sv.HistogramLog == "" || !strings.HasSuffix(sv.HistogramLog, ".hlog") {
			t.Errorf("%s: histogram log %q", c.Name, sv.HistogramLog)
		}
	}
	if p := run.Cells[1]; p.Serving.Servers != 2 || !strings.HasPrefix(p.Name, "processes/") {
		t.Errorf("processes cell: %s with %d servers", p.Name, p.Serving.Servers)
	}
}

// TestServeExitCodes: a load that misses the SLO is a result (exit 0, the
// search cell ok with no max and a note, a serving verdict that says no
// strategy met it); a cell that could not serve at all fails (exit 5).
func TestServeExitCodes(t *testing.T) {
	const head = `
name: serve-exit
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
warmup_batches: 2
load:
  scenario: server
  qps: 200
  duration: 100ms
  min_requests: 40
  slo: {percentile: 99, latency: 1us, precision: 0.1}
strategies:
`
	for _, tc := range []struct {
		name, strategies string
		code             int
	}{
		{"slo missed", "  - strategy: sequential\n", 0},
		{"cannot serve", "  - strategy: processes\n    workers: 2\n    start: per-run\n", exitCellFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := cli(t, "run", "-q", "-c", writeConfig(t, head+tc.strategies), "--out", out)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			run := readRun(t, out)
			if tc.code != 0 {
				if run.StatusCounts[results.StatusFailed] != 1 {
					t.Errorf("status counts %v", run.StatusCounts)
				}
				return
			}
			if len(run.Cells) != 2 || run.StatusCounts[results.StatusOK] != 2 {
				t.Fatalf("%d cells, counts %v", len(run.Cells), run.StatusCounts)
			}
			s := run.Cells[1].Serving
			if s == nil || s.Search == nil || s.Search.MaxSustainableQPS != 0 || !strings.HasPrefix(s.Search.Note, "no load met the SLO") {
				t.Errorf("search cell %s: %+v", run.Cells[1].Name, s)
			}
			if len(run.ServingVerdicts) != 1 || run.ServingVerdicts[0].Best != "" || !strings.Contains(stdout, "serving: no winner") {
				t.Errorf("verdicts %+v\n%s", run.ServingVerdicts, stdout)
			}
		})
	}
}

// TestServeClosedLoopBesideOpen: one run serves open-loop (capped) and
// closed-loop cells side by side and searches the highest concurrency
// within the SLO; the closed cells obey Little's law up to the load's end
// (see runner/serve's TestClosedLoopLittlesLawOnHeavyTask for the bound).
func TestServeClosedLoopBesideOpen(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, `
name: serve-closed
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
warmup_batches: 2
load:
  scenario: server
  qps: 200
  max_in_flight: 8
  concurrency: [1, 4]
  request_rows: 2
  records: true
  duration: 100ms
  min_requests: 50
  slo: {percentile: 90, latency: 5ms, precision: 0.5}
strategies:
  - strategy: worker-pool
    workers: 2
  - strategy: processes
    workers: 2
`)
	code, stdout, stderr := cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	run := readRun(t, out)
	var names []string
	for _, c := range run.Cells {
		names = append(names, c.Name)
	}
	// Each strategy's five; processes serves requests of 2 rows (its
	// workers once took batch_size rows a call at most).
	want := []string{"qps=200", "concurrency=1", "concurrency=4", "slo_search", "slo_search_concurrency"}
	if len(run.Cells) != 2*len(want) {
		t.Fatalf("cells %v, want twice the suffixes %v", names, want)
	}
	for i, c := range run.Cells {
		sv := c.Serving
		if !strings.HasSuffix(c.Name, "/"+want[i%len(want)]) || c.Status != results.StatusOK || sv == nil || !c.Verification.Passed {
			t.Fatalf("cell %d: %s %s %s", i, c.Name, c.Status, c.Error)
		}
		if c.CPU.UserSeconds+c.CPU.SystemSeconds <= 0 {
			t.Errorf("%s: no CPU figures", c.Name)
		}
	}
	dir := runDir(t, out)
	for i, c := range run.Cells { // records for the fixed loads only
		if f := c.Serving.RecordsFile; (f != "") != (i%len(want) < 3) {
			t.Errorf("%s: records file %q", c.Name, f)
		} else if st, err := os.Stat(filepath.Join(dir, f)); f != "" && (err != nil || st.Size() == 0) {
			t.Errorf("%s: %v", f, err)
		}
	}
	if s := run.Cells[0].Serving; s.MaxInFlight != 8 || s.Concurrency != 0 || s.Completed+s.Dropped+s.Unfinished != s.Requests {
		t.Errorf("open cell: cap %d, concurrency %d, %d+%d+%d of %d", s.MaxInFlight, s.Concurrency, s.Completed, s.Dropped, s.Unfinished, s.Requests)
	}
	for _, c := range run.Cells[1:3] {
		s := c.Serving
		if s.Arrival != "closed" || s.Concurrency < 1 || s.Completed < 50 || s.Unfinished != 0 {
			t.Fatalf("%s: %+v", c.Name, s)
		}
		l := s.AchievedQPS * s.Latency.Mean / float64(s.Concurrency)
		if tail := s.Latency.Max / s.DurationSeconds; l > 1.01 || l < 1-max(tail, 0.04)-0.01 {
			t.Errorf("%s: X·R/N = %.3f (X %.0f/s, R %gs, longest %gs of %gs)", c.Name, l, s.AchievedQPS, s.Latency.Mean, s.Latency.Max, s.DurationSeconds)
		}
	}
	sc := run.Cells[4].Serving.Search
	if sc == nil || len(sc.Steps) < 2 || sc.Steps[0].Concurrency != 1 || !sc.Steps[0].Fixed {
		t.Fatalf("concurrency search: %+v", sc)
	}
	if sc.MaxConcurrency > 0 && sc.MaxSustainableQPS <= 0 {
		t.Errorf("max concurrency %d with no throughput", sc.MaxConcurrency)
	}
	if sc.UpperConcurrency > 0 && sc.UpperConcurrency <= sc.MaxConcurrency {
		t.Errorf("bracket [%d, %d)", sc.MaxConcurrency, sc.UpperConcurrency)
	}
	if p := run.Cells[5]; !strings.HasPrefix(p.Name, "processes/") || p.Serving.RequestRows != 2 || p.Verification.RowsChecked < 100 {
		t.Errorf("processes: %s, %d rows a request, %d checked", p.Name, p.Serving.RequestRows, p.Verification.RowsChecked)
	}
	if len(run.ServingVerdicts) != 2 || !strings.Contains(run.ServingVerdicts[1].Group, "closed loop") {
		t.Errorf("verdicts %+v", run.ServingVerdicts)
	}
}

// TestServeTraceThroughTheRunner: a shipped trace replayed at its own
// pace (no qps: one cell at the trace's mean rate, time_scale 0.5 doubling
// it), every request verified.
func TestServeTraceThroughTheRunner(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, `
name: serve-trace
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
warmup_batches: 2
load:
  scenario: server
  arrival: trace
  trace: REPO/configs/traces/onoff.csv
  time_scale: 0.5
  duration: 1s
  min_requests: 100
strategies:
  - strategy: sequential
`)
	code, stdout, stderr := cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	run := readRun(t, out)
	if len(run.Cells) != 1 {
		t.Fatalf("%d cells", len(run.Cells))
	}
	c := run.Cells[0]
	s := c.Serving
	// onoff.csv: 2067 arrivals in ~2 s, ~1038/s; twice that.
	if c.Status != results.StatusOK || !strings.HasSuffix(c.Name, "/qps=2075") || s.Arrival != "trace" || !c.Verification.Passed {
		t.Fatalf("%s: %s %s, %+v", c.Name, c.Status, c.Error, s)
	}
	if s.Requests < 2000 || s.OfferedQPS < 2000 || s.OfferedQPS > 2150 {
		t.Errorf("%d requests offered at %.0f/s", s.Requests, s.OfferedQPS)
	}
}

// TestServeStagesThroughTheRunner: a staged load (a rate, then a ramp) is
// one cell named by its stages, reported stage by stage in results.json,
// the terminal table, the CSV (one row: the whole load) and the records,
// whose stage column puts each request in its stage.
func TestServeStagesThroughTheRunner(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, `
name: serve-stages
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
warmup_batches: 2
load:
  scenario: server
  arrival: poisson
  records: true
  stages:
    - {qps: 100, duration: 400ms}
    - {qps: [100, 300], duration: 400ms}
  slo: {percentile: 99, latency: 200ms}
strategies:
  - strategy: sequential
`)
	code, stdout, stderr := cli(t, "run", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	run := readRun(t, out)
	if len(run.Cells) != 1 {
		t.Fatalf("%d cells", len(run.Cells))
	}
	c := run.Cells[0]
	s := c.Serving
	if c.Status != results.StatusOK || !strings.HasSuffix(c.Name, "/stages=2") || len(s.Stages) != 2 || s.RecordsFile == "" {
		t.Fatalf("%s: %s %s, %+v", c.Name, c.Status, c.Error, s)
	}
	if a, b := s.Stages[0], s.Stages[1]; a.Requests+b.Requests != s.Requests || a.ToQPS != 100 || b.FromQPS != 100 || b.ToQPS != 300 ||
		b.StartSeconds != 0.4 || a.SLO == nil || a.SLO.GoodputQPS <= 0 || a.Latency.P99 <= 0 {
		t.Errorf("stages: %+v", s.Stages)
	}
	if !strings.Contains(stdout, "/stages=2, stage by stage:") || !strings.Contains(stdout, "stage 2: 100→300/s") {
		t.Errorf("the table lacks the stages:\n%s", stdout)
	}
	tbl := pqtest.ReadFile(t, filepath.Join(runDir(t, out), s.RecordsFile))
	stage := -1
	for i := range int(tbl.NumCols()) {
		if tbl.Schema().Field(i).Name == "stage" {
			stage = i
		}
	}
	if stage < 0 || int(tbl.NumRows()) != s.Completed {
		t.Fatalf("records: %v, %d rows of %d completed", tbl.Schema(), tbl.NumRows(), s.Completed)
	}
	checkRecordRows(t, filepath.Join(runDir(t, out), s.RecordsFile), func(int64) int32 { return int32(max(s.RequestRows, 1)) })
}

// TestServeSizedTraceThroughTheRunner: a trace whose second column sizes
// its requests is served request by request at those sizes — on its own
// and batched — every output verified against the reference, rows/s
// counting the sizes.
func TestServeSizedTraceThroughTheRunner(t *testing.T) {
	out := t.TempDir()
	trace := filepath.Join(t.TempDir(), "sized.csv")
	var b strings.Builder
	b.WriteString("offset_seconds,rows\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%g,%d\n", float64(i)*0.002, 1+(i*37)%40)
	}
	if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, `
name: serve-sized
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
warmup_batches: 2
load:
  scenario: server
  arrival: trace
  trace: `+trace+`
  duration: 300ms
  min_requests: 150
  records: true
strategies:
  - strategy: sequential
  - strategy: batcher
    workers: 1
    max_batch: 4
    max_delay: 2ms
`)
	code, stdout, stderr := cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	run := readRun(t, out)
	for _, c := range run.Cells {
		s := c.Serving
		if c.Status != results.StatusOK || !c.Verification.Passed || s == nil {
			t.Fatalf("%s: %s %s, %+v", c.Name, c.Status, c.Error, c.Verification)
		}
		// Sizes 1..40, mean 20.5 over a whole pass of the 200.
		if s.RequestRowsMean < 19 || s.RequestRowsMean > 22 || c.Verification.RowsChecked < int(float64(s.Completed)*15) {
			t.Errorf("%s: mean %g rows, %d rows checked of %d requests", c.Name, s.RequestRowsMean, c.Verification.RowsChecked, s.Completed)
		}
		if r := c.RowsPerSecond / s.AchievedQPS; r != s.RequestRowsMean {
			t.Errorf("%s: rows/s ÷ requests/s = %g, want the mean size %g", c.Name, r, s.RequestRowsMean)
		}
		checkRecordRows(t, filepath.Join(runDir(t, out), s.RecordsFile), func(req int64) int32 { return int32(1 + (req%200*37)%40) })
	}
}

// checkRecordRows: every record's rows column is its request's size.
func checkRecordRows(t *testing.T, path string, want func(req int64) int32) {
	t.Helper()
	tbl := pqtest.ReadFile(t, path)
	defer tbl.Release()
	if n := tbl.NumCols(); n != 9 || tbl.Schema().Field(8).Name != "rows" || tbl.NumRows() == 0 {
		t.Fatalf("%s: schema %v, %d rows", path, tbl.Schema(), tbl.NumRows())
	}
	req := tbl.Column(1).Data().Chunk(0).(*array.Int64)
	rows := tbl.Column(8).Data().Chunk(0).(*array.Int32)
	for i := range rows.Len() {
		if w := want(req.Value(i)); rows.IsNull(i) || rows.Value(i) != w {
			t.Fatalf("%s: request %d has rows %d, want %d", path, req.Value(i), rows.Value(i), w)
		}
	}
}

// TestServeArrivalsThroughTheRunner: load.arrival as a list serves each
// strategy under each arrival at the same qps, the cells named
// /arrival=NAME and carrying it as a parameter (CSV column, bench.txt
// name), the closed loop once and unnamed, a verdict per arrival, and the
// report renders the run.
func TestServeArrivalsThroughTheRunner(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, `
name: serve-arrivals
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet, label: label}
warmup_batches: 2
load:
  scenario: server
  arrival: [poisson, gamma, trace]
  shape: 0.25
  trace: REPO/configs/traces/onoff.csv
  qps: 200
  concurrency: 2
  duration: 100ms
  min_requests: 40
  slo: {percentile: 90, latency: 50ms, precision: 0.5}
strategies:
  - strategy: sequential
`)
	code, stdout, stderr := cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "serve-arrivals", "*"))
	if len(dirs) != 1 {
		t.Fatalf("results folders: %v", dirs)
	}
	run, err := results.ReadJSON(filepath.Join(dirs[0], "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range run.Cells {
		names = append(names, strings.TrimPrefix(c.Name, "sequential/batch_size=1/"))
		if c.Status != results.StatusOK || !c.Verification.Passed {
			t.Errorf("%s: %s %s", c.Name, c.Status, c.Error)
		}
		if a := c.Params.String("arrival"); c.Serving.Arrival != "closed" && a != c.Serving.Arrival || c.Serving.Arrival == "closed" && a != "" {
			t.Errorf("%s: arrival param %q, serving %q", c.Name, a, c.Serving.Arrival)
		}
	}
	want := "arrival=poisson/qps=200 arrival=poisson/slo_search arrival=gamma/qps=200 arrival=gamma/slo_search " +
		"arrival=trace/qps=200 arrival=trace/slo_search concurrency=2 slo_search_concurrency"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("cells\n%s\nwant\n%s", got, want)
	}
	if s := run.Cells[2].Serving; s.Shape != 0.25 || s.Arrival != "gamma" {
		t.Errorf("gamma cell: %+v", s)
	}
	if len(run.ServingVerdicts) != 4 {
		t.Fatalf("verdicts %+v", run.ServingVerdicts)
	}
	for i, a := range []string{"poisson arrivals", "gamma arrivals", "trace arrivals", "closed loop"} {
		if g := run.ServingVerdicts[i].Group; !strings.Contains(g, a) {
			t.Errorf("verdict %d: group %q lacks %q", i, g, a)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dirs[0], "results.csv"))
	if err != nil || !strings.Contains(strings.SplitN(string(csv), "\n", 2)[0], "arrival") || !strings.Contains(string(csv), ",gamma,") {
		t.Errorf("results.csv lacks the arrival column (%v):\n%.400s", err, csv)
	}
	bench, err := os.ReadFile(filepath.Join(dirs[0], "bench.txt"))
	if err != nil || !strings.Contains(string(bench), "arrival=trace") {
		t.Errorf("bench.txt lacks arrival=trace (%v):\n%.400s", err, bench)
	}
	if code, stdout, errs := cli(t, "report", dirs[0]); code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, errs)
	}
	html, _ := filepath.Glob(filepath.Join(dirs[0], "*.html"))
	if len(html) == 0 {
		t.Fatalf("report wrote no html in %s", dirs[0])
	}
	if page, err := os.ReadFile(html[0]); err != nil || !strings.Contains(string(page), "arrival=gamma") {
		t.Errorf("%s: the series lack arrival=gamma (%v)", html[0], err)
	}
}
