package strategy

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// collector is a test Sink that copies every delivered window into a
// store of the whole pass and counts each row it receives.
type collector struct {
	all  *workload.Outputs
	seen []int
}

func (c *collector) Batch(start, n int, win *workload.Outputs) {
	for k, l := range win.Layout {
		w := l.Width
		if l.Kind == onnx.Int64 {
			copy(c.all.I64[k][start*w:(start+n)*w], win.I64[k][:n*w])
		} else {
			copy(c.all.F32[k][start*w:(start+n)*w], win.F32[k][:n*w])
		}
	}
	for r := start; r < start+n; r++ {
		c.seen[r]++
	}
}

func (c *collector) Reset() {
	c.all.Reset()
	clear(c.seen)
}

// TestStreamingStrategiesMatchInMemory runs every strategy that streams on
// a streamed Parquet file and a streamed (mapped) Arrow IPC file, at batch
// sizes with a short last batch, and requires each row delivered exactly
// once with the in-memory sequential strategy's exact outputs.
func TestStreamingStrategiesMatchInMemory(t *testing.T) {
	if _, _, err := onnx.Init(""); err != nil {
		t.Fatalf("%v (run `make ort`)", err)
	}
	model := filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx")
	spec := datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", "digits.parquet"), Label: "label", Limit: 500}
	mem, err := workload.NewModel(model, spec)
	if err != nil {
		t.Fatal(err)
	}
	ipc := filepath.Join(t.TempDir(), "digits.arrow")
	// The workload holds no labels; the file gets them back beside its features.
	labelled, err := datasets.Load(datasets.Spec{Path: spec.Path, Features: mem.Table().FeatureNames, Label: "label", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if err := datasets.WriteArrowIPC(labelled, ipc); err != nil {
		t.Fatal(err)
	}
	reg := Default()
	for _, file := range []string{spec.Path, ipc} {
		s := spec
		s.Path = file
		w, err := workload.NewStream(model, s)
		if err != nil {
			t.Fatal(err)
		}
		if !workload.Streams(w) || w.Data() != nil || w.Rows() != 500 || w.RecordBytes() != mem.RecordBytes() || workload.ResidentBytes(w) != 0 {
			t.Fatalf("%s: streamed workload: rows %d record bytes %d data %d", file, w.Rows(), w.RecordBytes(), len(w.Data()))
		}
		for _, bs := range []int{7, 64} {
			ref := runAll(t, sequentialDef(), mem, tp{BatchSize: bs})
			for _, tc := range []struct {
				name  string
				point map[string]any
			}{
				{"sequential", nil},
				{"intra-op", map[string]any{"threads": 2}},
				{"inter-op", nil},
				{"pipeline", map[string]any{"workers": 1, "queue_depth": 1}},
				{"pipeline", map[string]any{"workers": 3}},
				{"processes", map[string]any{"workers": 2, "transport": "copy"}},
				{"processes", map[string]any{"workers": 1, "transport": "copy", "start": "per-run"}},
			} {
				t.Run(fmt.Sprintf("%s/%s/%v/batch=%d", filepath.Ext(file), tc.name, tc.point, bs), func(t *testing.T) {
					def := reg[tc.name]
					cfg, err := def.Decode(tc.point, DecodeOptions{Batch: bs})
					if err != nil {
						t.Fatal(err)
					}
					if ok, why := CanStream(cfg); !ok {
						t.Fatalf("cannot stream: %s", why)
					}
					st := def.New()
					job := &Job{Workload: w, Config: cfg, Options: onnx.DefaultOptions(), Command: testWorkerCommand()}
					if err := st.Start(context.Background(), job); err != nil {
						t.Fatal(err)
					}
					defer st.Close()
					c := &collector{all: workload.NewOutputs(w.Layout(), w.Rows(), bs), seen: make([]int, w.Rows())}
					out := workload.NewStreamOutputs(w.Layout(), w.Rows(), bs, c)
					recs := metrics.NewRecorders(st.Recorders())
					// A short pass (warm-up), then two full ones: each pass reads the file again.
					for _, n := range []int{min(2, job.Batches()), job.Batches(), job.Batches()} {
						out.Reset()
						if err := st.Pass(context.Background(), n, out, recs); err != nil {
							t.Fatal(err)
						}
						if err := out.Coverage(n); err != nil {
							t.Fatal(err)
						}
					}
					for r, k := range c.seen {
						if k != 1 {
							t.Fatalf("row %d delivered %d times", r, k)
						}
					}
					for k := range ref.Layout {
						if !slices.Equal(c.all.I64[k], ref.I64[k]) || !slices.Equal(c.all.F32[k], ref.F32[k]) {
							t.Fatalf("output %s differs from the in-memory sequential strategy's", ref.Layout[k].Name)
						}
					}
				})
			}
		}
	}
}

// A streamed workload given a store that holds rows is an error, not a
// panic; so is a strategy that needs the table.
func TestStreamingNeedsAStreamingStore(t *testing.T) {
	if _, _, err := onnx.Init(""); err != nil {
		t.Fatalf("%v (run `make ort`)", err)
	}
	w, err := workload.NewStream(filepath.Join("..", "..", "training", "models", "mlp_small_digits.onnx"),
		datasets.Spec{Path: filepath.Join("..", "..", "datasets", "data", "digits.parquet"), Label: "label", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		def   Definition
		point map[string]any
	}{
		{sequentialDef(), nil},
		{pipelineDef(), map[string]any{"workers": 1}},
		{processesDef(), map[string]any{"workers": 1, "transport": "copy"}},
	} {
		def := tc.def
		cfg, err := def.Decode(tc.point, DecodeOptions{Batch: 10})
		if err != nil {
			t.Fatal(err)
		}
		st := def.New()
		job := &Job{Workload: w, Config: cfg, Options: onnx.DefaultOptions(), Command: testWorkerCommand()}
		if err := st.Start(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		err = st.Pass(context.Background(), job.Batches(), workload.NewOutputs(w.Layout(), w.Rows(), 10), metrics.NewRecorders(1))
		st.Close()
		if err == nil || !strings.Contains(err.Error(), "streaming output store") {
			t.Errorf("%s: %v", def.Name, err)
		}
	}
	// A strategy that reads the table refuses a streamed workload at Start,
	// whatever let it through.
	for _, name := range []string{"goroutines", "worker-pool", "hybrid"} {
		def := Default()[name]
		cfg, err := def.Decode(map[string]any{"workers": 1}, DecodeOptions{Batch: 10})
		if err != nil {
			t.Fatal(err)
		}
		st := def.New()
		err = st.Start(context.Background(), &Job{Workload: w, Config: cfg, Options: onnx.DefaultOptions()})
		st.Close()
		if err == nil || !strings.Contains(err.Error(), "cannot run a streamed workload (workload.dataset.streaming): it reads its batches from the whole table in memory") {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"goroutines", "worker-pool", "hybrid", "processes", "batcher", "py-pool"} {
		if ok, why := CanStream(Default()[name].NewConfig()); ok || why == "" {
			t.Errorf("%s streams with its defaults", name)
		}
	}
	if got := Default().Streaming(); !slices.Equal(got, []string{"inter-op", "intra-op", "pipeline", "processes", "sequential"}) {
		t.Errorf("streaming strategies %v", got)
	}
}
