package onnx

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"github.com/ortbench/ortbench/internal/raw"
	ort "github.com/yalue/onnxruntime_go"
)

// ortTypes are the element types ORT is told for each DType.
var ortTypes = map[DType]ort.TensorElementDataType{
	DFloat32: ort.TensorElementDataTypeFloat, DFloat16: ort.TensorElementDataTypeFloat16,
	DFloat64: ort.TensorElementDataTypeDouble, DInt64: ort.TensorElementDataTypeInt64,
	DInt32: ort.TensorElementDataTypeInt32, DInt8: ort.TensorElementDataTypeInt8,
	DUint8: ort.TensorElementDataTypeUint8, DBool: ort.TensorElementDataTypeBool,
}

// kindOf is the storage an output of dtype d is verified in.
func kindOf(d DType) Kind {
	switch d {
	case DFloat32, DFloat16, DFloat64:
		return Float32
	}
	return Int64
}

// maxTensorBytes keeps a tensor's size from overflowing; whether the memory
// is there is for the caller to check before it asks (validate does).
const maxTensorBytes = 1 << 40

// newTensor makes a tensor of dtype d and shape whose bytes ortbench owns
// and ORT reads and writes in place.
func newTensor(d DType, shape []int64) (ort.Value, []byte, error) {
	if len(shape) == 0 {
		return newScalar(d)
	}
	n := d.Size()
	for _, x := range shape {
		if x <= 0 || n > maxTensorBytes/int(x) {
			return nil, nil, fmt.Errorf("%s%v: not a shape ortbench can allocate (over %d bytes or a dimension below 1)", d, shape, int64(maxTensorBytes))
		}
		n *= int(x)
	}
	data := raw.Zeroed(n)
	v, err := ort.NewCustomDataTensor(ort.NewShape(shape...), data, ortTypes[d])
	return v, data, err
}

// newScalar makes a rank-0 tensor: onnxruntime_go rejects an empty shape
// for every other tensor, and offers Scalar[T] for Go element types only.
func newScalar(d DType) (ort.Value, []byte, error) {
	switch d {
	case DFloat32:
		return scalarOf[float32]()
	case DFloat64:
		return scalarOf[float64]()
	case DInt64:
		return scalarOf[int64]()
	case DInt32:
		return scalarOf[int32]()
	case DInt8:
		return scalarOf[int8]()
	case DUint8:
		return scalarOf[uint8]()
	case DBool:
		return scalarOf[bool]()
	}
	return nil, nil, fmt.Errorf("a rank-0 %s tensor: onnxruntime_go v1.35 has no scalar of that type", d)
}

// scalarOf makes a Scalar[T] and finds the bytes ORT reads and writes:
// onnxruntime_go keeps them in an unexported slice, and Scalar.Set replaces
// the slice instead of writing it, so ortbench writes the original in place.
func scalarOf[T ort.TensorData]() (ort.Value, []byte, error) {
	s, err := ort.NewEmptyScalar[T]()
	if err != nil {
		return nil, nil, err
	}
	f := reflect.ValueOf(s).Elem().FieldByName("data")
	if f.Kind() != reflect.Slice || f.Len() != 1 {
		s.Destroy()
		return nil, nil, errors.New("a rank-0 tensor: onnxruntime_go's Scalar no longer keeps its value where ortbench looks")
	}
	var z T
	return s, unsafe.Slice((*byte)(f.UnsafePointer()), unsafe.Sizeof(z)), nil
}

