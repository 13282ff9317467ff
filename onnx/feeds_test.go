package onnx

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func tensorIn(name, dtype string, shape ...int64) TensorInfo {
	return TensorInfo{Name: name, Type: "tensor", DType: dtype, Shape: shape}
}

// TestFeedsResolve: declared shapes and shapes entries give the batch axis
// and item shape the brief's rules say.
func TestFeedsResolve(t *testing.T) {
	tests := []struct {
		name   string
		in     TensorInfo
		shapes map[string][]string
		item   []int64
		batch  int
	}{
		{"tabular", tensorIn("x", "float32", -1, 30), nil, []int64{30}, 0},
		{"resnet", tensorIn("x", "float32", 1, 3, 224, 224), nil, []int64{3, 224, 224}, 1},
		{"rank1 fixed", tensorIn("x", "int64", 4), nil, []int64{4}, -1},
		{"rank0", tensorIn("x", "bool"), nil, []int64{}, -1},
		{"rank1 free", tensorIn("x", "int32", -1), nil, []int64{}, 0},
		{"set seq", tensorIn("x", "float16", -1, -1), map[string][]string{"x": {"batch", "128"}}, []int64{128}, 0},
		{"set agrees", tensorIn("x", "uint8", -1, 4, -1), map[string][]string{"x": {"batch", "4", " 7 "}}, []int64{4, 7}, 0},
		{"set no batch", tensorIn("x", "float32", -1, -1), map[string][]string{"x": {"2", "5"}}, []int64{2, 5}, -1},
		{"set fixed batch", tensorIn("x", "float32", 8, -1), map[string][]string{"x": {"batch", "5"}}, []int64{5}, 8},
		{"rank8", tensorIn("x", "int8", -1, 2, 2, 2, 2, 2, 2, 2), nil, []int64{2, 2, 2, 2, 2, 2, 2}, 0},
	}
	for _, tc := range tests {
		m := &Model{Path: "m.onnx", Inputs: []TensorInfo{tc.in}}
		f, err := m.Feeds(tc.shapes)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(f) != 1 || !slices.Equal(f[0].Item, tc.item) || f[0].Batch != tc.batch || f[0].DType.String() != tc.in.DType {
			t.Errorf("%s: feed %+v, want item %v batch %d", tc.name, f, tc.item, tc.batch)
		}
		want := tc.batch
		if want < 0 {
			want = 1
		}
		if ItemsPerCall(f) != want {
			t.Errorf("%s: ItemsPerCall %d", tc.name, ItemsPerCall(f))
		}
	}
}

// TestFeedsErrors: every input Feeds refuses gets one line naming the file,
// the input and the problem.
func TestFeedsErrors(t *testing.T) {
	x := func(shape ...int64) []TensorInfo { return []TensorInfo{tensorIn("x", "float32", shape...)} }
	named := tensorIn("x", "float32", -1, -1)
	named.DimNames = []string{"batch", "seq"}
	set := func(toks ...string) map[string][]string { return map[string][]string{"x": toks} }
	tests := []struct {
		name   string
		inputs []TensorInfo
		shapes map[string][]string
		want   string
	}{
		{"unset named", []TensorInfo{named}, nil, `input "x" dimension 1 ("seq") is not fixed by the model: set workload.shapes.x, e.g. [batch, 128]`},
		{"unset unnamed", x(-1, 3, -1), nil, `input "x" dimension 2 is not fixed by the model: set workload.shapes.x, e.g. [batch, 3, 128]`},
		{"unset after fixed batch", x(1, -1), nil, `input "x" dimension 1 is not fixed by the model`},
		{"unknown name", x(-1, 3), map[string][]string{"y": {"batch", "3"}}, `workload.shapes names input "y", the model has no such input (inputs: "x")`},
		{"rank mismatch", x(-1, 3), set("batch"), `workload.shapes.x has 1 dimensions, input "x" has rank 2 (float32[N, 3])`},
		{"batch not first", x(-1, -1), set("4", "batch"), `workload.shapes.x dimension 1 is "batch": only dimension 0 can be the batch axis`},
		{"zero", x(-1, -1), set("batch", "0"), `workload.shapes.x dimension 1 is "0": want "batch" (dimension 0 only) or a positive integer`},
		{"negative", x(-1, -1), set("batch", "-3"), `dimension 1 is "-3"`},
		{"not a number", x(-1, -1), set("batch", "seq"), `dimension 1 is "seq"`},
		{"huge", x(-1, -1), set("batch", "99999999999"), `dimension 1 is 99999999999, over ortbench's`},
		{"item too big", x(-1, -1, -1), set("batch", "100000", "100000"), `one item of [100000 100000] is 40000000000 bytes`},
		{"disagrees", x(-1, 3), set("batch", "4"), `workload.shapes.x dimension 1 is 4 but the model fixes it at 3 (float32[N, 3])`},
		{"rank 9", x(-1, 1, 1, 1, 1, 1, 1, 1, 1), nil, `input "x" has shape float32[N, 1, 1, 1, 1, 1, 1, 1, 1]: rank 9, ortbench feeds tensors up to rank 8`},
		{"zero dim", x(-1, 0), nil, `input "x" has shape float32[N, 0]: a zero dimension leaves nothing to feed`},
		{"string", []TensorInfo{tensorIn("x", "string", -1, 2)}, nil, `input "x" is string[N, 2], ortbench feeds float32, float16, float64, int64, int32, int8, uint8 and bool tensors`},
		{"bfloat16", []TensorInfo{tensorIn("x", "bfloat16", -1, 2)}, nil, `input "x" is bfloat16[N, 2]`},
		{"sequence", []TensorInfo{{Name: "x", Type: "sequence"}}, nil, `input "x" is a sequence, ortbench feeds tensors`},
		{"mixed", []TensorInfo{tensorIn("a", "float32", -1, 3), tensorIn("b", "float32", 1, 3)}, nil,
			`inputs batch differently: input "a" has a free batch axis, input "b" has its batch axis fixed at 1 by the model`},
		{"mixed none", []TensorInfo{tensorIn("a", "float32", 2, 3), tensorIn("b", "float32", 3)}, nil,
			`input "a" has its batch axis fixed at 2 by the model, input "b" has no batch axis`},
		{"no inputs", nil, nil, `model has no inputs to feed`},
	}
	for _, tc := range tests {
		m := &Model{Path: "m.onnx", Inputs: tc.inputs}
		_, err := m.Feeds(tc.shapes)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "m.onnx: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %q", tc.name, err, tc.want)
		}
	}
}

