package runner_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/workload"
)

const streamingRun = `
workload:
  model: REPO/training/models/mlp_small_digits.onnx
  dataset: {path: REPO/datasets/data/digits.parquet, streaming: true}
batch_sizes: [64, 100]
repetitions: 2
warmup_batches: 2
strategies:
  - strategy: sequential
  - strategy: pipeline
    workers: [1, 2]
  - strategy: intra-op
    threads: 2
`

// TestStreamingRunVerifiesEveryRow runs the streaming strategies over a
// streamed dataset: every cell passes, and every row of every repetition
// was checked against the streamed reference.
func TestStreamingRunVerifiesEveryRow(t *testing.T) {
	run, _, err := runConfig(t, streamingRun, strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Cells) != 8 {
		t.Fatalf("%d cells", len(run.Cells))
	}
	for _, c := range run.Cells {
		if !results.Measured(c.Status) || !c.Verification.Passed {
			t.Errorf("%s: %s %s %+v", c.Name, c.Status, c.Error, c.Verification)
		}
		if c.Workload.Rows != 1797 || c.Verification.RowsChecked != 1797*len(c.Repetitions) {
			t.Errorf("%s: %d rows, %d checked over %d repetitions", c.Name, c.Workload.Rows, c.Verification.RowsChecked, len(c.Repetitions))
		}
	}
	if run.Settings.ReferenceCell != "sequential/batch_size=64" {
		t.Errorf("reference %q", run.Settings.ReferenceCell)
	}
}

// corrupt is a deliberately wrong strategy: its third batch's second row
// comes out changed.
type corrupt struct{ strategy.Strategy }

func (c corrupt) Start(ctx context.Context, job *strategy.Job) error {
	j := *job
	j.Workload = corruptWorkload{job.Workload}
	return c.Strategy.Start(ctx, &j)
}

type corruptWorkload struct{ workload.Workload }

func (w corruptWorkload) Streaming() bool { return workload.Streams(w.Workload) }
func (w corruptWorkload) Open(o onnx.Options) (workload.Engine, error) {
	e, err := w.Workload.Open(o)
	return corruptEngine{e}, err
}

type corruptEngine struct{ workload.Engine }

func (e corruptEngine) NewExecutor(rc ...int) (workload.Executor, error) {
	x, err := e.Engine.NewExecutor(rc...)
	return &corruptExecutor{Executor: x}, err
}

type corruptExecutor struct {
	workload.Executor
	calls int
}

func (x *corruptExecutor) Run(in []byte, start int, out *workload.Outputs) error {
	if err := x.Executor.Run(in, start, out); err != nil {
		return err
	}
	if x.calls++; x.calls == 3 {
		for k, l := range out.Layout {
			if l.Kind == onnx.Float32 {
				out.F32[k][start*l.Width+l.Width] += 0.5 // row start+1 (the window's row 1)
				break
			}
		}
	}
	return nil
}

// TestStreamingMismatchFailsTheCell: a batch that differs from the
// streamed reference fails its cell, naming the dataset row.
func TestStreamingMismatchFailsTheCell(t *testing.T) {
	reg := strategy.Default()
	bad := reg["sequential"]
	bad.Name = "corrupt"
	inner := bad.New
	bad.New = func() strategy.Strategy { return corrupt{inner()} }
	reg["corrupt"] = bad
	yaml := strings.Replace(streamingRun, "  - strategy: intra-op\n    threads: 2\n", "  - strategy: corrupt\n", 1)
	yaml = strings.Replace(yaml, "warmup_batches: 2", "warmup_batches: 0", 1)
	run, _, err := runConfig(t, yaml, reg)
	if !errors.Is(err, runner.ErrVerification) {
		t.Fatalf("run error %v, want ErrVerification", err)
	}
	for _, c := range run.Cells {
		if c.Strategy != "corrupt" {
			if !results.Measured(c.Status) || !c.Verification.Passed {
				t.Errorf("%s: %s %s", c.Name, c.Status, c.Error)
			}
			continue
		}
		bs := c.Params.Int("batch_size")
		row := fmt.Sprintf("row %d output", 2*bs+1)
		if c.Status != results.StatusFailed || c.Verification.Passed || c.Verification.Mismatches != 1 || !strings.Contains(c.Error, row) {
			t.Errorf("%s: %s %q %+v, want a failure at %s", c.Name, c.Status, c.Error, c.Verification, row)
		}
	}
}

// TestStreamingMatchesExpected: under streaming, verify.expected is read
// batch by batch beside the reference pass; the notebook's predictions
// match, another model's do not (the run stops at the reference, naming
// the file and a row).
func TestStreamingMatchesExpected(t *testing.T) {
	yaml := streamingRun + "verify:\n  tolerance: 1.0e-4\n  expected: REPO/training/reference/mlp_small_digits.parquet\n"
	run, _, err := runConfig(t, yaml, strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(run.Settings.ReferenceCell, "(matches") {
		t.Errorf("reference %q", run.Settings.ReferenceCell)
	}
	for _, c := range run.Cells {
		if !results.Measured(c.Status) || !c.Verification.Passed {
			t.Errorf("%s: %s %s", c.Name, c.Status, c.Error)
		}
	}
	yaml = strings.Replace(yaml, "mlp_small_digits.parquet", "rf_digits.parquet", 1)
	_, _, err = runConfig(t, yaml, strategy.Default())
	if !errors.Is(err, runner.ErrVerification) || !strings.Contains(err.Error(), "rf_digits.parquet in ") || !strings.Contains(err.Error(), "of 1797 checked): row ") {
		t.Fatalf("another model's predictions: %v", err)
	}
}
