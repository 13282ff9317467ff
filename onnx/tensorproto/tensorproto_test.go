package tensorproto

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestReadMatchesNumpy checks real .pb files (copied from the onnx 1.20.1
// wheel's backend test data, or written by onnx.helper.make_tensor with
// typed fields) against what onnx.numpy_helper.to_array reads: the dtype,
// the shape, the SHA-256 of the little-endian array bytes and the first
// elements.
func TestReadMatchesNumpy(t *testing.T) {
	cases := []struct {
		file, name, dtype string
		dims              []int64
		sha               string
		first             []float64
	}{
		{"adagrad_t.pb", "T", "int64", []int64{}, "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc", []float64{0}},
		{"add_int8_y.pb", "y", "int8", []int64{3, 4, 5}, "5ba9c83897695768bb4a423ba8f8ac743798fd6411ad0b0856346da76f5b8541", []float64{22, 16, 17}},
		{"add_uint8_x.pb", "x", "uint8", []int64{3, 4, 5}, "e818c7067d82ee880d9ec678da5988ab124cc5bfed22e6ed20af8a20cbe8d14d", []float64{23, 21, 13}},
		{"add_x.pb", "x", "float32", []int64{3, 4, 5}, "20d9a6dfda5a332779c9430e95d358117b5f3e63cd745aef68d074f028e5ef50", []float64{1.764052391052246, 0.40015721321105957, 0.978738009929657}},
		{"and2d_x.pb", "x", "bool", []int64{3, 4}, "b5fcad6214e469b83ace2658f6417fd0baf25a2dc15dcc25c66e69c839817b33", []float64{1, 1, 1}},
		{"attention_fp16_q.pb", "Q", "float16", []int64{2, 3, 4, 8}, "d81cd47033ca051f75e1fe84c260f4613ac7bcc9e0314de2e945fc5d56686d5f", []float64{0.548828125, 0.71533203125, 0.6025390625}},
		{"bitwise_and_i32_x.pb", "x", "int32", []int64{3, 4}, "533d3eab2142b5a522962568e17f68ae84c75b2c2fbcfec52a3e9ba71745969b", []float64{-356387803, 2135392491, 946286476}},
		{"reduce_axes_empty.pb", "axes", "int64", []int64{0}, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", nil},
		{"tree_ensemble_x.pb", "X", "float64", []int64{3, 2}, "8cea568f0e412f8a080a1b3cb0512327e040105d2656f35654a341d66813ad37", []float64{1.2, 3.4, -0.12}},
		{"typed_bool.pb", "typed_bool", "bool", []int64{2, 2}, "afa7518106309c22d325df6d2663249d158d2f36f1976269d6d4104d9198a108", []float64{1, 0, 0}},
		{"typed_float16.pb", "typed_float16", "float16", []int64{5}, "bab44a0be5aa7c83df973527f2a96645560619232256c0f79a7a4bcc4d04acf3", []float64{1.0, -2.0, 65504.0}},
		{"typed_float32.pb", "typed_float32", "float32", []int64{2, 3}, "d498db3d5d09a4bb1ca31f9853eba533a8483198f9ffddd6a9102dab73d6e1c3", []float64{1.5, -2.25, 0.10000000149011612}},
		{"typed_float64.pb", "typed_float64", "float64", []int64{3}, "f7ddacc24e0a8df5588e2707a9f1d7243aed2b43b7f28f1db898ec6418f18ccd", []float64{0.1, -1e+300, 2.5}},
		{"typed_int32.pb", "typed_int32", "int32", []int64{4}, "dafc86a958a5aaa18f4ccb1fd04a1eda540247a6bdfb6b1a0cd0d54b3bfa5547", []float64{-2147483648, 2147483647, -1}},
		{"typed_int64.pb", "typed_int64", "int64", []int64{2, 2}, "283aa0d75722a61cfefcc1770ba6625d2c436072a38f6780ae90ee4ee2858887", []float64{-9223372036854775808, 9223372036854775807, -1}},
		{"typed_int8.pb", "typed_int8", "int8", []int64{4}, "5340c11f99103dd4c100dfa5e65dedcaa1def87e7cb4c7d03fe831419d53c875", []float64{-128, 127, -1}},
		{"typed_scalar_float32.pb", "typed_scalar_float32", "float32", []int64{}, "e22eaa245a0a3f231ce78c78deb39fa72626e8aa9f149a1cfdce6631da9aaf1a", []float64{42.5}},
		{"typed_uint8.pb", "typed_uint8", "uint8", []int64{3}, "30839c5ca1457fbfcc1eb092105577319fe48cb01ba11aee56736d17f2d2d406", []float64{0, 255, 17}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tp, err := Read(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if tp.Name != c.name || tp.DType.String() != c.dtype || !slices.Equal(tp.Dims, c.dims) {
				t.Fatalf("got %q %s %v, want %q %s %v", tp.Name, tp.DType, tp.Dims, c.name, c.dtype, c.dims)
			}
			if len(tp.Data) != tp.Elems()*tp.DType.Size() {
				t.Fatalf("%d bytes for %d elements of %s", len(tp.Data), tp.Elems(), tp.DType)
			}
			sum := sha256.Sum256(tp.Data)
			if got := hex.EncodeToString(sum[:]); got != c.sha {
				t.Errorf("sha256 %s, numpy's %s", got, c.sha)
			}
			for i, want := range c.first {
				if got := element(tp, i); got != want {
					t.Errorf("element %d = %v, numpy's %v", i, got, want)
				}
			}
		})
	}
}

// element decodes element i as float64, for comparing with numpy.
func element(t Tensor, i int) float64 {
	b := t.Data[i*t.DType.Size():]
	switch t.DType {
	case onnx.DFloat32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case onnx.DFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case onnx.DInt64:
		return float64(int64(binary.LittleEndian.Uint64(b)))
	case onnx.DInt32:
		return float64(int32(binary.LittleEndian.Uint32(b)))
	case onnx.DInt8:
		return float64(int8(b[0]))
	case onnx.DFloat16:
		return half(binary.LittleEndian.Uint16(b))
	}
	return float64(b[0]) // uint8, bool
}

// half decodes an IEEE half (finite values only, which is all the test data holds).
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	if exp == 0 {
		return sign * frac * math.Pow(2, -24)
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

func TestReadRefuses(t *testing.T) {
	cases := []struct{ file, want string }{
		{"add_int16_x.pb", "data_type 5 (int16) is not supported"},
		{"label_encoder_string.pb", "data_type 8 (string) is not supported"},
		{"external.pb", "external data"},
		{"identity_opt_optional.pb", "declare more elements than the file's 42 bytes hold"}, // an OptionalProto, not a tensor
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			_, err := Read(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("error %v, want %q naming %s", err, c.want, path)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
	if _, err := Read(filepath.Join("testdata", "missing.pb")); err == nil {
		t.Error("a missing file read")
	}
}

// tensor builds a TensorProto by hand, for the malformed cases.
type tensor []byte

func (b tensor) varint(num protowire.Number, v uint64) tensor {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func (b tensor) bytes(num protowire.Number, v []byte) tensor {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func packed(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendVarint(b, v)
	}
	return b
}

func TestParseErrors(t *testing.T) {
	f32 := func() tensor { return tensor(nil).varint(fDataType, 1) } // fresh each time: appends must not share an array
	cases := []struct {
		name string
		b    []byte
		want string // "" = parses
	}{
		{"empty", nil, "no data_type"},
		{"raw short", f32().varint(fDims, 2).bytes(fRawData, make([]byte, 4)), "raw_data holds 4 bytes, dims [2] of float32 need 8"},
		{"raw long", f32().varint(fDims, 1).bytes(fRawData, make([]byte, 8)), "raw_data holds 8 bytes"},
		{"huge dims", f32().bytes(fDims, packed(1<<40, 1<<40)).bytes(fRawData, nil), "declare more elements"},
		{"huge dim after zero", f32().bytes(fDims, packed(0, 1<<62, 1<<62)), "declare more elements"},
		{"zero dim", f32().bytes(fDims, packed(0, 5)), ""},
		{"negative dim", f32().varint(fDims, uint64(1<<64-1)), "negative dimension"},
		{"no data", f32().varint(fDims, 3), "field 4 holds 0 elements, dims need 3"},
		{"scalar without data", f32(), "field 4 holds 0 elements, dims need 1"},
		{"too many typed", tensor(nil).varint(fDataType, 7).varint(fDims, 1).bytes(fInt64Data, packed(1, 2)), "more elements than dims declare (1)"},
		{"unpacked int64", tensor(nil).varint(fDataType, 7).varint(fDims, 2).varint(fInt64Data, 5).varint(fInt64Data, 6), ""},
		{"typed wire type", tensor(nil).varint(fDataType, 1).varint(fDims, 1).varint(fFloatData, 5), "wire type 0, want 5"},
		{"wrong typed field", f32().varint(fDims, 1).bytes(fInt64Data, packed(1)), "field 7 holds data of another type than float32"},
		{"raw and typed", f32().varint(fDims, 1).bytes(fRawData, make([]byte, 4)).bytes(fFloatData, make([]byte, 4)), "both raw_data and typed data"},
		{"int8 range", tensor(nil).varint(fDataType, 3).varint(fDims, 1).bytes(fInt32Data, packed(200)), "int32_data value 200 out of range for int8"},
		{"uint8 negative", tensor(nil).varint(fDataType, 2).varint(fDims, 1).bytes(fInt32Data, packed(uint64(1<<64-1))), "value -1 out of range for uint8"},
		{"bool 2 typed", tensor(nil).varint(fDataType, 9).varint(fDims, 1).bytes(fInt32Data, packed(2)), "out of range for bool"},
		{"bool 2 raw", tensor(nil).varint(fDataType, 9).varint(fDims, 1).bytes(fRawData, []byte{2}), "bool element 0 is 2"},
		{"segment", f32().bytes(fSegment, packed(0, 1)), "segment"},
		{"external location", f32().varint(fDataLocation, 1), "external data"},
		{"undefined type", tensor(nil).varint(fDataType, 0), "data_type 0 (undefined)"},
		{"unknown type", tensor(nil).varint(fDataType, 99), "data_type 99 (type 99)"},
		{"truncated", f32().bytes(fRawData, make([]byte, 10))[:8], "field 9"},
		{"bad packed", tensor(nil).varint(fDataType, 7).varint(fDims, 1).bytes(fInt64Data, []byte{0xff}), "packed data"},
		{"dims wire type", f32().bytes(fDims, []byte{0x80}), "dims"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.b)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// FuzzParse: no input panics, and what parses is self-consistent.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pb"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := Parse(b)
		if err != nil {
			return
		}
		if len(tp.Data) != tp.Elems()*tp.DType.Size() {
			t.Fatalf("%d bytes for dims %v of %s", len(tp.Data), tp.Dims, tp.DType)
		}
		if len(tp.Data) > 8*len(b) {
			t.Fatalf("%d bytes of data from a %d-byte file", len(tp.Data), len(b))
		}
	})
}