// describeOutputs fixes each tensor output's dtype and per-item dims from
// the declaration; dims the model leaves symbolic stay -1 for probeOutputs.
func (s *Session) describeOutputs() error {
	m := s.model
	for _, o := range m.Outputs {
		if o.Type != "tensor" {
			s.skipped = append(s.skipped, o.Name)
			continue
		}
		d, ok := ParseDType(o.DType)
		sh := o.Shape
		switch {
		case !ok:
			return fmt.Errorf("%s: output %q is %s, ortbench verifies float32, float16, float64, int64, int32, int8, uint8 and bool outputs", m.Path, o.Name, o.TypeString())
		case len(sh) > MaxRank:
			return fmt.Errorf("%s: output %q has shape %s: rank %d, ortbench verifies outputs up to rank %d", m.Path, o.Name, o.TypeString(), len(sh), MaxRank)
		case slices.Contains(sh, 0):
			return fmt.Errorf("%s: output %q has shape %s: a zero dimension leaves nothing to verify", m.Path, o.Name, o.TypeString())
		}
		dims := slices.Clone(sh)
		if s.batch >= 0 {
			if err := s.batchAxis(o); err != nil {
				return err
			}
			dims = dims[1:]
		}
		s.outputs = append(s.outputs, Output{Name: o.Name, Kind: kindOf(d), DType: d, Width: elems(dims)})
		s.outDims = append(s.outDims, dims)
	}
	if len(s.outputs) == 0 {
		return fmt.Errorf("%s: model has no tensor outputs to verify", m.Path)
	}
	return nil
}

// batchAxis checks that a batched session's output has the batch axis first.
func (s *Session) batchAxis(o TensorInfo) error {
	m := s.model
	switch {
	case len(o.Shape) == 0:
		return fmt.Errorf("%s: output %q is a scalar, want a leading batch dimension", m.Path, o.Name)
	case s.batch == 0 && o.Shape[0] >= 0:
		return fmt.Errorf("%s: output %q has shape %s: its first dimension is fixed at %d, so it has no batch dimension (ortbench needs one output item per input item)", m.Path, o.Name, o.TypeString(), o.Shape[0])
	case s.batch > 0 && o.Shape[0] >= 0 && int(o.Shape[0]) != s.batch:
		return fmt.Errorf("%s: output %q has shape %s: its first dimension is %d, the inputs' fixed batch is %d", m.Path, o.Name, o.TypeString(), o.Shape[0], s.batch)
	}
	return nil
}

// elems is the element count of dims, negative while one is unknown.
func elems(dims []int64) int {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return -1
		}
		n *= int(d)
	}
	return n
}

