package tune

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// TestProfileWinner profiles the small MLP through ORT's own profiler and
// finds its time in its operators: MatMul (two dense layers) among them,
// every share in (0, 1], the shares summing to 1, the file kept.
func TestProfileWinner(t *testing.T) {
	if _, _, err := onnx.Init(""); err != nil {
		t.Skip(err)
	}
	w, err := workload.NewModel(filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx"),
		datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", "digits.parquet"), Label: "label", Limit: 512})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prof, file, err := ProfileWinner(context.Background(), w, onnx.DefaultOptions(), Point{Strategy: "intra-op", Threads: 2, Batch: 64}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(file) != dir || prof.KernelMicros <= 0 || len(prof.Ops) == 0 {
		t.Fatalf("profile %s: %+v", file, prof)
	}
	var sum float64
	found := false
	for _, o := range prof.Ops {
		if o.Share <= 0 || o.Share > 1 || o.Calls <= 0 {
			t.Errorf("op %+v", o)
		}
		sum += o.Share
		found = found || o.Op == "MatMul" || o.Op == "Gemm" || o.Op == "FusedMatMul"
	}
	if !found || sum < 0.999 || sum > 1.001 {
		t.Errorf("no MatMul/Gemm among %+v, or shares sum to %v", prof.Ops, sum)
	}
	if line := ProfileLine(Point{Threads: 2, Batch: 64}, prof); !strings.Contains(line, prof.Ops[0].Op) || !strings.Contains(line, "64 calls") {
		t.Errorf("line %q", line)
	}
	if _, err := onnx.ReadProfile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing profile read without an error")
	}
}
