package runner_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/workload"
)

// repo is the repository root, where the committed models and data live.
var repo, _ = filepath.Abs("..")

func initORT(t testing.TB) {
	t.Helper()
	if _, _, err := onnx.Init(""); err != nil {
		t.Fatalf("%v (make test fetches it: run `make ort`)", err)
	}
}

// runConfig writes yaml as a config file in the repository's configs/
// directory layout (so relative paths work the same) and runs it.
func runConfig(t *testing.T, yaml string, reg strategy.Registry) (*results.Run, string, error) {
	t.Helper()
	initORT(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "exp.yaml")
	yaml = strings.ReplaceAll(yaml, "REPO", repo)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := config.Expand(cfg, reg, config.Machine{LogicalCores: 2, PhysicalCores: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.LoadWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	r := &runner.Runner{Plan: plan, Registry: reg, OutDir: out, Env: results.Environment{LogicalCores: 2}}
	run, err := r.Run(context.Background(), w)
	return run, out, err
}

const allStrategies = `
  - strategy: sequential
  - strategy: goroutines
    workers: [1, 3]
  - strategy: worker-pool
    workers: [1, 3]
  - strategy: pipeline
    workers: [1, 3]
    queue_depth: [1, 4]
  - strategy: intra-op
    threads: [1, 2, 0]
  - strategy: inter-op
    inter_op_threads: [1, 2]
  - strategy: hybrid
    workers: 2
    threads: 2
`

// TestEveryStrategyMatchesPython runs every in-process strategy on the
// committed models, across worker counts, thread counts and batch sizes
// (including ones that leave a short last batch and one larger than the
// data), and requires every cell's outputs to equal the Python notebook's
// reference predictions: labels equal, probabilities within 1e-5.
func TestEveryStrategyMatchesPython(t *testing.T) {
	models := []struct {
		model, dataset, layout string
		rows                   int
		strategies             string
		batches                string
	}{
		{"logreg_breast_cancer", "breast_cancer", "", 0, allStrategies, "[1, 7, 1000]"},
		{"mlp_small_digits", "digits", "", 0, allStrategies, "[1, 64]"},
		{"mlp_small_digits", "digits_tensor", "tensor_column: features", 0, "\n  - strategy: sequential\n  - strategy: goroutines\n    workers: 2\n", "[33]"},
		{"mlp_large_digits", "digits", "", 300, "\n  - strategy: sequential\n  - strategy: worker-pool\n    workers: 2\n  - strategy: intra-op\n    threads: 2\n", "[16]"},
		{"rf_digits", "digits", "", 200, "\n  - strategy: sequential\n  - strategy: goroutines\n    workers: 2\n  - strategy: pipeline\n    workers: 2\n", "[1, 50]"},
		{"hgb_digits", "digits", "", 300, "\n  - strategy: sequential\n  - strategy: hybrid\n    workers: 2\n    threads: 2\n", "[10]"},
	}
	for _, m := range models {
		t.Run(m.model+"/"+m.dataset, func(t *testing.T) {
			yaml := fmt.Sprintf(`
name: it
workload:
  model: REPO/training/models/%s.onnx
  rows: %d
  dataset:
    path: REPO/datasets/data/%s.parquet
    %s
batch_sizes: %s
warmup_batches: 1
repetitions: 1
verify:
  tolerance: 1.0e-5
  expected: REPO/training/reference/%s.parquet
strategies:%s`, m.model, m.rows, m.dataset, m.layout, m.batches, m.model, m.strategies)
			run, out, err := runConfig(t, yaml, strategy.Default())
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Cells) == 0 {
				t.Fatal("no cells ran")
			}
			for _, c := range run.Cells {
				if !results.Measured(c.Status) || !c.Verification.Passed || c.Verification.RowsChecked == 0 {
					t.Errorf("%s: status %s, verification %+v, error %q", c.Name, c.Status, c.Verification, c.Error)
				}
				if c.RowsPerSecond <= 0 || c.Latency.P50 <= 0 || c.Memory.PeakRSSBytes == 0 {
					t.Errorf("%s: missing measurements: %+v", c.Name, c)
				}
				for i, rp := range c.Repetitions {
					if rp.PeakRSSBytes == 0 || rp.PeakRSSBytes > c.Memory.PeakRSSBytes {
						t.Errorf("%s: repetition %d peak RSS %d, cell peak %d", c.Name, i+1, rp.PeakRSSBytes, c.Memory.PeakRSSBytes)
					}
				}
			}
			if !strings.Contains(run.Settings.ReferenceCell, "matches") {
				t.Errorf("reference was not checked against Python: %q", run.Settings.ReferenceCell)
			}
			back, err := results.ReadJSON(filepath.Join(out, "results.json"))
			if err != nil || len(back.Cells) != len(run.Cells) {
				t.Fatalf("results.json: %v", err)
			}
			for _, f := range []string{"results.csv", "config.yaml", "config.resolved.yaml"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// skipper is a deliberately broken strategy: it never processes batch 1.
type skipper struct{ strategy.Strategy }

func (s skipper) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	if err := s.Strategy.Pass(ctx, n, out, recs); err != nil {
		return err
	}
	if n > 1 {
		// Undo batch 1 as if it had been dropped: zeroed outputs, no mark.
		out.Reset()
		return s.Strategy.Pass(ctx, 1, out, recs)
	}
	return nil
}

// TestMismatchFailsTheCellAndTheRun checks that a strategy whose outputs
// differ from the reference is reported as failed, the others still run,
// results are written, and the run returns ErrVerification.
func TestMismatchFailsTheCellAndTheRun(t *testing.T) {
	reg := strategy.Default()
	broken := reg["goroutines"]
	broken.Name = "broken"
	inner := broken.New
	broken.New = func() strategy.Strategy { return skipper{inner()} }
	reg["broken"] = broken
	yaml := `
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: REPO/datasets/data/breast_cancer.parquet}
batch_sizes: [50]
repetitions: 1
warmup_batches: 0
strategies:
  - strategy: sequential
  - strategy: broken
    workers: 2
  - strategy: worker-pool
    workers: 2
`
	run, out, err := runConfig(t, yaml, reg)
	if !errors.Is(err, runner.ErrVerification) {
		t.Fatalf("run error %v, want ErrVerification", err)
	}
	status := map[string]string{}
	for _, c := range run.Cells {
		status[c.Strategy] = c.Status
		if c.Strategy == "broken" && (c.Verification.Passed || !strings.Contains(c.Error, "verification failed")) {
			t.Errorf("broken cell: %+v", c.Verification)
		}
	}
	if !results.Measured(status["sequential"]) || status["broken"] != "failed" || !results.Measured(status["worker-pool"]) {
		t.Fatalf("statuses %v", status)
	}
	back, err := results.ReadJSON(filepath.Join(out, "results.json"))
	if err != nil || len(back.Cells) != 3 {
		t.Fatalf("results not written: %v", err)
	}
}

// TestHeavyTaskRun runs the shipped heavy-task config's strategies briefly.
func TestHeavyTaskRun(t *testing.T) {
	yaml := `
workload: {kind: heavy-task, items: 64, cost: 2000}
batch_sizes: [4]
repetitions: 2
strategies:
  - strategy: sequential
  - strategy: goroutines
    workers: [2]
  - strategy: worker-pool
    workers: [2]
  - strategy: pipeline
    workers: [2]
`
	run, _, err := runConfig(t, yaml, strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Cells {
		if !results.Measured(c.Status) || c.Speedup <= 0 {
			t.Errorf("%s: %s speedup %v", c.Name, c.Status, c.Speedup)
		}
	}
}

// TestInterruptKeepsFinishedCells cancels a sequential run after the first cell.
func TestInterruptKeepsFinishedCells(t *testing.T) {
	initORT(t)
	yaml := `
schedule: sequential
workload: {kind: heavy-task, items: 64, cost: 2000}
batch_sizes: [4]
repetitions: 1
strategies:
  - strategy: sequential
  - strategy: goroutines
    workers: [1, 2]
`
	dir := t.TempDir()
	run, err := runCancelled(t, yaml, dir, func(cancel func()) runner.Observer { return &cancelAfterFirst{cancel: cancel} })
	if !errors.Is(err, runner.ErrInterrupted) {
		t.Fatalf("err %v", err)
	}
	if !results.Measured(run.Cells[0].Status) || run.Cells[1].Status != "skipped" || !run.Interrupted {
		t.Fatalf("cells %s %s interrupted=%v", run.Cells[0].Status, run.Cells[1].Status, run.Interrupted)
	}
	back, err := results.ReadJSON(filepath.Join(dir, "out", "results.json"))
	if err != nil || !results.Measured(back.Cells[0].Status) {
		t.Fatalf("finished cell not kept: %v", err)
	}
}

type cancelAfterFirst struct {
	runner.NopObserver
	cancel func()
}

func (c *cancelAfterFirst) CellDone(int, *results.Cell) { c.cancel() }

// TestInterruptKeepsMeasuredRounds cancels an interleaved run after its
// first round: every cell keeps the repetition it measured but is
// incomplete (1 of 4), and results.json says the run was interrupted and
// is incomplete.
func TestInterruptKeepsMeasuredRounds(t *testing.T) {
	initORT(t)
	yaml := `
workload: {kind: heavy-task, items: 64, cost: 2000}
batch_sizes: [4]
repetitions: 4
strategies:
  - strategy: sequential
  - strategy: goroutines
    workers: [1, 2]
`
	dir := t.TempDir()
	run, err := runCancelled(t, yaml, dir, func(cancel func()) runner.Observer { return &cancelAfterRound{cancel: cancel} })
	if !errors.Is(err, runner.ErrInterrupted) || !run.Interrupted {
		t.Fatalf("err %v, interrupted %v", err, run.Interrupted)
	}
	if run.Schedule.Kind != "interleaved" || run.Schedule.Rounds != 1 {
		t.Fatalf("schedule %+v", run.Schedule)
	}
	back, err := results.ReadJSON(filepath.Join(dir, "out", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !back.Incomplete || !strings.Contains(back.IncompleteReason, "3 of 3 cells") {
		t.Errorf("results.json: incomplete %v (%q)", back.Incomplete, back.IncompleteReason)
	}
	for _, c := range back.Cells {
		if c.Status != results.StatusIncomplete || c.Error != "1 of 4 repetitions measured" || len(c.Repetitions) != 1 || c.Repetitions[0].Round != 1 {
			t.Errorf("%s: %s (%s) with %d repetitions", c.Name, c.Status, c.Error, len(c.Repetitions))
		}
	}
	if back.StatusCounts[""] != 0 || back.StatusCounts[results.StatusIncomplete] != 3 {
		t.Errorf("status counts %v", back.StatusCounts)
	}
}

type cancelAfterRound struct {
	runner.NopObserver
	cancel func()
}

func (c *cancelAfterRound) RoundDone(int, time.Duration) { c.cancel() }

// runCancelled runs yaml (a heavy-task config) into dir/out with the
// observer obs makes, which cancels the run when it sees fit.
func runCancelled(t *testing.T, yaml, dir string, obs func(cancel func()) runner.Observer) (*results.Run, error) {
	t.Helper()
	cfg, err := config.Load(filepath.Join(dir, "x.yaml"), []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := config.Expand(cfg, strategy.Default(), config.Machine{LogicalCores: 2, PhysicalCores: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, err := runner.LoadWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &runner.Runner{Plan: plan, Registry: strategy.Default(), OutDir: filepath.Join(dir, "out"), Observer: obs(cancel),
		Env: results.Environment{LogicalCores: 2}, BusyWindow: -1}
	return r.Run(ctx, w)
}