// probeOutputs resolves outputs whose dims the model leaves symbolic by one
// run of one call's worth of zero items, ORT allocating just those outputs.
func (s *Session) probeOutputs() error {
	n := max(1, s.ItemsPerCall())
	var vals []ort.Value
	defer func() {
		for _, v := range vals {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	var probe []int
	outs := make([]ort.Value, len(s.outputs))
	for i, o := range s.outputs {
		if o.Width < 0 {
			probe = append(probe, i)
			continue
		}
		v, _, err := newTensor(o.DType, s.outShape(i, n))
		if err != nil {
			return fmt.Errorf("%s: output %q: %v", s.model.Path, o.Name, err)
		}
		outs[i] = v
		vals = append(vals, v)
	}
	if len(probe) == 0 {
		return nil
	}
	ins := make([]ort.Value, len(s.feeds))
	for i, f := range s.feeds {
		v, _, err := newTensor(f.DType, callShape(f, n))
		if err != nil {
			return fmt.Errorf("%s: input %q: %v", s.model.Path, f.Name, err)
		}
		ins[i] = v
		vals = append(vals, v)
	}
	err := s.s.Run(ins, outs)
	for _, i := range probe {
		vals = append(vals, outs[i])
	}
	if err != nil {
		return fmt.Errorf("%s: probing output shapes with %d zero item(s): %s", s.model.Path, n, oneLine(err))
	}
	for _, i := range probe {
		if err := s.resolve(i, n, outs[i].GetShape()); err != nil {
			return err
		}
	}
	return nil
}

// resolve takes output i's dims from the shape a probe of n items gave it.
func (s *Session) resolve(i, n int, shape []int64) error {
	o := &s.outputs[i]
	decl := s.outDims[i]
	dims := shape
	if s.batch >= 0 {
		if len(shape) == 0 || shape[0] != int64(n) {
			return fmt.Errorf("%s: output %q has shape %v for %d input item(s), want %d first", s.model.Path, o.Name, shape, n, n)
		}
		dims = shape[1:]
	}
	if len(dims) != len(decl) || elems(dims) <= 0 {
		return fmt.Errorf("%s: output %q has shape %v for %d input item(s), want the declared rank and no empty dimension (%s)", s.model.Path, o.Name, shape, n, s.declared(o.Name))
	}
	s.outDims[i] = slices.Clone(dims)
	o.Width = elems(dims)
	return nil
}

// declared is the type string the model declares for output name.
func (s *Session) declared(name string) string {
	for _, o := range s.model.Outputs {
		if o.Name == name {
			return o.TypeString()
		}
	}
	return ""
}

// outShape is output i's tensor shape for a call of n items.
func (s *Session) outShape(i, n int) []int64 {
	switch {
	case s.batch < 0:
		return slices.Clone(s.outDims[i])
	case s.batch > 0:
		n = s.batch
	}
	return append([]int64{int64(n)}, s.outDims[i]...)
}

// binding is one item count's worth of tensors, bound once.
type binding struct {
	items int
	in    [][]byte // per input: its tensor's bytes
	out   [][]byte // per output: its tensor's bytes
	f32   [][]float32
	i64   [][]int64 // per output, by Kind: its bytes in place, or converted values
	widen []int     // outputs whose values are converted from their bytes
	fresh []bool    // per output: its converted values are the last run's
	vals  []ort.Value
	b     *ort.IoBinding
}

func (b *binding) destroy() {
	if b.b != nil {
		b.b.Destroy()
	}
	for _, v := range b.vals {
		v.Destroy()
	}
}

func (w *Worker) bind(n int) (*binding, error) {
	for _, b := range w.bindings {
		if b.items == n {
			return b, nil
		}
	}
	s := w.s
	switch {
	case n <= 0:
		return nil, fmt.Errorf("%s: a call of %d items", s.model.Path, n)
	case s.batch > 0 && n != s.batch:
		return nil, fmt.Errorf("%s: a call of %d items, the model fixes its batch at %d", s.model.Path, n, s.batch)
	case s.batch < 0 && n != 1:
		return nil, fmt.Errorf("%s: a call of %d items, the model has no batch axis (one item per call)", s.model.Path, n)
	}
	b := &binding{items: n, fresh: make([]bool, len(s.outputs))}
	var err error
	if b.b, err = s.s.CreateIoBinding(); err != nil {
		return nil, err
	}
	if err = w.bindAll(b, n); err != nil {
		b.destroy()
		return nil, fmt.Errorf("%s: binding %d items: %v", s.model.Path, n, err)
	}
	w.bindings = append(w.bindings, b)
	return b, nil
}

func (w *Worker) bindAll(b *binding, n int) error {
	s := w.s
	for _, f := range s.feeds {
		v, data, err := newTensor(f.DType, callShape(f, n))
		if err != nil {
			return fmt.Errorf("input %q: %v", f.Name, err)
		}
		b.vals = append(b.vals, v)
		b.in = append(b.in, data)
		if err := b.b.BindInput(f.Name, v); err != nil {
			return fmt.Errorf("input %q: %v", f.Name, err)
		}
	}
	for i, o := range s.outputs {
		v, data, err := newTensor(o.DType, s.outShape(i, n))
		if err != nil {
			return fmt.Errorf("output %q: %v", o.Name, err)
		}
		b.vals = append(b.vals, v)
		b.out = append(b.out, data)
		if err := b.b.BindOutput(o.Name, v); err != nil {
			return fmt.Errorf("output %q: %v", o.Name, err)
		}
		b.addView(i, o, data)
	}
	return nil
}

// addView gives output i its []float32 or []int64: the tensor's own bytes
// for float32 and int64, a buffer converted into on read for the others.
func (b *binding) addView(i int, o Output, data []byte) {
	var f32 []float32
	var i64 []int64
	elems := len(data) / o.DType.Size()
	switch o.DType {
	case DFloat32:
		f32 = raw.View[float32](data)
	case DInt64:
		i64 = raw.View[int64](data)
	case DFloat16, DFloat64:
		f32 = make([]float32, elems)
	default:
		i64 = make([]int64, elems)
	}
	b.f32, b.i64 = append(b.f32, f32), append(b.i64, i64)
	if o.DType == DFloat32 || o.DType == DInt64 {
		b.fresh[i] = true
	} else {
		b.widen = append(b.widen, i)
	}
}
