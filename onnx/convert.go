package onnx

import (
	"math"

	"github.com/ortbench/ortbench/internal/raw"
)

// Float16ToFloat32 widens an IEEE 754 half (its bits) to float32. Every half
// is exactly a float32, subnormals, infinities and NaN payloads included.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN: keep the payload
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal: rebias 15 → 127
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal half: frac·2⁻²⁴, normal as a float32 once the leading 1 is
	// shifted up to bit 10.
	e := uint32(113)
	for frac&0x400 == 0 {
		frac <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
}

// WidenFloat fills dst from src, elements of dtype d (float32, float16,
// float64; aligned for d), as ortbench stores float outputs: the session's
// outputs, and a test-data directory's expected ones (runner).
func WidenFloat(dst []float32, src []byte, d DType) {
	switch d {
	case DFloat32:
		copy(dst, raw.View[float32](src))
	case DFloat16:
		for i, h := range raw.View[uint16](src) {
			dst[i] = Float16ToFloat32(h)
		}
	case DFloat64:
		widen(dst, raw.View[float64](src))
	}
}

// WidenInt fills dst from src, elements of dtype d (int64, int32, int8,
// uint8, bool as 0/1; aligned for d), as ortbench stores integer outputs.
func WidenInt(dst []int64, src []byte, d DType) {
	switch d {
	case DInt64:
		copy(dst, raw.View[int64](src))
	case DInt32:
		widen(dst, raw.View[int32](src))
	case DInt8:
		widen(dst, raw.View[int8](src))
	case DUint8:
		widen(dst, src)
	case DBool:
		for i, v := range src {
			dst[i] = int64(min(v, 1))
		}
	}
}

// widen converts src element by element into dst (at least as long).
func widen[D int64 | float32, S int32 | int8 | uint8 | float64](dst []D, src []S) {
	for i, v := range src {
		dst[i] = D(v)
	}
}
