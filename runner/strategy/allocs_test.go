package strategy

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// TestPassAllocs: a measured pass allocates nothing per batch, over a real
// model on the real runtime, in every in-process strategy. Sessions,
// tensors, recorders and buffers are made in Start; a pass reads batches,
// runs the session and records.
//
// The single-goroutine strategies allocate nothing at all. The concurrent
// ones allocate a fixed handful per pass, whatever its length: the
// errgroup and its cancellable context (so the first error stops the other
// workers), one closure and one goroutine per worker, the pass's queues
// (worker-pool, pipeline) — set-up the pass pays once, outside the timed
// batches. So the test compares a short pass with a long one: the long one
// may not allocate more, beyond a margin for the runtime's own goroutine
// bookkeeping. The pipeline reading its file (source: file, the default)
// is left out: decoding the file each pass is what it measures, and the
// Arrow decoder allocates its pages.
func TestPassAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	if _, _, err := onnx.Init(""); err != nil {
		t.Skipf("no ORT library: %v", err)
	}
	repo := filepath.Join("..", "..")
	w, err := workload.NewModel(filepath.Join(repo, "training/models/mlp_small_digits.onnx"),
		datasets.Spec{Path: filepath.Join(repo, "datasets/data/digits.parquet"), Label: "label", Limit: 512})
	if err != nil {
		t.Fatal(err)
	}
	const bs = 8
	for _, tc := range []struct {
		name  string
		point map[string]any
		fixed bool // allocates nothing per pass either
	}{
		{"sequential", nil, true},
		{"intra-op", map[string]any{"threads": 2}, true},
		{"inter-op", map[string]any{"threads": 2}, true},
		{"goroutines", map[string]any{"workers": 2}, false},
		{"worker-pool", map[string]any{"workers": 2}, false},
		{"hybrid", map[string]any{"workers": 2, "threads": 2}, false},
		{"pipeline", map[string]any{"workers": 2, "source": SourceMemory}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := Default()[tc.name]
			cfg, err := def.Decode(tc.point, DecodeOptions{Batch: bs})
			if err != nil {
				t.Fatal(err)
			}
			s := def.New()
			job := &Job{Workload: w, Config: cfg, Options: onnx.DefaultOptions()}
			ctx := context.Background()
			if err := s.Start(ctx, job); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			out := workload.NewOutputs(w.Layout(), w.Rows(), bs)
			recs := metrics.NewRecorders(s.Recorders())
			var passErr error
			pass := func(n int) func() {
				return func() {
					out.Reset()
					if err := s.Pass(ctx, n, out, recs); err != nil && passErr == nil {
						passErr = err
					}
				}
			}
			long, short := job.Batches(), job.Batches()/8
			pass(long)() // warm: lazily grown buffers reach their size
			allocShort := testing.AllocsPerRun(10, pass(short))
			allocLong := testing.AllocsPerRun(10, pass(long))
			if passErr != nil {
				t.Fatal(passErr)
			}
			t.Logf("allocations per pass: %.0f over %d batches, %.0f over %d", allocShort, short, allocLong, long)
			if tc.fixed && (allocShort > 0 || allocLong > 0) {
				t.Errorf("a pass allocates: %.0f times over %d batches, %.0f over %d", allocShort, short, allocLong, long)
			}
			// Less than one allocation per 8 batches more: none per batch.
			if extra := allocLong - allocShort; extra >= float64(long-short)/8 {
				t.Errorf("a pass allocates per batch: %.0f times over %d batches, %.0f over %d", allocShort, short, allocLong, long)
			}
		})
	}
}
