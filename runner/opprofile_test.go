package runner_test

import (
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// TestProfileUnderTheSequentialSchedule: profile: true profiles every
// cell after its repetitions under the sequential schedule too (the
// interleaved one is cmd/ortbench's test), inter-op's parallel session
// included; without the key no cell has a profile.
func TestProfileUnderTheSequentialSchedule(t *testing.T) {
	yaml := `
workload:
  model: REPO/training/models/mlp_small_digits.onnx
  dataset: {path: REPO/datasets/data/digits.parquet, label: label}
  rows: 128
batch_sizes: [32]
repetitions: 1
warmup_batches: 1
schedule: sequential
strategies:
  - strategy: sequential
  - strategy: inter-op
    inter_op_threads: 2
  - strategy: goroutines
    workers: 2
`
	run, _, err := runConfig(t, yaml+"profile: true\n", strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		if p := c.Profile; p == nil || p.Runs == 0 || p.BatchSize != 32 || len(p.Ops) == 0 || p.Placement[0].Nodes == 0 {
			t.Errorf("%s: profile %+v, warnings %v", c.Name, p, c.Warnings)
			continue
		}
		// 64 calls of 32 rows, 18984 FLOPs a row from the kernels' shapes
		// (runner/opprofile's test has the sum); every node on the CPU,
		// whose own count stands (the graph's leaves out element-wise ops).
		if p := c.Profile.Placement[0]; c.Profile.FLOPs != 64*32*18984 || p.FLOPs != c.Profile.FLOPs || p.FLOPsFromGraph || p.FLOPsShare != 1 {
			t.Errorf("%s: profile FLOPs %d, placement %+v; want %d on the CPU", c.Name, c.Profile.FLOPs, p, 64*32*18984)
		}
	}
	run, _, err = runConfig(t, yaml, strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		if c.Profile != nil {
			t.Errorf("%s profiled without profile: true", c.Name)
		}
	}
}

// TestProfileOfTheHeavyTaskSaysSo: the heavy task has nothing to profile,
// and the run says so rather than ignoring the key.
func TestProfileOfTheHeavyTaskSaysSo(t *testing.T) {
	run, _, err := runConfig(t, "workload: {kind: heavy-task, items: 16, cost: 100}\nrepetitions: 1\nprofile: true\nstrategies:\n  - strategy: sequential\n", strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range run.Warnings {
		found = found || strings.Contains(w, "heavy task runs no ONNX Runtime session")
	}
	if !found || run.Cells[0].Profile != nil || !results.Measured(run.Cells[0].Status) {
		t.Errorf("warnings %v, cell %s profile %v", run.Warnings, run.Cells[0].Status, run.Cells[0].Profile)
	}
}
