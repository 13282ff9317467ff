package runner

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
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

	c := computeFor(large, 256, 50000, 2, ceil, nil)
	if want := 2248704 * 50000 / 1e9; c.GFLOPS == nil || math.Abs(*c.GFLOPS-want) > 1e-9 {
		t.Fatalf("gflops = %v, want %g", c.GFLOPS, want)
	}
	if c.CeilingThreads != 2 || *c.CeilingGFLOPS != 180 || math.Abs(*c.PctOfCeiling-100*112.4352/180) > 1e-9 {
		t.Errorf("ceiling = %d threads, %v GFLOP/s, %v%%", c.CeilingThreads, *c.CeilingGFLOPS, *c.PctOfCeiling)
	}
	// More cores than the ceiling measured: its largest point.
	if c := computeFor(large, 256, 50000, 8, ceil, nil); c.CeilingThreads != 2 {
		t.Errorf("8 cores: ceiling at %d threads, want 2", c.CeilingThreads)
	}
	// Above the ceiling: a measurement problem, flagged, never a figure.
	if c := computeFor(large, 256, 50000, 1, ceil, nil); c.CeilingThreads != 1 || c.PctOfCeiling != nil || !strings.Contains(c.Note, "measurement problem: 112% of the ceiling") {
		t.Errorf("1 core: %+v", c)
	}
	// No ceiling: GFLOP/s still, the share null with the reason.
	c = computeFor(large, 256, 50000, 2, nil, nil)
	if c.GFLOPS == nil || c.PctOfCeiling != nil || c.CeilingGFLOPS != nil || !strings.Contains(c.Note, "ceiling: true") {
		t.Errorf("no ceiling: %+v", c)
	}
	// Unknown FLOPs: every figure null, the reason kept.
	c = computeFor(flopsEntry{note: "flops unknown: tree ensembles compare rather than multiply"}, 256, 50000, 2, ceil, nil)
	if c.GFLOPS != nil || c.PctOfCeiling != nil || !strings.Contains(c.Note, "tree") {
		t.Errorf("trees: %+v", c)
	}
}

// Bytes per row, intensity and the roofline: the large MLP at batch 256
// moves its 256-byte input row, 48-byte output row (int64 label + 10
// float32) and its 4 505 688 bytes of weights ÷ 256 a row.
func TestComputeBytes(t *testing.T) {
	e := modelFlops(filepath.Join("..", "training", "models", "mlp_large_digits.onnx"))
	bw := &results.Ceiling{Points: []results.CeilingPoint{{Threads: 1, GFLOPS: 100, BandwidthGBPS: 10}, {Threads: 2, GFLOPS: 180, BandwidthGBPS: 12}}}
	c := computeFor(e, 256, 50000, 2, bw, nil)
	wantBytes := 256 + 48 + 4505688/256.0
	if c.BytesPerRow == nil || math.Abs(*c.BytesPerRow-wantBytes) > 1e-9 {
		t.Fatalf("bytes per row = %v, want %g", c.BytesPerRow, wantBytes)
	}
	ai := float64(e.flops) / wantBytes
	if c.FlopsPerByte == nil || math.Abs(*c.FlopsPerByte-ai) > 1e-9 {
		t.Errorf("flops per byte = %v, want %g", c.FlopsPerByte, ai)
	}
	// 125.6 FLOP/B × 12 GB/s is above 180 GFLOP/s: compute-bound.
	if c.CeilingBandwidthGBPS == nil || *c.CeilingBandwidthGBPS != 12 || c.AttainableGFLOPS == nil || *c.AttainableGFLOPS != 180 || c.Note != "" {
		t.Errorf("roofline = %+v", c)
	}
	// Batch 1 reads all the weights per row: memory-bound, the slope binds.
	c = computeFor(e, 1, 50000, 1, bw, nil)
	if want := float64(e.flops) / (256 + 48 + 4505688) * 10; c.AttainableGFLOPS == nil || math.Abs(*c.AttainableGFLOPS-want) > 1e-9 {
		t.Errorf("batch 1: attainable = %v, want %g", c.AttainableGFLOPS, want)
	}
	// A ceiling cached before bandwidth was measured: GFLOP/s share, no roofline.
	old := &results.Ceiling{Points: []results.CeilingPoint{{Threads: 1, GFLOPS: 200}}}
	c = computeFor(e, 256, 50000, 1, old, nil)
	if c.PctOfCeiling == nil || c.CeilingBandwidthGBPS != nil || c.AttainableGFLOPS != nil || c.FlopsPerByte == nil || !strings.Contains(c.Note, "no bandwidth ceiling") {
		t.Errorf("old ceiling: %+v", c)
	}
	// No batch size: bytes unknown, with the reason.
	c = computeFor(e, 0, 50000, 1, bw, nil)
	if c.BytesPerRow != nil || c.FlopsPerByte != nil || c.AttainableGFLOPS != nil || !strings.Contains(c.Note, "no batch size") {
		t.Errorf("no batch: %+v", c)
	}
	// Trees: bytes unknown too, both reasons kept.
	c = computeFor(modelFlops(filepath.Join("..", "training", "models", "rf_digits.onnx")), 256, 50000, 1, bw, nil)
	if c.BytesPerRow != nil || !strings.Contains(c.Note, "tree ensembles") || !strings.Contains(c.Note, "bytes unknown") {
		t.Errorf("trees: %+v", c)
	}
}

