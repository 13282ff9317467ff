package workload

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
)

// Model is an ONNX model over an in-memory dataset.
type Model struct {
	spec   datasets.Spec
	model  *onnx.Model
	table  *datasets.Table
	layout []onnx.Output
	data   []byte // the item records: the table's float32 rows as bytes
	shared
}

var _ Workload = (*Model)(nil)

// NewModel loads the dataset, checks that the model accepts its rows, and
// learns the output layout from a throwaway session. onnx.Init must have run.
func NewModel(modelPath string, spec datasets.Spec) (*Model, error) {
	m, err := onnx.Inspect(modelPath)
	if err != nil {
		return nil, err
	}
	// Columns are matched to the model's features by name where the model
	// stores them, never by position.
	spec.ModelFeatures, spec.ModelWidth = m.FeatureNames, m.InputWidth()
	t, err := datasets.LoadFeatures(spec)
	if err != nil {
		return nil, err
	}
	for _, n := range t.Notes {
		slog.Debug("dataset", "note", n)
	}
	if t.Rows == 0 {
		return nil, fmt.Errorf("%s: no rows to run", spec.Path)
	}
	if err := m.Check(t.Width); err != nil {
		return nil, err
	}
	s, err := onnx.NewSession(m, t.Width, onnx.DefaultOptions())
	if err != nil {
		return nil, err
	}
	layout := s.Outputs()
	s.Close()
	spec.Limit = t.Rows
	return &Model{spec: spec, model: m, table: t, layout: layout, data: raw.Bytes(t.Data)}, nil
}

func (w *Model) Kind() string               { return "onnx" }
func (w *Model) Rows() int                  { return w.table.Rows }
func (w *Model) RecordBytes() int           { return 4 * w.table.Width }
func (w *Model) Data() []byte               { return w.data }
func (w *Model) Layout() []onnx.Output      { return w.layout }
func (w *Model) UsesORT() bool              { return true }
func (w *Model) Table() *datasets.Table     { return w.table }
func (w *Model) ModelInfo() *onnx.Model     { return w.model }
func (w *Model) Describe() (string, string) { return w.model.Path, w.table.Path }

// Share moves the table's rows into shared memory (Sharer).
func (w *Model) Share() (*os.File, error) {
	return w.share(&w.data, w.table.Rows, w.RecordBytes())
}

// Open creates one ORT session.
func (w *Model) Open(opts onnx.Options) (Engine, error) {
	s, err := onnx.NewSession(w.model, w.table.Width, opts)
	if err != nil {
		return nil, err
	}
	return &modelEngine{s: s}, nil
}

type modelEngine struct{ s *onnx.Session }

func (e *modelEngine) NewExecutor(rowCounts ...int) (Executor, error) {
	wk, err := e.s.NewWorker(rowCounts...)
	if err != nil {
		return nil, err
	}
	return &modelExecutor{w: wk, record: e.s.RecordBytes(), layout: e.s.Outputs()}, nil
}

func (e *modelEngine) Close() error { return e.s.Close() }

type modelExecutor struct {
	w      *onnx.Worker
	record int // bytes per item record
	layout []onnx.Output
}

// Run is the hot path: one copy in, one ORT run, one copy out per output.
func (x *modelExecutor) Run(in []byte, start int, out *Outputs) error {
	if err := x.w.RunRecords(in); err != nil {
		return err
	}
	n := len(in) / x.record
	for k, l := range x.layout {
		lo, hi := start*l.Width, (start+n)*l.Width
		if l.Kind == onnx.Int64 {
			copy(out.I64[k][lo:hi], x.w.Int64(k))
		} else {
			copy(out.F32[k][lo:hi], x.w.Float32(k))
		}
	}
	return nil
}

func (x *modelExecutor) Close() error { return x.w.Close() }

// OpenSource re-opens the dataset file as a stream of rows.
func (w *Model) OpenSource() (Source, error) {
	r, err := datasets.Open(w.spec)
	if err != nil {
		return nil, err
	}
	return &fileSource{r: r}, nil
}

type fileSource struct{ r *datasets.Reader }

// Read decodes whole rows into dst, which must be aligned for float32 (the
// strategies allocate their buffers so).
func (s *fileSource) Read(dst []byte) (int, error) {
	f, ok := raw.As[float32](dst[:len(dst)/4*4])
	if !ok {
		return 0, errors.New("read buffer not aligned for float32 rows")
	}
	rows, err := s.r.Read(f, nil)
	return rows * s.r.Width() * 4, err
}

func (s *fileSource) Close() error { return s.r.Close() }
