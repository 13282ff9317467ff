package datasets

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestStrictConversion: a feature value that float32 (the model's input
// type) cannot represent is an error naming the column and row; NaN and
// ±Inf are errors unless allow_nan, which never excuses a lossy value.
func TestStrictConversion(t *testing.T) {
	dir := t.TempDir()
	at := func(row int, v float64) func(int) float64 {
		return func(i int) float64 {
			if i == row {
				return v
			}
			return float64(i)
		}
	}
	type tc struct {
		name     string
		typ      arrow.DataType
		val      func(int) float64
		allowNaN bool
		want     string // "" = reads
	}
	tests := []tc{
		{"f64 overflow", arrow.PrimitiveTypes.Float64, at(3, 1e39), false, `feature "x" row 3 is 1e+39, beyond float32's range`},
		{"f64 overflow allow_nan", arrow.PrimitiveTypes.Float64, at(3, -1e39), true, `row 3 is -1e+39, beyond float32's range`},
		{"f64 max float32", arrow.PrimitiveTypes.Float64, at(3, math.MaxFloat32), false, ""},
		{"f64 +Inf", arrow.PrimitiveTypes.Float64, at(2, math.Inf(1)), false, `feature "x" row 2 is +Inf (set allow_nan`},
		{"f64 +Inf allow_nan", arrow.PrimitiveTypes.Float64, at(2, math.Inf(1)), true, ""},
		{"f32 -Inf", arrow.PrimitiveTypes.Float32, at(5, math.Inf(-1)), false, `feature "x" row 5 is -Inf`},
		{"f32 NaN", arrow.PrimitiveTypes.Float32, at(1, math.NaN()), false, `feature "x" row 1 is NaN`},
		{"f16 Inf", arrow.FixedWidthTypes.Float16, at(4, math.Inf(1)), false, `feature "x" row 4 is +Inf`},
		{"i64 beyond 2^24", arrow.PrimitiveTypes.Int64, at(4, 1<<24+1), false, `feature "x" row 4 is 16777217, which float32 (the model's input type) cannot hold exactly: it would read as 16777216`},
		{"i64 beyond 2^24 allow_nan", arrow.PrimitiveTypes.Int64, at(4, 1<<24+1), true, `cannot hold exactly`},
		{"i64 2^25 exact", arrow.PrimitiveTypes.Int64, at(4, 1<<25), false, ""},
		{"i64 2^24", arrow.PrimitiveTypes.Int64, at(4, 1<<24), false, ""},
		{"i32 below -2^24", arrow.PrimitiveTypes.Int32, at(6, -(1<<24 + 1)), false, `row 6 is -16777217`},
		{"u32 beyond 2^24", arrow.PrimitiveTypes.Uint32, at(7, 1<<24+3), false, `row 7 is 16777219`},
		{"u64 beyond 2^24", arrow.PrimitiveTypes.Uint64, at(0, 1<<30+1), false, `row 0 is 1073741825`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cols := []column{{name: "x", typ: tt.typ, val: tt.val}, {name: "y", typ: arrow.PrimitiveTypes.Float32, val: func(int) float64 { return 1 }}}
			p := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".parquet", cols, 8, 3)
			tab, err := Load(Spec{Path: p, Features: []string{"x", "y"}, AllowNaN: tt.allowNaN})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want it read, got %v", err)
				}
				if tab.Rows != 8 {
					t.Fatalf("rows = %d, want 8", tab.Rows)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, p+": ") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error = %s\nwant one line starting with the path, containing %s", msg, tt.want)
			}
		})
	}
}

// TestUnderflowCounted: nonzero float64 values below float32's smallest
// read as 0 and are counted per feature (the caller states them); a value
// float32 holds as a subnormal is not counted, nor is 0.
func TestUnderflowCounted(t *testing.T) {
	vals := map[int]float64{1: 1e-50, 3: -1e-300, 4: 1e-44, 5: 0, 6: math.SmallestNonzeroFloat64}
	x := func(i int) float64 {
		if v, ok := vals[i]; ok {
			return v
		}
		return float64(i)
	}
	cols := []column{{name: "x", typ: arrow.PrimitiveTypes.Float64, val: x},
		{name: "y", typ: arrow.PrimitiveTypes.Float64, val: func(i int) float64 { return float64(i) }}}
	p := writeFile(t, t.TempDir(), "tiny.parquet", cols, 8, 3)
	tab, err := Load(Spec{Path: p, Features: []string{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Underflows) != 1 || tab.Underflows[0] != (Underflow{Feature: "x", Count: 3}) {
		t.Errorf("underflows = %+v, want x: 3 (rows 1, 3, 6)", tab.Underflows)
	}
	if tab.Data[1*2] != 0 || tab.Data[4*2] == 0 {
		t.Errorf("x row 1 read as %g (want 0), row 4 as %g (want a subnormal)", tab.Data[2], tab.Data[8])
	}
}

// TestMaxBytesRefusedBeforeLoading: a selection larger than MaxBytes is one
// line naming the file and the sizes, before the table is allocated.
func TestMaxBytesRefusedBeforeLoading(t *testing.T) {
	cols := []column{{name: "x", typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 { return float64(i) }},
		{name: "y", typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 { return 1 }}}
	p := writeFile(t, t.TempDir(), "ten.parquet", cols, 10, 4)
	_, err := Load(Spec{Path: p, Features: []string{"x", "y"}, MaxBytes: 79})
	if err == nil || !strings.HasPrefix(err.Error(), p+": 10 rows × 2 features take") || strings.Contains(err.Error(), "\n") {
		t.Errorf("10 rows × 2 features (80 bytes) under MaxBytes 79: %v", err)
	}
	if _, err := Load(Spec{Path: p, Features: []string{"x", "y"}, MaxBytes: 80}); err != nil {
		t.Errorf("80 bytes under MaxBytes 80: %v", err)
	}
}
