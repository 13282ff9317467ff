package onnx

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// Session is one ORT inference session. Safe for concurrent use: ORT's Run is
// thread-safe, and each goroutine brings its own Worker (tensors + binding).
type Session struct {
	model   *Model
	opts    Options
	width   int
	outputs []Output
	rowDims [][]int64 // per output: its shape after the batch dimension
	s       *ort.DynamicAdvancedSession
}

// NewSession loads the model with the given options. width is the number of
// features per row the caller will feed; it must match the model's input.
func NewSession(m *Model, width int, opts Options) (*Session, error) {
	if err := m.Check(width); err != nil {
		return nil, err
	}
	so, err := opts.sessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	outNames := make([]string, len(m.Outputs))
	for i, o := range m.Outputs {
		outNames[i] = o.Name
	}
	ds, err := ort.NewDynamicAdvancedSession(m.Path, []string{m.Inputs[0].Name}, outNames, so)
	if err != nil {
		return nil, fmt.Errorf("%s: creating session: %s", m.Path, oneLine(err))
	}
	s := &Session{model: m, opts: opts, width: width, s: ds}
	if err := s.resolveOutputs(); err != nil {
		ds.Destroy()
		return nil, err
	}
	return s, nil
}

// resolveOutputs fixes each output's per-row width; when the model leaves a
// non-batch dimension symbolic, one probe run over a zero row tells it.
func (s *Session) resolveOutputs() error {
	probe := false
	for _, o := range s.model.Outputs {
		kind := Float32
		if o.DType == "int64" {
			kind = Int64
		}
		w := 1
		for _, d := range o.Shape[1:] {
			if d < 0 {
				probe = true
			}
			w *= int(d)
		}
		s.outputs = append(s.outputs, Output{Name: o.Name, Kind: kind, Width: w})
		s.rowDims = append(s.rowDims, append([]int64(nil), o.Shape[1:]...))
	}
	if !probe {
		return nil
	}
	in, err := ort.NewTensor(ort.NewShape(1, int64(s.width)), make([]float32, s.width))
	if err != nil {
		return err
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(s.outputs))
	if err := s.s.Run([]ort.Value{in}, outs); err != nil {
		return fmt.Errorf("%s: probing output shapes: %s", s.model.Path, oneLine(err))
	}
	var bad error
	for i, v := range outs {
		if v == nil {
			continue
		}
		shape := v.GetShape()
		w := 1
		for _, d := range shape[1:] {
			w *= int(d)
		}
		if bad == nil && (len(shape) != len(s.model.Outputs[i].Shape) || shape[0] != 1 || w <= 0) {
			bad = fmt.Errorf("%s: output %q has shape %v for one input row, want [1, …] with a dynamic batch dimension and no empty dimension", s.model.Path, s.outputs[i].Name, []int64(shape))
		}
		s.outputs[i].Width = w
		s.rowDims[i] = append([]int64(nil), shape[1:]...)
		v.Destroy()
	}
	return bad
}

// Outputs describes what each Worker.Run produces, in model order.
func (s *Session) Outputs() []Output { return s.outputs }

// Width is the number of features per input row.
func (s *Session) Width() int { return s.width }

// Close releases the session. Workers must be closed first.
func (s *Session) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}

// binding is one batch size's worth of tensors, bound once.
type binding struct {
	rows int
	in   *ort.Tensor[float32]
	f32  []*ort.Tensor[float32] // per output; nil where the output is int64
	i64  []*ort.Tensor[int64]
	b    *ort.IoBinding
}

func (b *binding) destroy() {
	if b.b != nil {
		b.b.Destroy()
	}
	if b.in != nil {
		b.in.Destroy()
	}
	for _, t := range b.f32 {
		if t != nil {
			t.Destroy()
		}
	}
	for _, t := range b.i64 {
		if t != nil {
			t.Destroy()
		}
	}
}

// Worker runs batches through its Session with memory it owns. Not safe for
// concurrent use: give every goroutine its own.
type Worker struct {
	s        *Session
	bindings []*binding
	last     *binding
}

