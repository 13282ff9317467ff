package strategy

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

func pipelineConf(t *testing.T, point map[string]any, bs int) Config {
	t.Helper()
	cfg, err := pipelineDef().Decode(point, DecodeOptions{Batch: bs})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The pipeline gives the sequential strategy's outputs whether its reader
// decodes the file or reads the in-memory table.
func TestPipelineSources(t *testing.T) {
	if _, _, err := onnx.Init(""); err != nil {
		t.Fatalf("%v (run `make ort`)", err)
	}
	w, err := workload.NewModel(filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx"),
		datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", "digits.parquet"), Label: "label", Limit: 300})
	if err != nil {
		t.Fatal(err)
	}
	ref := runAll(t, sequentialDef(), w, tp{BatchSize: 7})
	for _, source := range []string{SourceFile, SourceMemory} {
		t.Run(source, func(t *testing.T) {
			cfg := pipelineConf(t, map[string]any{"workers": 2, "source": source}, 7)
			if !strings.Contains(cfg.Describe(), sourceWords[source]) {
				t.Errorf("description %q does not name the source", cfg.Describe())
			}
			s := pipelineDef().New()
			job := &Job{Workload: w, Config: cfg, Options: onnx.DefaultOptions()}
			if err := s.Start(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			out := workload.NewOutputs(w.Layout(), w.Rows(), 7)
			if err := s.Pass(context.Background(), job.Batches(), out, metrics.NewRecorders(s.Recorders())); err != nil {
				t.Fatal(err)
			}
			if err := out.Coverage(job.Batches()); err != nil {
				t.Fatal(err)
			}
			for k := range ref.Layout {
				if !slices.Equal(out.I64[k], ref.I64[k]) || !slices.Equal(out.F32[k], ref.F32[k]) {
					t.Fatalf("output %s differs from the sequential strategy's", ref.Layout[k].Name)
				}
			}
		})
	}
}

func TestPipelineSourceRejected(t *testing.T) {
	err := errors.Join(pipelineConf(t, map[string]any{"workers": 1, "source": "disk"}, 8).Validate()...)
	if err == nil || !strings.Contains(err.Error(), "source") || !strings.Contains(err.Error(), "memory") || strings.Contains(err.Error(), "\n") {
		t.Errorf("source: disk: %v", err)
	}
}
