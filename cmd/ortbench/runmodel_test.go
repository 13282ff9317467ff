package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// copyModel copies a committed test model into a fresh directory outside
// the repository, as a user's own model would be.
func copyModel(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("onnx", "testdata", "models", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runDir is the one run folder (dir/<experiment>/<run>) holding a
// results.json under dir.
func runDir(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("%d results.json under %s", len(files), dir)
	}
	return filepath.Dir(files[0])
}

// readRun reads the one results.json under dir.
func readRun(t *testing.T, dir string) *results.Run {
	t.Helper()
	run, err := results.ReadJSON(filepath.Join(runDir(t, dir), "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// A model built outside the repository, four inputs of four dtypes with
// open dimensions, runs from --model with --shape flags only: every default
// strategy verified, a verdict printed.
func TestRunModelWithShapes(t *testing.T) {
	model := copyModel(t, "multi_symbolic")
	out := t.TempDir()
	args := []string{"run", "-q", "--model", model, "--shape", "a=batch,6,4", "--shape", "b=batch,6", "--shape", "c=batch,2,3",
		"--out", out, "--repetitions", "1", "--min-duration", "0s", "--warmup", "1", "--items", "16"}
	code, stdout, stderr := cli(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "verdict:") {
		t.Errorf("no verdict in\n%s", stdout)
	}
	run := readRun(t, out)
	names := map[string]bool{}
	for _, c := range run.Cells {
		names[c.Strategy] = true
		if !c.Verification.Passed {
			t.Errorf("%s: not verified: %s", c.Name, c.Error)
		}
	}
	for _, s := range []string{"sequential", "goroutines", "worker-pool", "intra-op", "hybrid"} {
		if !names[s] {
			t.Errorf("no %s cell in %v", s, names)
		}
	}
	if w := run.Cells[0].Workload; len(w.Inputs) != 4 || !strings.Contains(w.Inputs[2], "uint8[2, 3]") {
		t.Errorf("workload inputs %v", w.Inputs)
	}
}

// What --model refuses, in one line with exit 2: an open dimension not
// given (naming the --shape to add), a batch the model fixes otherwise, a
// spec of the wrong type, a flag that needs --model; blamed on --model,
// not on the temporary experiment file it writes.
func TestRunModelRefusals(t *testing.T) {
	sym, fixed := copyModel(t, "multi_symbolic"), copyModel(t, "conv_fixed")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--model", sym, "--shape", "a=batch,6,4", "--shape", "b=batch,6"}, `set --shape c=batch,`},
		{[]string{"--model", fixed, "--batch", "8"}, "fixes its batch at 1 item(s) a call (input \"x\"); give --batch 1"},
		{[]string{"--model", sym, "--shape", "a=batch,6,4", "--shape", "b=batch,6", "--shape", "c=batch,2,3", "--input", "b=uniform:0,1"}, "uniform"},
		{[]string{"--model", sym, "--shape", "a"}, "NAME=DIMS"},
		{[]string{"--shape", "a=batch,2"}, "go with --model"},
		{[]string{"--model", filepath.Join(t.TempDir(), "none.onnx")}, "not a readable .onnx file"},
	}
	for _, tc := range cases {
		code, stdout, stderr := cli(t, append([]string{"run", "-q", "--out", t.TempDir()}, tc.args...)...)
		msg := strings.TrimSpace(stderr)
		// The experiment --model writes is a temporary file: no message names it.
		if code != 2 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "model.yaml") {
			t.Errorf("%v: exit %d, want 2 and one line containing %q:\n%s%s", tc.args, code, tc.want, stdout, stderr)
		}
	}
}

// Worker processes over every transport and the Python twin feed the same
// multi-dtype records and agree with the sequential reference.
func TestRunModelProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	bin := builtBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "exp.yaml")
	model, _ := filepath.Abs(filepath.Join("onnx", "testdata", "models", "multi.onnx"))
	yaml := "name: procs\nworkload:\n  model: " + model + "\n  items: 24\nbatch_sizes: [5]\nrepetitions: 1\nwarmup_batches: 1\noutput: {dir: " + dir + ", formats: [json]}\n" +
		"strategies:\n  - strategy: sequential\n  - strategy: processes\n    workers: [2]\n    transport: [copy, shared, replicate]\n  - strategy: py-pool\n    workers: [2]\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "-q", "-c", cfg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, c := range readRun(t, dir).Cells {
		if !c.Verification.Passed {
			t.Errorf("%s: %s: %s", c.Name, c.Status, c.Error)
		}
	}
}
