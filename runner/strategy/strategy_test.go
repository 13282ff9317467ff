package strategy

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// runAll starts a strategy, runs a full pass and returns its outputs.
func runAll(t *testing.T, def Definition, w workload.Workload, p tp) *workload.Outputs {
	t.Helper()
	if err := validate(def, p); err != nil {
		t.Fatal(err)
	}
	return runWith(t, def, w, conf(def, p))
}

// runWith is runAll with a config made by the caller.
func runWith(t *testing.T, def Definition, w workload.Workload, cfg Config) *workload.Outputs {
	t.Helper()
	s := def.New()
	job := &Job{Workload: w, Config: cfg, Options: onnx.DefaultOptions(), Command: testWorkerCommand()}
	if err := s.Start(context.Background(), job); errors.Is(err, ErrSkip) {
		s.Close()
		t.Skip(err) // the py-* strategies without a Python environment
	} else if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := workload.NewOutputs(w.Layout(), w.Rows(), job.BatchSize())
	recs := metrics.NewRecorders(s.Recorders())
	// A short pass first (warm-up), then a full one into reset outputs.
	if err := s.Pass(context.Background(), min(2, job.Batches()), out, recs); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	recs.Reset()
	if err := s.Pass(context.Background(), job.Batches(), out, recs); err != nil {
		t.Fatal(err)
	}
	if err := out.Coverage(job.Batches()); err != nil {
		t.Fatal(err)
	}
	var n int64
	for i := range recs.Len() {
		n += recs.Get(i).Count()
	}
	if n != int64(job.Batches()) {
		t.Fatalf("recorded %d latencies for %d batches", n, job.Batches())
	}
	return out
}

// TestHeavyTaskIdenticalEverywhere runs every strategy that can run the heavy
// task at several worker counts and batch sizes (including ones that leave a
// short last batch) and requires the exact same outputs.
func TestHeavyTaskIdenticalEverywhere(t *testing.T) {
	const items, cost = 103, 500
	w, err := workload.NewHeavy(items, cost)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int64, items)
	for i := range want {
		want[i] = int64(workload.HeavyItem(uint64(i), cost))
	}
	reg := Default()
	for _, name := range reg.Names() {
		def := reg[name]
		if def.NeedsORT {
			continue
		}
		for _, workers := range []int{1, 3} {
			for _, bs := range []int{1, 10, 200} {
				t.Run(fmt.Sprintf("%s/workers=%d/batch=%d", name, workers, bs), func(t *testing.T) {
					out := runAll(t, def, w, tp{Workers: workers, BatchSize: bs})
					for i, v := range out.I64[0] {
						if v != want[i] {
							t.Fatalf("item %d: got %d want %d", i, v, want[i])
						}
					}
				})
			}
		}
	}
}

func TestHeavyItemKnownValues(t *testing.T) {
	// Pinned so the Python twin can check the same numbers.
	got := []uint64{workload.HeavyItem(0, 1), workload.HeavyItem(1, 1000), workload.HeavyItem(12345, 200000)}
	for i, g := range got {
		if g == 0 {
			t.Errorf("value %d is zero", i)
		}
	}
	if workload.HeavyItem(7, 10) == workload.HeavyItem(8, 10) {
		t.Error("different seeds give the same value")
	}
}

func TestPassStopsOnCancel(t *testing.T) {
	w, _ := workload.NewHeavy(10000, 20000)
	reg := Default()
	for _, name := range []string{"goroutines", "worker-pool", "pipeline", "sequential"} {
		t.Run(name, func(t *testing.T) {
			def := reg[name]
			p := tp{Workers: 2, BatchSize: 1}
			s := def.New()
			job := &Job{Workload: w, Config: conf(def, p), Options: onnx.DefaultOptions()}
			if err := s.Start(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			out := workload.NewOutputs(w.Layout(), w.Rows(), 1)
			err := s.Pass(ctx, job.Batches(), out, metrics.NewRecorders(s.Recorders()))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Pass after cancel: %v", err)
			}
		})
	}
}

func TestRegistryLookup(t *testing.T) {
	reg := Default()
	if _, err := reg.Lookup("nope"); err == nil {
		t.Fatal("unknown strategy accepted")
	}
	for _, name := range reg.Names() {
		d := reg[name]
		if d.Name != name || d.New == nil || d.NewConfig == nil || d.Summary == "" {
			t.Errorf("%s: incomplete definition", name)
		}
	}
}
