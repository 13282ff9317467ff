// Package tensorproto reads one serialized ONNX TensorProto (the .pb files
// of the ONNX test-data layout, test_data_set_N/input_K.pb) in pure Go: the
// name, the element type, the dimensions and the data, as little-endian
// bytes in the element type's own layout (float16 as IEEE half, bool as one
// byte 0/1) — the layout ortbench feeds ONNX Runtime.
//
// The reader is bounded: the declared dimensions must agree with the data
// the file holds, so a forged size is an error, never a large allocation,
// and no input makes it panic (FuzzParse).
//
// Note: generated onnx.proto bindings were rejected for the same reason as
// in package onnx/graph: a generated package of thousands of lines to read
// a dozen fields.
package tensorproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ortbench/ortbench/internal/pbwire"
	"github.com/ortbench/ortbench/onnx"
)

// Tensor is one decoded TensorProto. Data holds Elems() elements,
// little-endian, DType.Size() bytes each.
type Tensor struct {
	Name  string
	DType onnx.DType
	Dims  []int64
	Data  []byte
}

// Elems is the number of elements the dimensions declare (1 for a scalar).
func (t Tensor) Elems() int {
	n := 1
	for _, d := range t.Dims {
		n *= int(d)
	}
	return n
}

// TensorProto field numbers (onnx.proto).
const (
	fDims         = 1
	fDataType     = 2
	fSegment      = 3
	fFloatData    = 4
	fInt32Data    = 5
	fStringData   = 6
	fInt64Data    = 7
	fName         = 8
	fRawData      = 9
	fDoubleData   = 10
	fUint64Data   = 11
	fExternalData = 13
	fDataLocation = 14
)

// onnxTypes maps TensorProto.DataType to the element types ortbench feeds;
// typeNames names the others for the error.
var onnxTypes = map[uint64]onnx.DType{1: onnx.DFloat32, 2: onnx.DUint8, 3: onnx.DInt8,
	6: onnx.DInt32, 7: onnx.DInt64, 9: onnx.DBool, 10: onnx.DFloat16, 11: onnx.DFloat64}

var typeNames = map[uint64]string{0: "undefined", 4: "uint16", 5: "int16", 8: "string",
	12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16"}

// Read decodes the TensorProto in file path; an error names the file.
func Read(path string) (Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Tensor{}, err
	}
	t, err := Parse(b)
	if err != nil {
		return Tensor{}, fmt.Errorf("%s: not a readable TensorProto: %w", path, err)
	}
	return t, nil
}

// header is what the first pass over the fields learns.
type header struct {
	dtype    uint64
	typed    bool // dtype set
	raw      []byte
	hasRaw   bool
	external bool
	segment  bool
	other    []int // typed data fields present, by number
}

// Parse decodes a serialized TensorProto. It reads the fields in two
// passes, since the wire order is free: the header (type, dims, name, raw
// data), then the typed field that belongs to the type.
func Parse(b []byte) (Tensor, error) {
	var t Tensor
	var h header
	err := pbwire.Fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		return h.field(&t, num, typ, v, x)
	})
	if err != nil {
		return Tensor{}, err
	}
	if err := h.check(&t); err != nil {
		return Tensor{}, err
	}
	n, err := elems(t.Dims, len(b))
	if err != nil {
		return Tensor{}, err
	}
	if h.hasRaw {
		if want := n * t.DType.Size(); len(h.raw) != want {
			return Tensor{}, fmt.Errorf("raw_data holds %d bytes, dims %v of %s need %d", len(h.raw), t.Dims, t.DType, want)
		}
		t.Data = append([]byte{}, h.raw...)
		return t, checkBool(t)
	}
	t.Data, err = typedData(b, t.DType, n)
	if err != nil {
		return Tensor{}, err
	}
	return t, nil
}

func (h *header) field(t *Tensor, num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
	switch num {
	case fDims:
		return appendVarints(&t.Dims, typ, v, x)
	case fDataType:
		h.dtype, h.typed = x, typ == protowire.VarintType
	case fName:
		t.Name = string(v)
	case fRawData:
		h.raw, h.hasRaw = v, true
	case fSegment:
		h.segment = true
	case fExternalData:
		h.external = true
	case fDataLocation:
		h.external = h.external || x == 1
	case fFloatData, fInt32Data, fStringData, fInt64Data, fDoubleData, fUint64Data:
		h.other = append(h.other, int(num))
	}
	return nil
}

func (h *header) check(t *Tensor) error {
	switch {
	case h.external:
		return errors.New("external data (data_location EXTERNAL) is not supported: save the tensor with its data inside")
	case h.segment:
		return errors.New("segmented tensors (segment) are not supported")
	case !h.typed:
		return errors.New("no data_type")
	}
	d, ok := onnxTypes[h.dtype]
	if !ok {
		name := typeNames[h.dtype]
		if name == "" {
			name = "type " + strconv.FormatUint(h.dtype, 10)
		}
		return fmt.Errorf("data_type %d (%s) is not supported", h.dtype, name)
	}
	t.DType = d
	for _, d := range t.Dims {
		if d < 0 {
			return fmt.Errorf("negative dimension in dims %v", t.Dims)
		}
	}
	if h.hasRaw && len(h.other) > 0 {
		return fmt.Errorf("both raw_data and typed data (field %d)", h.other[0])
	}
	for _, f := range h.other {
		if f != dataField(d) {
			return fmt.Errorf("field %d holds data of another type than %s", f, d)
		}
	}
	return nil
}

