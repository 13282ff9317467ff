package main

import (
	"path/filepath"
	"strings"
	"testing"

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
	dirs, _ := filepath.Glob(filepath.Join(out, "serve-it", "*"))
	if len(dirs) != 1 {
		t.Fatalf("results folders: %v", dirs)
	}
	run, err := results.ReadJSON(filepath.Join(dirs[0], "results.json"))
	if err != nil {
		t.Fatal(err)
	}
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
