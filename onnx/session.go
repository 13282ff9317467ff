package onnx

import (
	"fmt"
	"slices"

	"github.com/ortbench/ortbench/internal/raw"
	ort "github.com/yalue/onnxruntime_go"
)

// Session is one ORT inference session. Safe for concurrent use: ORT's Run is
// thread-safe, and each goroutine brings its own Worker (tensors + binding).
type Session struct {
	model   *Model
	opts    Options
	feeds   []Feed
	sizes   []int // per feed: bytes of one item
	offs    []int // per feed: where its bytes start in an item record
	rec     int   // RecordBytes(feeds)
	batch   int   // the feeds' Batch (they agree)
	outputs []Output
	outDims [][]int64 // per output: its shape after the batch axis (all of it without one)
	skipped []string
	s       *ort.DynamicAdvancedSession
}

// NewSession loads a tabular model: width float32 features per row, one
// row per item. It is NewSessionFeeds on TabularFeeds after Check(width).
func NewSession(m *Model, width int, opts Options) (*Session, error) {
	if err := m.Check(width); err != nil {
		return nil, err
	}
	return NewSessionFeeds(m, m.TabularFeeds(width), opts)
}

// NewSessionFeeds loads the model to be fed as feeds say (Model.Feeds), one
// feed per model input in model order. Outputs that are not tensors
// (sequences, maps such as scikit-learn's ZipMap) are not asked of ORT at
// all; Skipped names them. Outputs are described, in model order without the
// skipped ones, by Outputs.
func NewSessionFeeds(m *Model, feeds []Feed, opts Options) (*Session, error) {
	if err := m.checkFeeds(feeds); err != nil {
		return nil, err
	}
	s := &Session{model: m, opts: opts, feeds: feeds, batch: feeds[0].Batch}
	for _, f := range feeds {
		s.sizes = append(s.sizes, f.ItemBytes())
		s.offs = append(s.offs, s.rec)
		s.rec += f.ItemBytes()
	}
	if err := s.describeOutputs(); err != nil {
		return nil, err
	}
	so, err := opts.sessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	inNames := make([]string, len(feeds))
	for i, f := range feeds {
		inNames[i] = f.Name
	}
	outNames := make([]string, len(s.outputs))
	for i, o := range s.outputs {
		outNames[i] = o.Name
	}
	if s.s, err = ort.NewDynamicAdvancedSession(m.Path, inNames, outNames, so); err != nil {
		return nil, fmt.Errorf("%s: creating session: %s", m.Path, oneLine(err))
	}
	if err := s.probeOutputs(); err != nil {
		s.s.Destroy()
		return nil, err
	}
	return s, nil
}

// checkFeeds refuses feeds that do not describe this model's inputs.
func (m *Model) checkFeeds(feeds []Feed) error {
	if len(feeds) == 0 || len(feeds) != len(m.Inputs) {
		return fmt.Errorf("%s: %d feeds for a model of %d inputs", m.Path, len(feeds), len(m.Inputs))
	}
	for i, f := range feeds {
		rank := len(f.Item)
		if f.Batch >= 0 {
			rank++
		}
		switch {
		case f.Name != m.Inputs[i].Name:
			return fmt.Errorf("%s: feed %d is for %q, the model's input %d is %q", m.Path, i, f.Name, i, m.Inputs[i].Name)
		case f.DType.Size() == 0:
			return fmt.Errorf("%s: input %q: no element type to feed", m.Path, f.Name)
		case rank > MaxRank:
			return fmt.Errorf("%s: input %q: rank %d, ortbench feeds tensors up to rank %d", m.Path, f.Name, rank, MaxRank)
		case slices.ContainsFunc(f.Item, func(d int64) bool { return d <= 0 }):
			return fmt.Errorf("%s: input %q: item shape %v has a dimension that is not positive", m.Path, f.Name, f.Item)
		}
	}
	if err := agreeBatch(feeds); err != nil {
		return fmt.Errorf("%s: %v", m.Path, err)
	}
	return nil
}

// callShape is input f's tensor shape for a call of n items.
func callShape(f Feed, n int) []int64 {
	switch {
	case f.Batch < 0:
		return slices.Clone(f.Item)
	case f.Batch > 0:
		n = f.Batch
	}
	return append([]int64{int64(n)}, f.Item...)
}

// Outputs describes what each Worker.Run produces, in model order, skipped
// outputs left out.
func (s *Session) Outputs() []Output { return s.outputs }

// Skipped names the model's outputs that are not tensors (sequences, maps):
// ORT is not asked for them, so they are left out of verification.
func (s *Session) Skipped() []string { return s.skipped }

