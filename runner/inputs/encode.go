package inputs

import (
	"fmt"
	"math"

	"github.com/ortbench/ortbench/onnx"
)

// Encode writes values read from a dataset column (float32, as datasets
// reads every numeric column) as dtype d's bytes, the layout Generate
// writes: floats converted, integers and bool exactly or refused — a value
// that is not whole, or outside d's range (300 for uint8, 2 for bool), is an
// error naming it.
func Encode(vals []float32, d onnx.DType) ([]byte, error) {
	out := make([]byte, len(vals)*d.Size())
	i := 0
	if isFloat(d) {
		putFloats(out, d, func() float64 { v := vals[i]; i++; return float64(v) })
		return out, nil
	}
	for j, v := range vals {
		x := float64(v)
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 || checkInts(d, int64(x), int64(x)) != nil {
			return nil, fmt.Errorf("value %g (element %d) is not a %s", v, j, d)
		}
	}
	putInts(out, d, func() int64 { v := vals[i]; i++; return int64(v) })
	return out, nil
}
