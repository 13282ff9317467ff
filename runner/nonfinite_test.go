package runner_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/strategy"
)

// TestNonFiniteOutputsFailVerification: finite features large enough that
// the logistic regression's sums overflow make NaN probabilities; the
// reference pass makes the same NaN, which used to pass as "verified".
// Without allow_nan every cell fails naming the output and row; with it,
// NaN matching NaN passes.
func TestNonFiniteOutputsFailVerification(t *testing.T) {
	tab, err := datasets.Load(datasets.Spec{Path: filepath.Join(repo, "datasets", "data", "breast_cancer.parquet"), Limit: 64})
	if err != nil {
		t.Fatal(err)
	}
	for i := range tab.Data {
		tab.Data[i] = 3e38 // finite float32: the strict reader accepts it
	}
	path := filepath.Join(t.TempDir(), "huge.arrow")
	if err := datasets.WriteArrowIPC(tab, path); err != nil {
		t.Fatal(err)
	}
	yaml := func(allowNaN bool) string {
		return fmt.Sprintf(`
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset: {path: %s, allow_nan: %v}
batch_sizes: [16]
repetitions: 1
warmup_batches: 0
strategies:
  - strategy: sequential
  - strategy: worker-pool
    workers: 2
`, path, allowNaN)
	}
	run, _, err := runConfig(t, yaml(false), strategy.Default())
	if !errors.Is(err, runner.ErrVerification) {
		t.Fatalf("run error %v, want ErrVerification (NaN outputs)", err)
	}
	for _, c := range run.Cells {
		if c.Verification.Passed || !strings.Contains(c.Verification.FirstError, "a model output that is not a finite number fails verification") {
			t.Errorf("%s: verification %+v, want a failure naming the non-finite output", c.Name, c.Verification)
		}
	}
	if _, _, err := runConfig(t, yaml(true), strategy.Default()); err != nil {
		t.Fatalf("with allow_nan, NaN against the reference's NaN: %v", err)
	}
}
