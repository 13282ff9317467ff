package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

const streamed = `
name: streamed
workload:
  model: REPO/training/models/mlp_small_digits.onnx
  dataset: {path: REPO/datasets/data/digits.parquet, label: label, streaming: true}
batch_sizes: [100]
repetitions: 2
warmup_batches: 2
strategies:
  - strategy: sequential
  - strategy: pipeline
    workers: 2
  - strategy: processes
    workers: 2
    transport: copy
`

// TestStreamingRun runs a streamed dataset through the CLI — in process, a
// pipeline and worker processes fed from the file — and requires every row
// of every repetition verified.
func TestStreamingRun(t *testing.T) {
	t.Setenv(mainEnv, "1") // for the processes cell's workers
	cfg := writeConfig(t, streamed)
	code, stdout, stderr := cli(t, "validate", "-c", cfg)
	if code != 0 || !strings.Contains(stdout, "(1797 rows × 64 values, streamed: read from the file every pass, never held whole)") {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
	out := t.TempDir()
	if code, stdout, stderr = cli(t, "run", "-q", "-c", cfg, "--out", out); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "streamed", "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("results: %v", files)
	}
	run, err := results.ReadJSON(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Cells) != 3 || run.PeakRSSBytes == 0 {
		t.Fatalf("%d cells, peak RSS %d", len(run.Cells), run.PeakRSSBytes)
	}
	for _, c := range run.Cells {
		if !results.Measured(c.Status) || !c.Verification.Passed || c.Verification.RowsChecked != 1797*len(c.Repetitions) {
			t.Errorf("%s: %s %s, %d rows checked over %d repetitions", c.Name, c.Status, c.Error, c.Verification.RowsChecked, len(c.Repetitions))
		}
	}
}

// TestStreamingBadInput: what cannot stream is one line naming the file,
// the line and the key, with the invalid-config exit code.
func TestStreamingBadInput(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"strategy", streamed + "  - strategy: goroutines\n    workers: 2\n",
			"bad.yaml:5: workload.dataset.streaming: strategies[3] (goroutines/workers=2/batch_size=100) cannot stream: it reads its batches from the whole table in memory"},
		{"format", strings.Replace(streamed, "digits.parquet", "digits.arrows", 1),
			"bad.yaml:5: workload.dataset.streaming: "},
		{"transport", strings.Replace(streamed, "transport: copy", "transport: shared", 1),
			"bad.yaml:5: workload.dataset.streaming: strategies[2] (processes/workers=2/transport=shared/batch_size=100) cannot stream: transport shared needs the whole table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := cli(t, "validate", "-c", writeConfig(t, tc.body))
			if code != exitInvalid || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Fatalf("exit %d, want %d and one line containing %q\n%s%s", code, exitInvalid, tc.want, out, errs)
			}
		})
	}
}
