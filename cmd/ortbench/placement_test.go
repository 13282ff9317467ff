package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// TestCoresKeyRun: a real run on this machine with `cores: 0` (one CPU):
// threads: 0 and workers: 0 resolve to 1 from the restricted set, the
// cells are pinned, and the cell's name and params carry the key.
func TestCoresKeyRun(t *testing.T) {
	out := t.TempDir()
	cfg := writeConfig(t, good+`  - strategy: intra-op
    threads: 0
    cores: 0
  - strategy: worker-pool
    workers: 0
    cores: "0"
repetitions: 2
warmup_batches: 1
min_duration: 20ms
name: placement
`)
	code, stdout, errs := cli(t, "validate", "-c", cfg, "--no-load")
	if code != 0 || !strings.Contains(stdout, "pinned to its own CPUs on cores 0") {
		t.Errorf("validate: exit %d\n%s%s", code, stdout, errs)
	}
	code, stdout, errs = cli(t, "run", "-q", "-c", cfg, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	files, _ := filepath.Glob(filepath.Join(out, "placement", "*", "results.json"))
	if len(files) != 1 {
		t.Fatalf("results.json: %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var run results.Run
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"intra-op":    "intra-op/threads=1/cores=0/batch_size=64",
		"worker-pool": "worker-pool/workers=1/cores=0/batch_size=64",
	}
	for _, c := range run.Cells {
		w, ok := want[c.Strategy]
		if !ok {
			continue
		}
		delete(want, c.Strategy)
		pinned, _ := c.Params.Get("affinity")
		if c.Name != w || c.Params.String("cores") != "0" || pinned != true || c.CoresUsed != 1 || c.Status == results.StatusFailed {
			t.Errorf("cell %s: cores %q affinity %v cores_used %d status %q, want %s", c.Name, c.Params.String("cores"), pinned, c.CoresUsed, c.Status, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("cells missing: %v", want)
	}
}