// NewWorker preallocates tensors for each batch row count it will be asked to
// run (typically the batch size and the last, shorter batch), so Run does not
// allocate. A row count not given here is bound on first use.
func (s *Session) NewWorker(rowCounts ...int) (*Worker, error) {
	w := &Worker{s: s}
	for _, n := range rowCounts {
		if _, err := w.bind(n); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

func (w *Worker) bind(rows int) (*binding, error) {
	for _, b := range w.bindings {
		if b.rows == rows {
			return b, nil
		}
	}
	if rows <= 0 {
		return nil, fmt.Errorf("batch of %d rows", rows)
	}
	s := w.s
	b := &binding{rows: rows, f32: make([]*ort.Tensor[float32], len(s.outputs)), i64: make([]*ort.Tensor[int64], len(s.outputs))}
	var err error
	if b.in, err = ort.NewEmptyTensor[float32](ort.NewShape(int64(rows), int64(s.width))); err != nil {
		return nil, err
	}
	if b.b, err = s.s.CreateIoBinding(); err != nil {
		b.destroy()
		return nil, err
	}
	if err = b.b.BindInput(s.model.Inputs[0].Name, b.in); err != nil {
		b.destroy()
		return nil, err
	}
	for i, o := range s.outputs {
		shape := ort.NewShape(append([]int64{int64(rows)}, s.rowDims[i]...)...)
		var v ort.Value
		if o.Kind == Int64 {
			b.i64[i], err = ort.NewEmptyTensor[int64](shape)
			v = b.i64[i]
		} else {
			b.f32[i], err = ort.NewEmptyTensor[float32](shape)
			v = b.f32[i]
		}
		if err != nil {
			b.destroy()
			return nil, err
		}
		if err = b.b.BindOutput(o.Name, v); err != nil {
			b.destroy()
			return nil, err
		}
	}
	w.bindings = append(w.bindings, b)
	return b, nil
}

// Run copies rows (row-major, len(in) a multiple of Width) into the worker's
// input tensor and runs the session. Outputs stay valid until the next Run.
func (w *Worker) Run(in []float32) error {
	rows := len(in) / w.s.width
	if rows*w.s.width != len(in) || rows == 0 {
		return fmt.Errorf("input of %d values is not a whole number of %d-feature rows", len(in), w.s.width)
	}
	b := w.last
	if b == nil || b.rows != rows {
		var err error
		if b, err = w.bind(rows); err != nil {
			return err
		}
		w.last = b
	}
	copy(b.in.GetData(), in)
	if err := w.s.s.RunWithBinding(b.b); err != nil {
		return fmt.Errorf("%s: run: %s", w.s.model.Path, oneLine(err))
	}
	return nil
}

// Rerun runs the session again on the input the last Run copied in, without
// copying it again: for a caller that times a model whose input is so large
// that the copy would be counted (runner/ceiling's bandwidth model).
func (w *Worker) Rerun() error {
	if w.last == nil {
		return fmt.Errorf("%s: rerun before any run", w.s.model.Path)
	}
	if err := w.s.s.RunWithBinding(w.last.b); err != nil {
		return fmt.Errorf("%s: run: %s", w.s.model.Path, oneLine(err))
	}
	return nil
}

// Float32 returns output k of the last Run (rows × width values), or nil if
// output k is not float32.
func (w *Worker) Float32(k int) []float32 {
	if t := w.last.f32[k]; t != nil {
		return t.GetData()
	}
	return nil
}

// Int64 returns output k of the last Run, or nil if output k is not int64.
func (w *Worker) Int64(k int) []int64 {
	if t := w.last.i64[k]; t != nil {
		return t.GetData()
	}
	return nil
}

// Close releases the worker's tensors and bindings.
func (w *Worker) Close() error {
	for _, b := range w.bindings {
		b.destroy()
	}
	w.bindings, w.last = nil, nil
	return nil
}