// A CNN's FLOPs per item come from the shapes inferred through its graph:
// ResNet-50 at 224×224 is 4.09 G multiply-adds, 8.2 GFLOPs with the cheap
// element-wise ops; a fixed batch of 1 is one item a call.
func TestItemFlopsResNet(t *testing.T) {
	feeds := []onnx.Feed{{Name: "gpu_0/data_0", DType: onnx.DFloat32, Item: []int64{3, 224, 224}, Batch: 1}}
	e := itemFlops("../onnx/graph/testdata/light_resnet50.onnx", feeds, 1)
	if e.flops < 8.1e9 || e.flops > 8.3e9 {
		t.Fatalf("ResNet-50: %d FLOPs per item (%s), want ≈ 8.2e9", e.flops, e.note)
	}
}

// TestCeilingSharePairedByRound: with the ceiling measured every round,
// a cell's share is the median of its per-round ratios — a round the
// whole machine ran slow moves the cell and the burst alike and cancels —
// with the paired interval; above 100% it is a measurement problem.
func TestCeilingSharePairedByRound(t *testing.T) {
	const flops = 1e6 // per row: rows/s × 1e-3 = GFLOP/s
	p := results.CeilingPoint{Threads: 2, GFLOPS: 100}
	ceil := &results.Ceiling{How: results.CeilingEveryRound, Points: []results.CeilingPoint{{Threads: 1, GFLOPS: 60}, p}}
	var reps []results.Repetition
	for r := 1; r <= 10; r++ {
		slow := 1.0
		if r%3 == 0 {
			slow = 0.5 // a busy round: both sides at half speed
		}
		burst := 100 * slow * (1 + 0.01*float64(r%2))
		ceil.Rounds = append(ceil.Rounds, results.CeilingRound{Round: r, Threads: 2, GFLOPS: burst}, results.CeilingRound{Round: r, Threads: 1, GFLOPS: 1})
		reps = append(reps, results.Repetition{Round: r, RowsPerSecond: 1e3 * 0.6 * burst})
	}
	g := 50.0 // the cell's median over the rounds: a plain ratio would say 50%
	s := ceilingShare(flops, g, p, reps, ceil)
	if s.rounds != 10 || math.Abs(s.pct-60) > 1e-9 || s.problem != "" {
		t.Fatalf("paired share = %+v, want 60%% over 10 rounds", s)
	}
	if s.lo <= 0 || s.lo > 60 || s.hi < 60 || s.hi > 61 {
		t.Errorf("interval %.2f–%.2f, want around 60", s.lo, s.hi)
	}
	// The 1-core bursts are another point's: never paired with a 2-core cell.
	if s.ceilGFLOPS < 50 || s.ceilGFLOPS > 101 {
		t.Errorf("ceiling GFLOP/s %v, want the 2-core bursts' median", s.ceilGFLOPS)
	}
	c := computeFor(flopsEntry{flops: flops}, 256, g*1e3, 2, ceil, reps)
	if c.PctOfCeiling == nil || c.PctOfCeilingLo == nil || c.PctOfCeilingHi == nil || c.PctOfCeilingRounds != 10 || math.Abs(*c.PctOfCeiling-60) > 1e-9 {
		t.Fatalf("compute = %+v", c)
	}
	// A cell faster than every round's burst: flagged, no figure.
	for i := range reps {
		reps[i].RowsPerSecond *= 2
	}
	c = computeFor(flopsEntry{flops: flops}, 256, g*2e3, 2, ceil, reps)
	if c.PctOfCeiling != nil || c.PctOfCeilingLo != nil || !strings.Contains(c.Note, "measurement problem: 120% of the ceiling on 2 cores (median of 10 per-round ratios") {
		t.Errorf("above the ceiling: pct %v, note %q", c.PctOfCeiling, c.Note)
	}
	if !strings.Contains(c.Note, "the whole interval is above 100%") {
		t.Errorf("above the ceiling in every round: reason %q", c.Note)
	}
	// Above by its median only, the interval reaching below: still no
	// figure, and the reason says the load moved.
	for i := range reps {
		f := 0.9
		if i%2 == 0 {
			f = 1.3
		}
		reps[i].RowsPerSecond = 1e3 * f * ceil.RoundsAt(2)[i].GFLOPS
	}
	c = computeFor(flopsEntry{flops: flops}, 256, g*2e3, 2, ceil, reps)
	if c.PctOfCeiling != nil || !strings.Contains(c.Note, "measurement problem: 110% of the ceiling") || !strings.Contains(c.Note, "the interval reaches below 100%") {
		t.Errorf("above by the median: pct %v, note %q", c.PctOfCeiling, c.Note)
	}
	// Measured before the run (the sequential schedule): the plain ratio
	// against the best trial, no interval, even with bursts on file.
	ceil.How = results.CeilingBeforeRun
	if s := ceilingShare(flops, g, p, reps, ceil); s.rounds != 0 || s.pct != 50 || s.hi != 0 {
		t.Errorf("before the run: %+v", s)
	}
}
