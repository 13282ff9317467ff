package onnx

import "math"

// DType is the element type of a tensor ortbench feeds or reads back.
// Names are the ones TensorInfo.DType uses (numpy's: float32, float64, …).
type DType uint8

const (
	DFloat32 DType = iota + 1
	DFloat16
	DFloat64
	DInt64
	DInt32
	DInt8
	DUint8
	DBool
)

var dtypeByName = map[string]DType{"float32": DFloat32, "float16": DFloat16, "float64": DFloat64,
	"int64": DInt64, "int32": DInt32, "int8": DInt8, "uint8": DUint8, "bool": DBool}

// ParseDType maps a TensorInfo.DType name to a DType; ok is false for
// element types ortbench cannot feed (string, bfloat16, uint16, …).
func ParseDType(name string) (d DType, ok bool) {
	d, ok = dtypeByName[name]
	return d, ok
}

func (d DType) String() string {
	for n, v := range dtypeByName {
		if v == d {
			return n
		}
	}
	return "unknown"
}

// IntRange is the values an integer dtype holds (bool: 0 and 1); ok is
// false for the float dtypes.
func (d DType) IntRange() (lo, hi int64, ok bool) {
	switch d {
	case DInt64:
		return math.MinInt64, math.MaxInt64, true
	case DInt32:
		return math.MinInt32, math.MaxInt32, true
	case DInt8:
		return math.MinInt8, math.MaxInt8, true
	case DUint8:
		return 0, math.MaxUint8, true
	case DBool:
		return 0, 1, true
	}
	return 0, 0, false
}

// Size is the bytes one element takes.
func (d DType) Size() int {
	switch d {
	case DFloat64, DInt64:
		return 8
	case DFloat32, DInt32:
		return 4
	case DFloat16:
		return 2
	case DInt8, DUint8, DBool:
		return 1
	}
	return 0
}

// Feed is how one model input is fed: its element type and the shape of one
// item (the dimensions after the batch axis, every one known and > 0).
//
// An item is the unit of the batch axis: a table row, an image, a sequence.
// Batch says whether the axis is there: 0 = the input's first dimension is
// the batch axis and free (batch_sizes sweep it); N > 0 = the model fixes it
// at N, so one call is always N items; -1 = the input has no batch axis at
// all (one call = one item, Item is the whole declared shape).
type Feed struct {
	Name  string
	DType DType
	Item  []int64
	Batch int
}

// ItemElems is the number of elements of one item.
func (f Feed) ItemElems() int {
	n := 1
	for _, d := range f.Item {
		n *= int(d)
	}
	return n
}

// ItemBytes is the bytes of one item of this input.
func (f Feed) ItemBytes() int { return f.ItemElems() * f.DType.Size() }

// RecordBytes is the bytes of one item across every input: ortbench carries
// a batch as item records, each input's bytes in model order one after the
// other, so a slice of records [first, first+n) is the batch's whole input.
func RecordBytes(feeds []Feed) int {
	n := 0
	for _, f := range feeds {
		n += f.ItemBytes()
	}
	return n
}
