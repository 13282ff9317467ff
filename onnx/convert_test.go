package onnx

import (
	"testing"

	"github.com/ortbench/ortbench/internal/raw"
)

// TestWiden: every dtype widens to its stored type, signs kept and bools 0/1.
func TestWiden(t *testing.T) {
	i64 := make([]int64, 3)
	for _, tc := range []struct {
		d    DType
		src  []byte
		want []int64
	}{
		{DInt64, raw.Bytes([]int64{-1 << 40, 0, 7}), []int64{-1 << 40, 0, 7}},
		{DInt32, raw.Bytes([]int32{-5, 1 << 30, 2}), []int64{-5, 1 << 30, 2}},
		{DInt8, raw.Bytes([]int8{-128, 127, -1}), []int64{-128, 127, -1}},
		{DUint8, []byte{255, 0, 9}, []int64{255, 0, 9}},
		{DBool, []byte{1, 0, 2}, []int64{1, 0, 1}},
	} {
		WidenInt(i64, tc.src, tc.d)
		if i64[0] != tc.want[0] || i64[1] != tc.want[1] || i64[2] != tc.want[2] {
			t.Errorf("%v: %v, want %v", tc.d, i64, tc.want)
		}
	}
	f32 := make([]float32, 2)
	for _, tc := range []struct {
		d   DType
		src []byte
	}{
		{DFloat32, raw.Bytes([]float32{-1.5, 3})},
		{DFloat16, raw.Bytes([]uint16{0xbe00, 0x4200})},
		{DFloat64, raw.Bytes([]float64{-1.5, 3})},
	} {
		WidenFloat(f32, tc.src, tc.d)
		if f32[0] != -1.5 || f32[1] != 3 {
			t.Errorf("%v: %v", tc.d, f32)
		}
	}
}
