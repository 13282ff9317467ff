package inputs

import (
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
)

func TestEncode(t *testing.T) {
	b, err := Encode([]float32{1, 0, 255}, onnx.DUint8)
	if err != nil || string(b) != "\x01\x00\xff" {
		t.Fatalf("uint8: %v %v", b, err)
	}
	if b, err = Encode([]float32{-2}, onnx.DInt32); err != nil || string(b) != "\xfe\xff\xff\xff" {
		t.Fatalf("int32: %v %v", b, err)
	}
	if b, err = Encode([]float32{1.5}, onnx.DFloat16); err != nil || string(b) != "\x00\x3e" {
		t.Fatalf("float16: %v %v", b, err)
	}
	for _, c := range []struct {
		v float32
		d onnx.DType
	}{{2, onnx.DBool}, {300, onnx.DUint8}, {0.5, onnx.DInt64}, {-1, onnx.DUint8}} {
		if _, err := Encode([]float32{0, c.v}, c.d); err == nil || !strings.Contains(err.Error(), "element 1") {
			t.Errorf("%g as %s: %v", c.v, c.d, err)
		}
	}
}
