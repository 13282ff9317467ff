package opprofile

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/workload"
)

// TestPassSummary profiles the small MLP for real and summarises it: the
// calls made, every node on the CPU EP, seconds that add up, no warning.
func TestPassSummary(t *testing.T) {
	if _, _, err := onnx.Init(""); err != nil {
		t.Skip(err)
	}
	w, err := workload.NewModel(filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx"),
		datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", "digits.parquet"), Label: "label", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	prof, file, err := Pass(context.Background(), w, onnx.DefaultOptions(), 16, 9, filepath.Join(t.TempDir(), "p"))
	if err != nil {
		t.Fatal(err)
	}
	s := Summary(prof, 16)
	if s.Runs != 9 || s.BatchSize != 16 || s.KernelSeconds <= 0 || len(s.Ops) == 0 || file == "" {
		t.Fatalf("summary %+v of %s", s, file)
	}
	var sec float64
	for _, o := range s.Ops {
		sec += o.Seconds
		if o.Provider != "CPUExecutionProvider" || o.Calls%9 != 0 {
			t.Errorf("op %+v: want the CPU EP, a multiple of 9 calls", o)
		}
	}
	if d := sec - s.KernelSeconds; d > 1e-9 || d < -1e-9 {
		t.Errorf("ops sum to %vs, kernel %vs", sec, s.KernelSeconds)
	}
	if len(s.Placement) != 1 || s.Placement[0].NodeShare != 1 || s.Placement[0].TimeShare != 1 {
		t.Errorf("placement %+v", s.Placement)
	}
	if msg := PlacementWarning(s, "CPUExecutionProvider"); msg != "" {
		t.Errorf("warning %q on a CPU cell", msg)
	}
	if _, _, err := Pass(context.Background(), &workload.Heavy{}, onnx.DefaultOptions(), 1, 1, "x"); err == nil {
		t.Error("the heavy task was profiled")
	}
}

// TestPlacementWarning: under half the time on the asked provider warns,
// naming where the rest ran; half or more does not.
func TestPlacementWarning(t *testing.T) {
	s := &results.OpProfile{Placement: []results.NodePlacement{
		{Provider: "CPUExecutionProvider", Nodes: 9, NodeShare: 0.9, TimeShare: 0.6},
		{Provider: "OpenVINOExecutionProvider", Nodes: 1, NodeShare: 0.1, TimeShare: 0.4},
	}}
	msg := PlacementWarning(s, "OpenVINOExecutionProvider")
	for _, want := range []string{"40% of the kernel time", "1 of 10 nodes", "CPUExecutionProvider (60%)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("warning %q lacks %q", msg, want)
		}
	}
	if msg := PlacementWarning(s, "CUDAExecutionProvider"); !strings.Contains(msg, "0% of the kernel time (0 of 10 nodes)") {
		t.Errorf("nothing on the asked provider: %q", msg)
	}
	s.Placement[1].TimeShare, s.Placement[0].TimeShare = 0.5, 0.5
	if msg := PlacementWarning(s, "OpenVINOExecutionProvider"); msg != "" {
		t.Errorf("half the time on the asked provider warned: %q", msg)
	}
}
