package runner

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// FLOPs per row of every shipped model, counted by hand. The convention
// (onnx/graph): 2·K·N per MatMul/Gemm with a [K, N] weight (a multiply and
// an add per term), 2·coefficients for a linear model; bias adds,
// activations, softmax and the like are not counted (for the large MLP they
// would add 1024+1024+10 = 2058 per row, 0.09%). Tree ensembles compare
// rather than multiply: unknown.
func TestModelFlopsShipped(t *testing.T) {
	for _, tc := range []struct {
		model string
		flops int64
		note  string
	}{
		// 64 → 1024 → 1024 → 10
		{"mlp_large_digits", 2 * (64*1024 + 1024*1024 + 1024*10), ""},
		// 64 → 128 → 10
		{"mlp_small_digits", 2 * (64*128 + 128*10), ""},
		// skl2onnx stores a binary logistic regression as 2 classes × 30
		// features of coefficients, and ORT's LinearClassifier computes both.
		{"logreg_breast_cancer", 2 * (2 * 30), ""},
		{"rf_digits", 0, "tree ensembles"},
		{"hgb_digits", 0, "tree ensembles"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			e := modelFlops(filepath.Join("..", "training", "models", tc.model+".onnx"))
			if e.flops != tc.flops {
				t.Errorf("flops per row = %d, want %d", e.flops, tc.flops)
			}
			if (tc.note == "") != (e.note == "") || !strings.Contains(e.note, tc.note) {
				t.Errorf("note = %q, want one containing %q", e.note, tc.note)
			}
		})
	}
}

func TestComputeFor(t *testing.T) {
	ceil := &results.Ceiling{Points: []results.CeilingPoint{{Threads: 1, GFLOPS: 100}, {Threads: 2, GFLOPS: 180}}}
	large := flopsEntry{flops: 2248704}

	c := computeFor(large, 50000, 2, ceil)
	if want := 2248704 * 50000 / 1e9; c.GFLOPS == nil || math.Abs(*c.GFLOPS-want) > 1e-9 {
		t.Fatalf("gflops = %v, want %g", c.GFLOPS, want)
	}
	if c.CeilingThreads != 2 || *c.CeilingGFLOPS != 180 || math.Abs(*c.PctOfCeiling-100*112.4352/180) > 1e-9 {
		t.Errorf("ceiling = %d threads, %v GFLOP/s, %v%%", c.CeilingThreads, *c.CeilingGFLOPS, *c.PctOfCeiling)
	}
	// More cores than the ceiling measured: its largest point.
	if c := computeFor(large, 50000, 8, ceil); c.CeilingThreads != 2 {
		t.Errorf("8 cores: ceiling at %d threads, want 2", c.CeilingThreads)
	}
	if c := computeFor(large, 50000, 1, ceil); c.CeilingThreads != 1 || *c.PctOfCeiling <= 100 {
		t.Errorf("1 core: %+v", c)
	}
	// No ceiling: GFLOP/s still, the share null with the reason.
	c = computeFor(large, 50000, 2, nil)
	if c.GFLOPS == nil || c.PctOfCeiling != nil || c.CeilingGFLOPS != nil || !strings.Contains(c.Note, "ceiling: true") {
		t.Errorf("no ceiling: %+v", c)
	}
	// Unknown FLOPs: every figure null, the reason kept.
	c = computeFor(flopsEntry{note: "flops unknown: tree ensembles compare rather than multiply"}, 50000, 2, ceil)
	if c.GFLOPS != nil || c.PctOfCeiling != nil || !strings.Contains(c.Note, "tree") {
		t.Errorf("trees: %+v", c)
	}
}
