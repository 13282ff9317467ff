package workload

import (
	"fmt"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/internal/raw"

	"github.com/ortbench/ortbench/onnx"
)

// Remote describes a workload to another process (a worker of the processes
// strategy): enough to rebuild its engine there, without its data, which
// travels separately (copied batch by batch, or memory-mapped).
type Remote struct {
	Kind  string `json:"kind"`            // "onnx" | "heavy-task"
	Model string `json:"model,omitempty"` // onnx: the model file
	// RecordBytes is the bytes of one item's inputs (Workload.RecordBytes).
	RecordBytes int `json:"record_bytes"`
	Cost        int `json:"cost,omitempty"` // heavy-task: rounds per item
	// Dataset is the onnx workload's dataset selection, for a worker that
	// loads the data itself (transport replicate).
	Dataset *datasets.Spec `json:"dataset,omitempty"`
	// Feeds and Origin describe a Tensors workload: how each input is fed,
	// and where its records came from (made again by LoadData).
	Feeds  []onnx.Feed `json:"feeds,omitempty"`
	Origin *Origin     `json:"origin,omitempty"`
}

// Remoter is implemented by workloads that can run in a worker process.
type Remoter interface {
	Remote() Remote
}

// Remote describes the model workload to a worker process.
func (w *Model) Remote() Remote {
	spec := w.spec
	return Remote{Kind: w.Kind(), Model: w.model.Path, RecordBytes: w.RecordBytes(), Dataset: &spec}
}

// LoadData loads the workload's whole input in this process, rows rows of
// Width values: the onnx workload's dataset read from its file, the heavy
// task's seeds made again. A worker of transport replicate holds it.
func (r Remote) LoadData(rows int) ([]byte, error) {
	switch {
	case r.Kind == "heavy-task":
		h, err := NewHeavy(rows, max(r.Cost, 1))
		if err != nil {
			return nil, err
		}
		return h.Data(), nil
	case r.Kind == "onnx" && r.Dataset != nil:
		t, err := datasets.LoadFeatures(*r.Dataset)
		if err != nil {
			return nil, err
		}
		if t.Rows != rows || 4*t.Width != r.RecordBytes {
			return nil, fmt.Errorf("%s: %d rows × %d features, the parent has %d × %d", r.Dataset.Path, t.Rows, t.Width, rows, r.RecordBytes/4)
		}
		return raw.Bytes(t.Data), nil
	}
	return nil, fmt.Errorf("workload kind %q has no data to load in a worker process", r.Kind)
}

// Remote describes the heavy task to a worker process.
func (h *Heavy) Remote() Remote {
	return Remote{Kind: h.Kind(), RecordBytes: heavyRecord, Cost: h.cost}
}

// BatchExecutor runs batches in a worker process, where the outputs hold one
// batch only: Run writes the results of in's rows at rows 0..n-1 of out,
// while first (the dataset row of in's first row) seeds row-dependent
// workloads (the heavy task). Not safe for concurrent use.
type BatchExecutor struct {
	layout []onnx.Output
	engine Engine
	exec   Executor
	cost   int // heavy task; 0 for onnx
}

// Open rebuilds the engine in this process (onnx.Init must have run for an
// onnx workload) and makes one executor for the given batch row counts.
func (r Remote) Open(opts onnx.Options, rowCounts ...int) (*BatchExecutor, error) {
	switch r.Kind {
	case "heavy-task":
		if r.Cost < 1 {
			return nil, fmt.Errorf("heavy task needs cost ≥ 1, got %d", r.Cost)
		}
		return &BatchExecutor{layout: (&Heavy{}).Layout(), cost: r.Cost}, nil
	case "onnx":
		m, err := onnx.Inspect(r.Model)
		if err != nil {
			return nil, err
		}
		s, err := r.session(m, opts)
		if err != nil {
			return nil, err
		}
		e := &modelEngine{s: s}
		x, err := e.NewExecutor(rowCounts...)
		if err != nil {
			_ = e.Close()
			return nil, err
		}
		return &BatchExecutor{layout: s.Outputs(), engine: e, exec: x}, nil
	}
	return nil, fmt.Errorf("workload kind %q cannot run in a worker process", r.Kind)
}

// Layout is the outputs each row produces.
func (x *BatchExecutor) Layout() []onnx.Output { return x.layout }

// Run processes in (whole rows; its first row is dataset row first) into
// rows 0.. of out.
func (x *BatchExecutor) Run(in []byte, first int, out *Outputs) error {
	if x.exec == nil {
		heavyInto(out.I64[0][:len(in)/heavyRecord], first, x.cost)
		return nil
	}
	return x.exec.Run(in, 0, out)
}

// Close releases the executor and its engine.
func (x *BatchExecutor) Close() error {
	if x.exec == nil {
		return nil
	}
	err := x.exec.Close()
	if cerr := x.engine.Close(); err == nil {
		err = cerr
	}
	return err
}

// session opens the worker's session: with the parent's feeds for a
// Tensors workload, else as a tabular model of RecordBytes/4 features.
func (r Remote) session(m *onnx.Model, opts onnx.Options) (*onnx.Session, error) {
	if r.Feeds != nil {
		if onnx.RecordBytes(r.Feeds) != r.RecordBytes {
			return nil, fmt.Errorf("%s: feeds of %d bytes an item, the parent sends %d", r.Model, onnx.RecordBytes(r.Feeds), r.RecordBytes)
		}
		return onnx.NewSessionFeeds(m, r.Feeds, opts)
	}
	if r.RecordBytes%4 != 0 {
		return nil, fmt.Errorf("%s: records of %d bytes are no whole number of float32 features", r.Model, r.RecordBytes)
	}
	if err := m.Check(r.RecordBytes / 4); err != nil {
		return nil, err
	}
	return onnx.NewSession(m, r.RecordBytes/4, opts)
}
