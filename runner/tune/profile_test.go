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
	prof, file, err := ProfileWinner(context.Background(), w, onnx.DefaultOptions(), pt(t, "intra-op", "threads", 2, "batch_size", 64), dir)
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
	lines := ProfileLines("the throughput winner", pt(t, "intra-op", "threads", 2, "batch_size", 64), prof)
	if line := lines[0]; !strings.Contains(line, prof.Ops[0].Op) || !strings.Contains(line, "64 calls") {
		t.Errorf("line %q", line)
	}
	// Two intra-op threads: ORT's scheduling figures of the calling
	// thread, on a GEMM that split its work.
	th := prof.Threads
	if th == nil {
		t.Fatal("no thread figures with 2 intra-op threads")
	}
	// (How the calling thread's µs split is the machine's business: on a
	// busy one the other thread may run every task.)
	caller := th.DistributionMicros + th.RunMicros + th.WaitMicros
	if th == nil || th.Threads != 2 || th.ParallelCalls == 0 || len(th.Ops) == 0 || caller > th.KernelMicros+int64(th.ParallelCalls) {
		t.Fatalf("thread figures %+v", th)
	}
	if len(lines) != 2 || !strings.Contains(lines[1], "2 threads") || !strings.Contains(lines[1], "the calling thread computed") {
		t.Errorf("lines %q", lines)
	}
	// One thread: no pool, no figures, no line.
	one, _, err := ProfileWinner(context.Background(), w, onnx.DefaultOptions(), pt(t, "intra-op", "threads", 1, "batch_size", 64), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if l := ProfileLines("x", pt(t, "intra-op", "threads", 1, "batch_size", 64), one); len(l) != 1 {
		t.Errorf("one thread: %q (threads %+v)", l, one.Threads)
	}
	if _, err := onnx.ReadProfile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing profile read without an error")
	}
}
