package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// anyModelStrategies run one model in process and under the Python twin:
// every one must give the sequential reference's outputs for every dtype
// (worker processes over each transport: cmd/ortbench's TestRunModel).
const anyModelStrategies = `
  - strategy: sequential
  - strategy: goroutines
    workers: [2]
  - strategy: pipeline
    workers: [2]
  - strategy: py-sequential
`

// Every committed test model, generated inputs: any dtype, rank 1 to 8,
// four inputs of four dtypes, a fixed batch, a symbolic dimension set by
// workload.shapes, an input without a batch axis, a sequence output left
// out of verification — all verified under every kind of strategy.
func TestAnyModelRunsVerified(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes and the Python runner per model")
	}
	cases := []struct{ model, extra, batches string }{
		{"dtype_float32", "", "[1, 7]"}, {"dtype_float16", "", "[3]"}, {"dtype_float64", "", "[3]"},
		{"dtype_int64", "", "[3]"}, {"dtype_int32", "", "[3]"}, {"dtype_int8", "", "[3]"},
		{"dtype_uint8", "", "[3]"}, {"dtype_bool", "", "[3]"},
		{"rank1", "", "[4]"}, {"rank8", "", "[4]"},
		{"multi", "", "[1, 8]"},
		{"conv_fixed", "", "[1]"},
		{"symbolic", "  shapes: {x: [batch, 5, 5]}\n", "[2]"},
		{"nobatch", "", "[1]"},
		{"seq_output", "", "[2]"},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			yaml := "name: " + tc.model + "\nworkload:\n  model: REPO/onnx/testdata/models/" + tc.model + ".onnx\n  items: 24\n" + tc.extra +
				"batch_sizes: " + tc.batches + "\nrepetitions: 1\nwarmup_batches: 1\noutput: {formats: [json]}\nstrategies:" + anyModelStrategies
			run, _, err := runConfig(t, yaml, strategy.Default())
			if err != nil && run == nil {
				t.Fatal(err)
			}
			if err != nil {
				t.Error(err)
			}
			for _, c := range run.Cells {
				if c.Status == results.StatusFailed || !c.Verification.Passed {
					t.Errorf("%s: %s (verified %v): %s", c.Name, c.Status, c.Verification.Passed, c.Error)
				}
			}
			if tc.model == "seq_output" && len(run.Cells[0].Workload.Unverified) == 0 {
				t.Error("the sequence output is not named as left out of verification")
			}
		})
	}
}