// Feeds is how the session's inputs are fed.
func (s *Session) Feeds() []Feed { return s.feeds }

// RecordBytes is the bytes of one item record (RecordBytes of Feeds).
func (s *Session) RecordBytes() int { return s.rec }

// ItemsPerCall is ItemsPerCall of Feeds: 0 when the batch is free.
func (s *Session) ItemsPerCall() int { return ItemsPerCall(s.feeds) }

// Width is the number of float32 features per row of a tabular session
// (one float32 input [batch, width]), else 0.
func (s *Session) Width() int {
	if f := s.feeds; len(f) == 1 && f[0].DType == DFloat32 && f[0].Batch == 0 && len(f[0].Item) == 1 {
		return int(f[0].Item[0])
	}
	return 0
}

// Close releases the session. Workers must be closed first.
func (s *Session) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}

// Worker runs batches through its Session with memory it owns. Not safe for
// concurrent use: give every goroutine its own.
type Worker struct {
	s        *Session
	bindings []*binding
	last     *binding
}

// NewWorker preallocates tensors for each item count it will be asked to run
// (typically the batch size and the last, shorter batch; for a fixed-batch
// model its N; 1 without a batch axis), so Run does not allocate. A count not
// given here is bound on first use.
func (s *Session) NewWorker(counts ...int) (*Worker, error) {
	w := &Worker{s: s}
	for _, n := range counts {
		if _, err := w.bind(n); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// RunRecords copies n item records (len(records) = n × RecordBytes) into the
// worker's input tensors, each input's bytes to its own tensor, and runs the
// session. Outputs stay valid until the next run.
func (w *Worker) RunRecords(records []byte) error {
	s := w.s
	n := len(records) / s.rec
	if n == 0 || n*s.rec != len(records) {
		return fmt.Errorf("%s: input of %d bytes is not a whole number of %d-byte item records", s.model.Path, len(records), s.rec)
	}
	b := w.last
	if b == nil || b.items != n {
		var err error
		if b, err = w.bind(n); err != nil {
			return err
		}
		w.last = b
	}
	if len(b.in) == 1 {
		copy(b.in[0], records)
	} else {
		for i, dst := range b.in {
			sz, off := s.sizes[i], s.offs[i]
			for j := range n {
				at := j*s.rec + off
				copy(dst[j*sz:(j+1)*sz], records[at:at+sz])
			}
		}
	}
	return w.run(b)
}

// Run is RunRecords for a tabular session: rows of Width float32 features,
// which are its item records as they lie in memory.
func (w *Worker) Run(in []float32) error {
	if len(in) == 0 || (4*len(in))%w.s.rec != 0 {
		return fmt.Errorf("input of %d values is not a whole number of %d-feature rows", len(in), w.s.rec/4)
	}
	return w.RunRecords(raw.Bytes(in))
}

// Rerun runs the session again on the input the last Run copied in, without
// copying it again: for a caller that times a model whose input is so large
// that the copy would be counted (runner/ceiling's bandwidth model).
func (w *Worker) Rerun() error {
	if w.last == nil {
		return fmt.Errorf("%s: rerun before any run", w.s.model.Path)
	}
	return w.run(w.last)
}

func (w *Worker) run(b *binding) error {
	for _, k := range b.widen {
		b.fresh[k] = false
	}
	if err := w.s.s.RunWithBinding(b.b); err != nil {
		return fmt.Errorf("%s: run: %s", w.s.model.Path, oneLine(err))
	}
	return nil
}

// Float32 returns output k of the last run (items × Width values; float16
// and float64 outputs converted), or nil if output k's Kind is not Float32.
func (w *Worker) Float32(k int) []float32 {
	b := w.last
	if b == nil || b.f32[k] == nil {
		return nil
	}
	if !b.fresh[k] {
		WidenFloat(b.f32[k], b.out[k], w.s.outputs[k].DType)
		b.fresh[k] = true
	}
	return b.f32[k]
}

// Int64 returns output k of the last run (int32, int8, uint8 and bool
// outputs converted, bool as 0/1), or nil if output k's Kind is not Int64.
func (w *Worker) Int64(k int) []int64 {
	b := w.last
	if b == nil || b.i64[k] == nil {
		return nil
	}
	if !b.fresh[k] {
		WidenInt(b.i64[k], b.out[k], w.s.outputs[k].DType)
		b.fresh[k] = true
	}
	return b.i64[k]
}

// Close releases the worker's tensors and bindings.
func (w *Worker) Close() error {
	for _, b := range w.bindings {
		b.destroy()
	}
	w.bindings, w.last = nil, nil
	return nil
}
