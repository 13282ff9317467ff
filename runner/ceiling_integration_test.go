package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/ceiling"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// ceilingRun runs yaml (an onnx config on the small MLP) with a small
// ceiling measured through ORT beforehand, as `run` does with `ceiling:
// true`.
func ceilingRun(t *testing.T, yaml string) *results.Run {
	t.Helper()
	initORT(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(yaml, "REPO", repo)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := strategy.Default()
	plan, err := config.Expand(cfg, reg, config.Machine{LogicalCores: 2, PhysicalCores: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.LoadWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := ceiling.Settings{Batch: 32, K: 128, N: 128, BandwidthElems: 1 << 16, MaxThreads: 2, Duration: 100 * time.Millisecond, Trials: 2, Options: runner.SessionOptions(cfg)}
	cl, err := ceiling.Measure(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner.Runner{Plan: plan, Registry: reg, OutDir: filepath.Join(dir, "out"), Env: results.Environment{LogicalCores: 2, Ceiling: cl}, BusyWindow: -1}
	run, err := r.Run(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Rounds) != 0 || cl.How != "" {
		t.Errorf("the caller's ceiling was changed: %+v", cl)
	}
	return run
}

const ceilingYAML = `
name: ceil
workload:
  model: REPO/training/models/mlp_small_digits.onnx
  rows: 256
  dataset:
    path: REPO/datasets/data/digits.parquet
batch_sizes: [32]
warmup_batches: 1
repetitions: 6
ceiling: true
schedule: SCHEDULE
strategies:
  - strategy: sequential
  - strategy: intra-op
    threads: 2
`

// TestCeilingMeasuredEveryRound: under the interleaved schedule the
// ceiling's burst runs in every round for every core count the cells use
// (1 and 2 here), and each cell's % of ceiling is paired over those rounds
// with an interval — while the bursts stay out of the cells and verdicts.
func TestCeilingMeasuredEveryRound(t *testing.T) {
	run := ceilingRun(t, strings.Replace(ceilingYAML, "SCHEDULE", "interleaved", 1))
	cl := run.Environment.Ceiling
	if run.Schedule.Kind != "interleaved" || cl == nil || cl.How != results.CeilingEveryRound {
		t.Fatalf("schedule %q, ceiling %+v", run.Schedule.Kind, cl)
	}
	for _, threads := range []int{1, 2} {
		got := cl.RoundsAt(threads)
		if len(got) != run.Schedule.Rounds {
			t.Errorf("%d-core bursts: %d in %d rounds", threads, len(got), run.Schedule.Rounds)
		}
		for i, b := range got {
			if b.Round != i+1 || b.GFLOPS <= 0 || b.Seconds <= 0 {
				t.Errorf("%d-core burst %d: %+v", threads, i, b)
			}
		}
	}
	if cl.BurstShare <= 0 || cl.BurstShare >= 1 {
		t.Errorf("burst share %v", cl.BurstShare)
	}
	if len(run.Cells) != 2 {
		t.Fatalf("%d cells: the bursts are no cell", len(run.Cells))
	}
	for _, c := range run.Cells {
		x := c.Compute
		if x == nil || x.PctOfCeilingRounds != len(c.Repetitions) {
			t.Fatalf("%s: compute %+v over %d repetitions", c.Name, x, len(c.Repetitions))
		}
		if x.PctOfCeiling == nil {
			// Only a flagged measurement problem may leave it out.
			if !strings.Contains(x.Note, "measurement problem") {
				t.Errorf("%s: no %% of ceiling and no reason: %q", c.Name, x.Note)
			}
			continue
		}
		if x.PctOfCeilingLo == nil || x.PctOfCeilingHi == nil || *x.PctOfCeilingLo > *x.PctOfCeiling || *x.PctOfCeilingHi < *x.PctOfCeiling {
			t.Errorf("%s: %v%% with interval %v–%v", c.Name, *x.PctOfCeiling, x.PctOfCeilingLo, x.PctOfCeilingHi)
		}
	}
	for _, v := range run.Verdicts {
		for _, name := range append(v.Tied, v.Best) {
			if strings.Contains(name, "ceiling") {
				t.Errorf("verdict names %q", name)
			}
		}
	}
}

// TestCeilingBeforeRunWhenSequential: the sequential schedule keeps the
// ceiling measured before the run, and says so.
func TestCeilingBeforeRunWhenSequential(t *testing.T) {
	run := ceilingRun(t, strings.Replace(ceilingYAML, "SCHEDULE", "sequential", 1))
	cl := run.Environment.Ceiling
	if cl == nil || cl.How != results.CeilingBeforeRun || len(cl.Rounds) != 0 {
		t.Fatalf("ceiling %+v", cl)
	}
	for _, c := range run.Cells {
		if x := c.Compute; x == nil || x.PctOfCeilingRounds != 0 || x.PctOfCeilingLo != nil {
			t.Errorf("%s: compute %+v", c.Name, x)
		}
	}
}
