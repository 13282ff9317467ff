package inputs

import (
	"math"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
)

func TestParseSpec(t *testing.T) {
	cases := []struct {
		in   string
		want Spec
		str  string
	}{
		{"uniform:0,1", Spec{Kind: Uniform, X: 0, Y: 1}, "uniform:0,1"},
		{" uniform: -1.5 , 2e3 ", Spec{Kind: Uniform, X: -1.5, Y: 2000}, "uniform:-1.5,2000"},
		{"normal:0,0.25", Spec{Kind: Normal, X: 0, Y: 0.25}, "normal:0,0.25"},
		{"int:0,30522", Spec{Kind: Int, Lo: 0, Hi: 30522}, "int:0,30522"},
		{"int:-9223372036854775808,9223372036854775807", Spec{Kind: Int, Lo: math.MinInt64, Hi: math.MaxInt64}, "int:-9223372036854775808,9223372036854775807"},
		{"1", Spec{Kind: Const, X: 1, Lo: 1, Exact: true}, "1"},
		{"9007199254740993", Spec{Kind: Const, X: 9007199254740992, Lo: 9007199254740993, Exact: true}, "9007199254740993"},
		{"-0.5", Spec{Kind: Const, X: -0.5}, "-0.5"},
		{"1e3", Spec{Kind: Const, X: 1000, Lo: 1000, Exact: true}, "1000"},
		{"1e30", Spec{Kind: Const, X: 1e30}, "1e+30"},
		{"column:feat", Spec{Kind: Column, Column: "feat"}, "column:feat"},
	}
	for _, c := range cases {
		got, err := ParseSpec(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		if got.String() != c.str {
			t.Errorf("%q: String() = %q, want %q", c.in, got.String(), c.str)
		}
		if again, err := ParseSpec(got.String()); err != nil || again.String() != c.str {
			t.Errorf("%q does not read back: %+v, %v", got.String(), again, err)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `input spec "": want uniform:LO,HI`},
		{"abc", "a constant must be a finite number"},
		{"nan", "finite"},
		{"inf", "finite"},
		{"uniform:1", "want LO,HI"},
		{"uniform:1,x", "want LO,HI"},
		{"uniform:1,1", "LO must be below HI"},
		{"uniform:2,1", "LO must be below HI"},
		{"uniform:0,inf", "two finite numbers"},
		{"normal:0,0", "STD must be above 0"},
		{"normal:0,-1", "STD must be above 0"},
		{"normal:nan,1", "finite"},
		{"int:0,1.5", "two 64-bit integers"},
		{"int:5,5", "LO must be below HI (HI is excluded)"},
		{"int:0,9223372036854775808", "64-bit"},
		{"column:", "no column name"},
		{"gauss:0,1", `input spec "gauss:0,1": want uniform:LO,HI, normal:MEAN,STD, int:LO,HI, column:NAME or a number`},
	}
	for _, c := range cases {
		_, err := ParseSpec(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSpec(%q): %v, want %q", c.in, err, c.want)
		}
	}
}

func TestParseInput(t *testing.T) {
	name, sp, err := ParseInput("input_ids=int:0,30522")
	if err != nil || name != "input_ids" || sp != (Spec{Kind: Int, Lo: 0, Hi: 30522}) {
		t.Errorf("got %q %+v %v", name, sp, err)
	}
	for _, bad := range []string{"input_ids", "=1", "x=uniform:1,0"} {
		if _, _, err := ParseInput(bad); err == nil {
			t.Errorf("ParseInput(%q) accepted", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		spec  string
		dtype onnx.DType
		want  string // "" = fits
	}{
		{"uniform:0,1", onnx.DFloat32, ""},
		{"uniform:0,1", onnx.DFloat16, ""},
		{"normal:0,1", onnx.DFloat64, ""},
		{"uniform:0,1", onnx.DInt64, "input x (int64): uniform:0,1: uniform and normal are for float inputs; use int:LO,HI or a number"},
		{"normal:0,1", onnx.DBool, "for float inputs"},
		{"uniform:0,70000", onnx.DFloat16, "outside float16's range ±65504"},
		{"uniform:0,70000", onnx.DFloat32, ""},
		{"normal:0,1e39", onnx.DFloat32, "outside float32's range"},
		{"int:0,30522", onnx.DInt64, ""},
		{"int:0,30522", onnx.DInt32, ""},
		{"int:0,30522", onnx.DFloat32, ""},
		{"int:0,2049", onnx.DFloat16, ""},
		{"int:0,2050", onnx.DFloat16, "outside float16's range [-2048, 2048]"},
		{"int:-128,128", onnx.DInt8, ""},
		{"int:-129,0", onnx.DInt8, "outside int8's range [-128, 127]"},
		{"int:0,256", onnx.DUint8, ""},
		{"int:0,257", onnx.DUint8, "outside uint8's range"},
		{"int:-1,1", onnx.DUint8, "outside uint8's range"},
		{"int:0,2", onnx.DBool, ""},
		{"int:0,3", onnx.DBool, "outside bool's range [0, 1]"},
		{"int:0,3000000000", onnx.DInt32, "outside int32's range"},
		{"1", onnx.DBool, ""},
		{"0", onnx.DBool, ""},
		{"2", onnx.DBool, "outside bool's range"},
		{"255", onnx.DUint8, ""},
		{"300", onnx.DUint8, "input x (uint8): 300: values outside uint8's range [0, 255]"},
		{"-1", onnx.DInt8, ""},
		{"0.5", onnx.DInt64, "int64 takes an integer constant"},
		{"1e30", onnx.DInt64, "int64 takes an integer constant"},
		{"0.5", onnx.DFloat16, ""},
		{"1e5", onnx.DFloat16, "outside float16's range"},
		{"1e300", onnx.DFloat32, "outside float32's range"},
		{"1e300", onnx.DFloat64, ""},
		{"column:feat", onnx.DInt8, ""},
		{"1", onnx.DType(0), "dtype unknown cannot be generated"},
	}
	for _, c := range cases {
		sp, err := ParseSpec(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		err = sp.Check(onnx.Feed{Name: "x", DType: c.dtype, Item: []int64{4}})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s for %s: %v", c.spec, c.dtype, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s for %s: %v, want %q", c.spec, c.dtype, err, c.want)
		}
	}
	if err := (Spec{}).Check(onnx.Feed{Name: "x", DType: onnx.DFloat32}); err == nil {
		t.Error("the zero Spec fits")
	}
}

func TestDefaultFitsEveryDType(t *testing.T) {
	want := map[onnx.DType]string{onnx.DFloat32: "uniform:0,1", onnx.DFloat16: "uniform:0,1", onnx.DFloat64: "uniform:0,1",
		onnx.DInt64: "int:0,2", onnx.DInt32: "int:0,2", onnx.DInt8: "int:0,2", onnx.DUint8: "int:0,2", onnx.DBool: "1"}
	for d, w := range want {
		sp := Default(d)
		if sp.String() != w {
			t.Errorf("Default(%s) = %s, want %s", d, sp, w)
		}
		if err := sp.Check(onnx.Feed{Name: "x", DType: d}); err != nil {
			t.Error(err)
		}
	}
}

// FuzzParseSpec: no spec panics, and what parses reads back from String.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"uniform:0,1", "normal:0,1", "int:0,30522", "1", "-0.5", "column:x", "1e3", "int:-9223372036854775808,9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		again, err := ParseSpec(sp.String())
		if err != nil || again != sp {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, sp, sp.String(), again, err)
		}
		for _, d := range []onnx.DType{onnx.DFloat16, onnx.DInt8, onnx.DBool, onnx.DInt64} {
			_ = sp.Check(onnx.Feed{Name: "x", DType: d})
		}
	})
}