// elems is the element count dims declare. Every element takes at least
// one byte of the file, so a count above size is refused before anything
// is allocated.
func elems(dims []int64, size int) (int, error) {
	n, zero := int64(1), false
	for _, d := range dims {
		if d == 0 {
			zero = true
			continue
		}
		if n > int64(size)/d {
			return 0, fmt.Errorf("dims %v declare more elements than the file's %d bytes hold", dims, size)
		}
		n *= d
	}
	if zero {
		return 0, nil
	}
	return int(n), nil
}

// dataField is the typed field onnx.proto stores a type's values in.
func dataField(d onnx.DType) int {
	switch d {
	case onnx.DFloat32:
		return fFloatData
	case onnx.DInt64:
		return fInt64Data
	case onnx.DFloat64:
		return fDoubleData
	}
	return fInt32Data // int32, and int8/uint8/bool/float16 widened to int32
}

// wireType is how one unpacked element of d's typed field is encoded.
func wireType(d onnx.DType) protowire.Type {
	switch d {
	case onnx.DFloat32:
		return protowire.Fixed32Type
	case onnx.DFloat64:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

func checkBool(t Tensor) error {
	if t.DType != onnx.DBool {
		return nil
	}
	for i, c := range t.Data {
		if c > 1 {
			return fmt.Errorf("bool element %d is %d, not 0 or 1", i, c)
		}
	}
	return nil
}

// typedData decodes the typed field of d into n little-endian elements.
func typedData(b []byte, d onnx.DType, n int) ([]byte, error) {
	out := make([]byte, 0, n*d.Size())
	num := protowire.Number(dataField(d))
	err := pbwire.Fields(b, func(f protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if f != num {
			return nil
		}
		var err error
		out, err = appendTyped(out, d, typ, v, x, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	if got := len(out) / d.Size(); got != n {
		return nil, fmt.Errorf("field %d holds %d elements, dims need %d", num, got, n)
	}
	return out, nil
}

// appendTyped appends one occurrence of a typed field: packed (bytes) or
// a single unpacked value. It stops at more than n elements.
func appendTyped(out []byte, d onnx.DType, typ protowire.Type, v []byte, x uint64, n int) ([]byte, error) {
	if typ != protowire.BytesType {
		if typ != wireType(d) {
			return nil, fmt.Errorf("field %d: wire type %d, want %d or packed", dataField(d), typ, wireType(d))
		}
		return appendValue(out, d, x, n)
	}
	for len(v) > 0 {
		var m int
		switch d {
		case onnx.DFloat32:
			var u uint32
			u, m = protowire.ConsumeFixed32(v)
			x = uint64(u)
		case onnx.DFloat64:
			x, m = protowire.ConsumeFixed64(v)
		default:
			x, m = protowire.ConsumeVarint(v)
		}
		if m < 0 {
			return nil, fmt.Errorf("packed data: %w", protowire.ParseError(m))
		}
		v = v[m:]
		var err error
		if out, err = appendValue(out, d, x, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendValue appends one element, checking that an int32_data value fits
// the narrower type it stands for.
func appendValue(out []byte, d onnx.DType, x uint64, n int) ([]byte, error) {
	if len(out) >= n*d.Size() {
		return nil, fmt.Errorf("more elements than dims declare (%d)", n)
	}
	switch d {
	case onnx.DFloat64, onnx.DInt64:
		return binary.LittleEndian.AppendUint64(out, x), nil
	case onnx.DFloat32:
		return binary.LittleEndian.AppendUint32(out, uint32(x)), nil
	}
	v := int64(x) // int32 values are sign-extended varints
	lo, hi, ok := d.IntRange()
	if !ok { // float16 travels in int32_data as the half's bit pattern
		lo, hi = 0, math.MaxUint16
	}
	if v < lo || v > hi {
		return nil, fmt.Errorf("int32_data value %d out of range for %s", v, d)
	}
	switch d.Size() {
	case 4:
		return binary.LittleEndian.AppendUint32(out, uint32(v)), nil
	case 2:
		return binary.LittleEndian.AppendUint16(out, uint16(v)), nil
	}
	return append(out, byte(v)), nil
}

// appendVarints appends a repeated int64 field, packed or not.
func appendVarints(dst *[]int64, typ protowire.Type, v []byte, x uint64) error {
	switch typ {
	case protowire.VarintType:
		*dst = append(*dst, int64(x))
		return nil
	case protowire.BytesType:
		for len(v) > 0 {
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return fmt.Errorf("dims: %w", protowire.ParseError(n))
			}
			*dst = append(*dst, int64(x))
			v = v[n:]
		}
		return nil
	}
	return fmt.Errorf("dims: wire type %d, want varint", typ)
}