// TestUnsetDimSay: the lead's CLI builds the same message around its flag.
func TestUnsetDimSay(t *testing.T) {
	in := tensorIn("ids", "int64", -1, -1)
	in.DimNames = []string{"", "sequence"}
	_, err := (&Model{Path: "bert.onnx", Inputs: []TensorInfo{in}}).Feeds(nil)
	var u *UnsetDim
	if !errors.As(err, &u) || u.Axis != 1 || u.Symbol != "sequence" || !slices.Equal(u.Example, []string{"batch", "128"}) {
		t.Fatalf("error %#v", err)
	}
	want := `bert.onnx: input "ids" dimension 1 ("sequence") is not fixed by the model: set --shape ids=batch,128`
	if got := u.Say("--shape ids=" + strings.Join(u.Example, ",")); got != want {
		t.Fatalf("Say:\n got %s\nwant %s", got, want)
	}
}

// TestUnsetDims lists every unset dimension of every input, none for a
// model Feeds(nil) takes.
func TestUnsetDims(t *testing.T) {
	a := tensorIn("a", "int64", -1, -1, 4, -1)
	a.DimNames = []string{"b", "seq", "", ""}
	m := &Model{Path: "m.onnx", Inputs: []TensorInfo{a, tensorIn("b", "float32", -1, 3), {Name: "s", Type: "sequence"}}}
	var got []string
	for _, u := range m.UnsetDims() {
		got = append(got, u.Input+"/"+strings.Join(u.Example, ",")+"/"+u.Symbol+"/"+string(rune('0'+u.Axis)))
	}
	if want := []string{"a/batch,128,4,128/seq/1", "a/batch,128,4,128//3"}; !slices.Equal(got, want) {
		t.Fatalf("UnsetDims %q, want %q", got, want)
	}
	if u := (&Model{Inputs: []TensorInfo{tensorIn("x", "float32", -1, 3)}}).UnsetDims(); u != nil {
		t.Fatalf("a fixed model needs %v", u)
	}
}

// TestFloat16ToFloat32 checks known halves, then every one of the 65536
// against the definition computed in float64.
func TestFloat16ToFloat32(t *testing.T) {
	known := map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-08,
		0x0400: 6.103515625e-05, 0x03ff: 6.097555160522461e-05, 0x3555: 0.333251953125, 0x0000: 0,
		0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1))}
	for h, want := range known {
		if got := Float16ToFloat32(h); got != want {
			t.Errorf("%#04x: %v, want %v", h, got, want)
		}
	}
	if b := math.Float32bits(Float16ToFloat32(0x8000)); b != 0x80000000 {
		t.Errorf("-0 became %#x", b)
	}
	for i := range 1 << 16 {
		h := uint16(i)
		sign, exp, frac := h>>15, int(h>>10)&0x1f, float64(h&0x3ff)
		var want float64
		switch exp {
		case 0x1f:
			want = math.Inf(1)
			if frac != 0 {
				want = math.NaN()
			}
		case 0:
			want = math.Ldexp(frac, -24)
		default:
			want = math.Ldexp(1+frac/1024, exp-15)
		}
		if sign == 1 {
			want = -want
		}
		got := Float16ToFloat32(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) || math.Float32bits(got)&0x7fffff != uint32(h&0x3ff)<<13 {
				t.Fatalf("%#04x: %v (bits %#x), want NaN keeping its payload", h, got, math.Float32bits(got))
			}
			continue
		}
		if float64(got) != want {
			t.Fatalf("%#04x: %v, want %v", h, got, want)
		}
	}
}
