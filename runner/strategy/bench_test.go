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

// BenchmarkSequentialPass is the sequential strategy with all its
// recording (latency per batch, outputs copied into the store, batch
// counters) on the tiny model at batch 1 — compare its ns/row with
// onnx.BenchmarkBareRun for the harness overhead.
func BenchmarkSequentialPass(b *testing.B) {
	if _, _, err := onnx.Init(""); err != nil {
		b.Fatal(err)
	}
	repo := filepath.Join("..", "..")
	w, err := workload.NewModel(filepath.Join(repo, "training/models/logreg_breast_cancer.onnx"),
		datasets.Spec{Path: filepath.Join(repo, "datasets/data/breast_cancer.parquet"), Label: "label"})
	if err != nil {
		b.Fatal(err)
	}
	def := Default()["sequential"]
	p := tp{BatchSize: 1}
	s := def.New()
	job := &Job{Workload: w, Config: conf(def, p), Options: onnx.DefaultOptions()}
	if err := s.Start(context.Background(), job); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	out := workload.NewOutputs(w.Layout(), w.Rows(), 1)
	recs := metrics.NewRecorders(1)
	ctx := context.Background()
	rows := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out.Reset()
		if err := s.Pass(ctx, job.Batches(), out, recs); err != nil {
			b.Fatal(err)
		}
		rows += w.Rows()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}
