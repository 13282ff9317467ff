package workload

import (
	"fmt"
	"log/slog"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
)

// Stream is an ONNX model over a dataset that is never held in memory
// (workload.dataset.streaming): its row count and width come from the
// file's metadata, and each pass reads the rows again, batch by batch,
// through OpenSource (Parquet pages of the row groups, or the record
// batches of a mapped Arrow IPC file, handed back after use). Data is nil:
// only strategies that stream (strategy.Streamer) run it, and their outputs
// go to a streaming Outputs store one batch at a time (NewStreamOutputs).
type Stream struct {
	spec   datasets.Spec
	model  *onnx.Model
	rows   int
	width  int
	layout []onnx.Output
}

var _ Workload = (*Stream)(nil)

// NewStream opens the dataset to learn its rows and width (reading no row
// data), checks that the model accepts its rows, and learns the output
// layout from a throwaway session. onnx.Init must have run.
func NewStream(modelPath string, spec datasets.Spec) (*Stream, error) {
	m, err := onnx.Inspect(modelPath)
	if err != nil {
		return nil, err
	}
	spec.ModelFeatures, spec.ModelWidth = m.FeatureNames, m.InputWidth()
	spec.Stream = true
	r, err := datasets.Open(spec)
	if err != nil {
		return nil, err
	}
	for _, n := range r.Notes() {
		slog.Debug("dataset", "note", n)
	}
	rows, width := r.Rows(), r.Width()
	if err := r.Close(); err != nil {
		return nil, err
	}
	if rows == 0 {
		return nil, fmt.Errorf("%s: no rows to run", spec.Path)
	}
	if rows != int64(int(rows)) || rows > 1<<40 {
		return nil, fmt.Errorf("%s: %d rows, too many to count", spec.Path, rows)
	}
	if err := m.Check(width); err != nil {
		return nil, err
	}
	s, err := onnx.NewSession(m, width, onnx.DefaultOptions())
	if err != nil {
		return nil, err
	}
	layout := s.Outputs()
	s.Close()
	spec.Limit = int(rows)
	return &Stream{spec: spec, model: m, rows: int(rows), width: width, layout: layout}, nil
}

func (w *Stream) Kind() string               { return "onnx" }
func (w *Stream) Rows() int                  { return w.rows }
func (w *Stream) RecordBytes() int           { return 4 * w.width }
func (w *Stream) Data() []byte               { return nil }
func (w *Stream) Layout() []onnx.Output      { return w.layout }
func (w *Stream) UsesORT() bool              { return true }
func (w *Stream) ModelInfo() *onnx.Model     { return w.model }
func (w *Stream) Describe() (string, string) { return w.model.Path, w.spec.Path }

// Remote describes the workload to a worker process (transport copy: the
// runner sends it each batch it reads).
func (w *Stream) Remote() Remote {
	spec := w.spec
	return Remote{Kind: w.Kind(), Model: w.model.Path, RecordBytes: w.RecordBytes(), Dataset: &spec}
}

// Streaming marks the workload as streamed: see Streams.
func (w *Stream) Streaming() bool { return true }

// Open creates one ORT session.
func (w *Stream) Open(opts onnx.Options) (Engine, error) {
	s, err := onnx.NewSession(w.model, w.width, opts)
	if err != nil {
		return nil, err
	}
	return &modelEngine{s: s}, nil
}

// OpenSource opens the dataset file for one pass.
func (w *Stream) OpenSource() (Source, error) {
	r, err := datasets.Open(w.spec)
	if err != nil {
		return nil, err
	}
	return &fileSource{r: r}, nil
}

// Streams reports whether w is streamed: its rows are read from the file
// each pass and never held whole (Data is nil).
func Streams(w Workload) bool {
	s, ok := w.(interface{ Streaming() bool })
	return ok && s.Streaming()
}

// ResidentBytes is the memory w's input rows hold for the whole run: the
// table, or nothing for a streamed workload (one batch at a time).
func ResidentBytes(w Workload) int64 {
	if Streams(w) {
		return 0
	}
	return int64(w.Rows()) * int64(w.RecordBytes())
}
