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
		t.Fatalf("placement %+v", s.Placement)
	}
	// 132 rows (9 calls of 16 over 100: the 7th is 4 rows) through
	// FusedGemm 2·64·128 + Gemm 2·128·10 + Softmax 3·10 + ArgMax 10 a row;
	// ArrayFeatureExtractor is the one node without a rule.
	if n := Items(100, 16, 9); n != 132 {
		t.Errorf("Items = %d, want 132", n)
	}
	if p := s.Placement[0]; s.FLOPs != 132*18984 || p.FLOPs != s.FLOPs || p.FLOPsShare != 1 || p.FLOPsUnknownNodes != 1 ||
		s.FLOPsKnownShare <= 0 || s.FLOPsKnownShare >= 1 {
		t.Errorf("flops %d (known share %v), placement %+v; want %d", s.FLOPs, s.FLOPsKnownShare, p, 132*18984)
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
	if msg := PlacementWarning(s, "CUDAExecutionProvider"); !strings.Contains(msg, "0% of the kernel time (FLOPs unknown; 0 of 10 nodes)") {
		t.Errorf("nothing on the asked provider: %q", msg)
	}
	s.Placement[1].TimeShare, s.Placement[0].TimeShare = 0.5, 0.5
	if msg := PlacementWarning(s, "OpenVINOExecutionProvider"); msg != "" {
		t.Errorf("half the time on the asked provider warned: %q", msg)
	}
}

// TestPlacementWarningFLOPs: with FLOPs known the warning goes by their
// share, not the time's; FromGraph fills a compiled subgraph's FLOPs.
func TestPlacementWarningFLOPs(t *testing.T) {
	s := &results.OpProfile{FLOPs: 100, Placement: []results.NodePlacement{
		{Provider: "CPUExecutionProvider", Nodes: 9, TimeShare: 0.3, FLOPs: 70, FLOPsShare: 0.7},
		{Provider: "OpenVINOExecutionProvider", Nodes: 1, TimeShare: 0.7, FLOPs: 30, FLOPsShare: 0.3},
	}}
	msg := PlacementWarning(s, "OpenVINOExecutionProvider")
	for _, want := range []string{"30% of the FLOPs (70% of the kernel time; 1 of 10 nodes)", "CPUExecutionProvider (70%)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("warning %q lacks %q", msg, want)
		}
	}
	if msg := PlacementWarning(s, "CPUExecutionProvider"); msg != "" {
		t.Errorf("70%% of the FLOPs on the CPU warned: %q", msg)
	}
	// The OpenVINO node is a compiled subgraph: its FLOPs unknown, the
	// warning falls back to the time, until the graph's count fills them.
	s.Placement[1].FLOPs, s.Placement[1].FLOPsUnknownNodes = 0, 1
	flopsShares(s)
	if msg := PlacementWarning(s, "OpenVINOExecutionProvider"); msg != "" {
		t.Errorf("70%% of the time on OpenVINO, FLOPs unknown, warned: %q", msg)
	}
	FromGraph(s, 60) // less than the CPU's 70: nothing to give
	if s.Placement[1].FLOPsFromGraph || s.FLOPs != 70 {
		t.Errorf("graph count under the counted FLOPs was used: %+v", s)
	}
	FromGraph(s, 280)
	if p := s.Placement[1]; !p.FLOPsFromGraph || p.FLOPs != 210 || p.FLOPsShare != 0.75 || s.FLOPs != 280 {
		t.Errorf("from the graph: %+v, total %d; want 210 FLOPs, share 0.75", p, s.FLOPs)
	}
	if msg := PlacementWarning(s, "CPUExecutionProvider"); !strings.Contains(msg, "25% of the FLOPs") {
		t.Errorf("CPU asked, 25%% of the FLOPs on it: %q", msg)
	}
	// Two providers with no node costed: the rest cannot be split.
	s.Placement[0].FLOPsUnknownNodes, s.Placement[0].FLOPs, s.Placement[1].FLOPsFromGraph, s.Placement[1].FLOPs = 9, 0, false, 0
	FromGraph(s, 280)
	if s.Placement[1].FLOPsFromGraph || s.Placement[0].FLOPsFromGraph {
		t.Errorf("the rest given to one of two providers with no node costed: %+v", s.Placement)
	}
	// One provider with some nodes costed keeps its own count.
	s.Placement = s.Placement[:1]
	s.Placement[0].FLOPsUnknownNodes, s.Placement[0].FLOPs = 1, 70
	FromGraph(s, 280)
	if s.Placement[0].FLOPsFromGraph || s.Placement[0].FLOPs != 70 {
		t.Errorf("a provider with costed nodes was given the graph's count: %+v", s.Placement)
	}
}
