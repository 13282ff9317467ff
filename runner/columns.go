package runner

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/inputs"
)

// columnInputs reads the inputs whose spec is `column:NAME` from the
// dataset: a numeric column for an input of one element an item, a
// fixed_size_list column (reshaped to the item's shape) for a larger one,
// each value converted to the input's dtype exactly or refused. It returns
// each input's bytes (nil for the others) and the rows read.
func columnInputs(c *config.Config, feeds []onnx.Feed, specs map[string]inputs.Spec) ([][]byte, int, error) {
	per := make([][]byte, len(feeds))
	rows := -1
	for k, f := range feeds {
		sp, ok := specs[f.Name]
		if !ok || sp.Kind != inputs.Column {
			continue
		}
		key := "workload.inputs." + f.Name
		spec := DatasetSpec(c)
		spec.Features, spec.TensorColumn, spec.ModelFeatures, spec.ModelWidth = nil, "", nil, 0
		spec.Label, spec.NoLabel = "", true
		if f.ItemElems() == 1 {
			spec.Features = []string{sp.Column}
		} else {
			spec.TensorColumn = sp.Column
		}
		t, err := datasets.LoadFeatures(spec)
		if err != nil {
			return nil, 0, c.Errorf(key, "%v", err)
		}
		if t.Width != f.ItemElems() {
			return nil, 0, c.Errorf(key, "column %q holds %d values a row, input %q takes %d an item (%s%v)", sp.Column, t.Width, f.Name, f.ItemElems(), f.DType, f.Item)
		}
		if rows >= 0 && t.Rows != rows {
			return nil, 0, c.Errorf(key, "column %q gives %d rows, another input's column %d", sp.Column, t.Rows, rows)
		}
		rows = t.Rows
		if per[k], err = encode(t.Data, f.DType); err != nil {
			return nil, 0, c.Errorf(key, "column %q: %v", sp.Column, err)
		}
	}
	return per, rows, nil
}

// encode writes float32 column values as dtype d's little-endian bytes;
// a value d cannot hold exactly (a fraction for an integer input, 300 for
// uint8, 2 for bool) is an error naming it.
func encode(vals []float32, d onnx.DType) ([]byte, error) {
	out := make([]byte, len(vals)*d.Size())
	lo, hi := intRange(d)
	for i, v := range vals {
		b := out[i*d.Size():]
		switch d {
		case onnx.DFloat32:
			binary.LittleEndian.PutUint32(b, math.Float32bits(v))
			continue
		case onnx.DFloat64:
			binary.LittleEndian.PutUint64(b, math.Float64bits(float64(v)))
			continue
		case onnx.DFloat16:
			binary.LittleEndian.PutUint16(b, inputs.Float16(v))
			continue
		}
		x := float64(v)
		if x != math.Trunc(x) || x < lo || x > hi {
			return nil, fmt.Errorf("value %g (element %d) is not a %s", v, i, d)
		}
		n := int64(x)
		switch d {
		case onnx.DInt64:
			binary.LittleEndian.PutUint64(b, uint64(n))
		case onnx.DInt32:
			binary.LittleEndian.PutUint32(b, uint32(int32(n)))
		default: // int8, uint8, bool: one byte
			b[0] = byte(n)
		}
	}
	return out, nil
}

// intRange is the values an integer or bool dtype holds.
func intRange(d onnx.DType) (lo, hi float64) {
	switch d {
	case onnx.DInt8:
		return math.MinInt8, math.MaxInt8
	case onnx.DUint8:
		return 0, math.MaxUint8
	case onnx.DBool:
		return 0, 1
	case onnx.DInt32:
		return math.MinInt32, math.MaxInt32
	}
	return -(1 << 53), 1 << 53
}