// A model's bad shapes, specs and batch sizes are refused before anything
// runs, in one line naming the key to change.
func TestAnyModelRefusals(t *testing.T) {
	initORT(t)
	cases := []struct{ model, workload, batches, want string }{
		{"symbolic", "", "[1]", `dimension 1 ("n") is not fixed by the model: set workload.shapes.x`},
		{"symbolic", "  shapes: {y: [batch, 2, 2]}\n", "[1]", "workload.shapes.y: the model has no such input"},
		{"symbolic", "  shapes: {x: [batch, 2]}\n", "[1]", "x"},
		{"conv_fixed", "", "[8]", "fixes its batch at 1 item(s) a call"},
		{"dtype_uint8", "  inputs: {x: \"300\"}\n", "[1]", "300"},
		{"dtype_int64", "  inputs: {x: \"uniform:0,1\"}\n", "[1]", "uniform"},
		{"dtype_float32", "  inputs: {x: \"column:f\"}\n", "[1]", "workload.dataset.path"},
		{"dtype_float32", "  items: 100000000\n  shapes: {x: [batch, 3]}\n", "[1]", "out of range"},
		{"seq_input", "", "[1]", "sequence"},
	}
	for _, tc := range cases {
		t.Run(tc.model+"/"+tc.want, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "exp.yaml")
			yaml := "name: bad\nworkload:\n  model: " + repo + "/onnx/testdata/models/" + tc.model + ".onnx\n" + tc.workload +
				"batch_sizes: " + tc.batches + "\nstrategies:\n  - strategy: sequential\n"
			if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path, nil, nil)
			if err == nil {
				_, err = config.Expand(cfg, strategy.Default(), config.Machine{LogicalCores: 2, PhysicalCores: 2})
			}
			if err == nil {
				_, err = runner.LoadWorkload(cfg)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Count(strings.TrimSpace(err.Error()), "\n") > 0 {
				t.Fatalf("got %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

// The ONNX test-data layout is fed and its outputs are the reference's:
// a real PyTorch-exported convolution with its test_data_set_N beside it.
// Changing one expected value fails the run's verification.
func TestTestDataIsVerified(t *testing.T) {
	dir := repo + "/runner/inputs/testdata/conv2d_strided"
	if _, err := os.Stat(dir + "/model.onnx"); err != nil {
		t.Skipf("no test-data model: %v", err)
	}
	yaml := "name: td\nworkload:\n  model: " + dir + "/model.onnx\n  test_data: " + dir + "\nbatch_sizes: [2]\nrepetitions: 1\nwarmup_batches: 1\noutput: {formats: [json]}\nstrategies:\n  - strategy: sequential\n  - strategy: goroutines\n    workers: [2]\n"
	run, _, err := runConfig(t, yaml, strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(run.Cells[0].Verification.Reference, "matches the test data") {
		t.Errorf("reference %q does not say it matched the test data", run.Cells[0].Verification.Reference)
	}
	// The same model with an expected output changed.
	bad := t.TempDir()
	copyTree(t, dir, bad)
	outs, _ := filepath.Glob(bad + "/test_data_set_*/output_0.pb")
	b, err := os.ReadFile(outs[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-2] ^= 0x40 // a float32's exponent bits, in raw_data at the end
	if err := os.WriteFile(outs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	yaml = strings.ReplaceAll(yaml, dir, bad)
	if _, _, err = runConfig(t, yaml, strategy.Default()); err == nil || !strings.Contains(err.Error(), "differs from the test data") {
		t.Fatalf("a changed expected output: %v", err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Dataset columns feed named inputs: a fixed_size_list column reshaped to a
// [3, 4] item, a scalar int64 column as a bool input, the other inputs
// generated; the values a worker reads are the file's.
func TestColumnsFeedNamedInputs(t *testing.T) {
	dir := t.TempDir()
	const rows = 30
	tab := &datasets.Table{Rows: rows, Width: 12, Data: make([]float32, rows*12), Labels: make([]int64, rows)}
	for i := range tab.Data {
		tab.Data[i] = float32(i%97) / 4
	}
	for i := range tab.Labels {
		tab.Labels[i] = int64(i % 2)
	}
	path := filepath.Join(dir, "cols.arrow")
	if err := datasets.WriteArrowIPC(tab, path); err != nil {
		t.Fatal(err)
	}
	yaml := "name: cols\nworkload:\n  model: REPO/onnx/testdata/models/multi.onnx\n  dataset:\n    path: " + path +
		"\n  inputs: {a: \"column:features\", d: \"column:label\", b: \"int:0,100\"}\nbatch_sizes: [4]\nrepetitions: 1\nwarmup_batches: 1\noutput: {formats: [json]}\nstrategies:\n  - strategy: sequential\n  - strategy: goroutines\n    workers: [2]\n  - strategy: py-sequential\n"
	run, _, err := runConfig(t, yaml, strategy.Default())
	if err != nil {
		t.Fatal(err)
	}
	if c := run.Cells[0]; c.Workload.Rows != rows || !strings.Contains(strings.Join(c.Workload.Inputs, ";"), "column:features") {
		t.Errorf("workload %+v", c.Workload)
	}
	// A label of 2 is no bool: refused, naming the input and the value.
	tab.Labels[3] = 2
	if err := datasets.WriteArrowIPC(tab, path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runConfigErr(t, yaml); err == nil || !strings.Contains(err.Error(), "workload.inputs.d") {
		t.Fatalf("a bool column holding 2: %v", err)
	}
}

// runConfigErr loads yaml's workload and returns its error.
func runConfigErr(t *testing.T, yaml string) (any, any, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exp.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(yaml, "REPO", repo)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := config.Expand(cfg, strategy.Default(), config.Machine{LogicalCores: 2, PhysicalCores: 2}); err != nil {
		return nil, nil, err
	}
	_, err = runner.LoadWorkload(cfg)
	return nil, nil, err
}
