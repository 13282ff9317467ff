package runner_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

const goAndPython = `
name: go-and-python
workload:
  model: REPO/training/models/logreg_breast_cancer.onnx
  dataset:
    path: REPO/datasets/data/breast_cancer.parquet
batch_sizes: [7]
warmup_batches: 2
repetitions: 2
verify:
  tolerance: 1.0e-5
  expected: REPO/training/reference/logreg_breast_cancer.parquet
strategies:
  - strategy: goroutines
    workers: 2
  - strategy: py-sequential
  - strategy: py-pool
    workers: 2
    start_method: fork
    data: shared_memory
`

// TestGoAndPythonCellsVerifyAgainstTheSameReference runs a Go cell and two
// Python cells in one run: all must match the one sequential reference
// (which itself matches the notebook's predictions), and the Python cells
// must account for their whole process tree and say which Python ran.
func TestGoAndPythonCellsVerifyAgainstTheSameReference(t *testing.T) {
	if _, _, err := strategy.FindPython(); err != nil {
		t.Skipf("%v", err)
	}
	run, _, err := runConfig(t, goAndPython, strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Cells) != 3 {
		t.Fatalf("%d cells", len(run.Cells))
	}
	for _, c := range run.Cells {
		if !results.Measured(c.Status) || !c.Verification.Passed || c.Verification.RowsChecked != c.Workload.Rows*len(c.Repetitions) {
			t.Errorf("%s: status %s, verification %+v, error %q", c.Name, c.Status, c.Verification, c.Error)
		}
		if c.Verification.Reference != run.Cells[0].Verification.Reference {
			t.Errorf("%s: reference %q, want %q", c.Name, c.Verification.Reference, run.Cells[0].Verification.Reference)
		}
		if c.RowsPerSecond <= 0 || c.Latency.P50 <= 0 || c.StartupSeconds <= 0 {
			t.Errorf("%s: missing measurements: %+v", c.Name, c)
		}
		if strings.HasPrefix(c.Strategy, "py-") {
			if py, _ := c.Extra["python"].(string); !strings.Contains(py, "Python") {
				t.Errorf("%s: extra.python = %v", c.Name, c.Extra["python"])
			}
		}
	}
	// ortbench + the Python runner (+ its pool workers and helpers).
	if p := run.Cells[1].Memory.Processes; p < 2 {
		t.Errorf("py-sequential: %d processes sampled, want ortbench and the runner", p)
	}
	if p := run.Cells[2].Memory.Processes; p < 4 {
		t.Errorf("py-pool: %d processes sampled, want ortbench, the runner and 2 workers", p)
	}
	if pool := run.Cells[2]; pool.Params.String("start_method") != "fork" || pool.Params.String("data") != "shared_memory" {
		t.Errorf("py-pool params: %+v", pool.Params)
	}
}

// TestPythonCellsSkippedWithoutEnvironment: with no interpreter the Python
// cells are skipped with the reason and the fix; the run still succeeds.
func TestPythonCellsSkippedWithoutEnvironment(t *testing.T) {
	t.Setenv(strategy.PythonEnvVar, filepath.Join(t.TempDir(), "no-python"))
	run, _, err := runConfig(t, goAndPython, strategy.Default())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if c := run.Cells[0]; !results.Measured(c.Status) {
		t.Errorf("%s: %s %s", c.Name, c.Status, c.Error)
	}
	for _, c := range run.Cells[1:] {
		if c.Status != results.StatusSkipped || !strings.Contains(c.Error, "no-python") {
			t.Errorf("%s: status %s, error %q", c.Name, c.Status, c.Error)
		}
	}
}
