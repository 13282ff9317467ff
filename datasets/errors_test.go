package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cols := append(mixedColumns(),
		column{name: "lst", typ: arrow.ListOf(arrow.PrimitiveTypes.Float32), val: func(i int) float64 { return 1 }},
		column{name: "frac", typ: arrow.PrimitiveTypes.Float64, val: func(i int) float64 { return 0.5 }},
	)
	good := map[string]string{}
	for _, f := range formats {
		good[f] = writeFile(t, dir, f, cols, 20, 8)
	}
	strOnly := writeFile(t, dir, "str.parquet", []column{{name: "s", typ: arrow.BinaryTypes.String, val: func(int) float64 { return 0 }}}, 3, 3)

	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("this is not a columnar file at all, just some text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	copyAs := func(src, name string, keep func(n int) int) string {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b[:keep(len(b))], 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := func(n int) int { return n }
	half := func(n int) int { return n / 2 }
	none := func(n int) int { return 0 }

	type tc struct {
		name string
		spec Spec
		want string
	}
	tests := []tc{
		{"missing file", Spec{Path: filepath.Join(dir, "nope.parquet")}, "no such file"},
		{"unknown extension", Spec{Path: filepath.Join(dir, "x.csv")}, `unknown file extension (".csv")`},
		{"no extension", Spec{Path: filepath.Join(dir, "x")}, "unknown file extension (no extension)"},
		{"directory", Spec{Path: filepath.Join(dir, "d.parquet")}, "is a directory"},
		{"negative limit", Spec{Path: good["t.parquet"], Limit: -1}, "limit -1 is negative"},
		{"strOnly", Spec{Path: strOnly}, `no numeric feature columns (have: s)`},
		{"garbage parquet", Spec{Path: copyAs(garbage, "g.parquet", all)}, "not a readable Parquet file"},
		{"garbage arrow", Spec{Path: copyAs(garbage, "g.arrow", all)}, "not a readable Arrow IPC file"},
		{"garbage arrows", Spec{Path: copyAs(garbage, "g.arrows", all)}, "not a readable Arrow IPC stream"},
		{"empty parquet", Spec{Path: copyAs(garbage, "e.parquet", none)}, "not a readable Parquet file"},
		{"empty arrow", Spec{Path: copyAs(garbage, "e.arrow", none)}, "file is empty"},
		{"truncated parquet", Spec{Path: copyAs(good["t.parquet"], "h.parquet", half)}, "not a readable Parquet file"},
		{"truncated arrow", Spec{Path: copyAs(good["t.arrow"], "h.arrow", half)}, "not a readable Arrow IPC file"},
		{"stream as file", Spec{Path: copyAs(good["t.arrows"], "s.arrow", all)}, "use the .arrows extension"},
	}
	if err := os.Mkdir(filepath.Join(dir, "d.parquet"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		p := good[f]
		tests = append(tests,
			tc{f + " both set", Spec{Path: p, Features: []string{"a_i32"}, TensorColumn: "tensor"}, "features and tensor_column are both set"},
			tc{f + " column not found", Spec{Path: p, Features: []string{"pixel_9"}}, `column "pixel_9" not found (have: a_i32, b_i64, name, c_f64, label, d_f32, e_u8, tensor, ... 4 more ..., frac)`},
			tc{f + " string column", Spec{Path: p, Features: []string{"a_i32", "name"}}, `column "name" is string, want a numeric column`},
			tc{f + " tensor is list", Spec{Path: p, TensorColumn: "lst"}, `tensor column "lst" is list<float32>, want fixed_size_list`},
			tc{f + " tensor not found", Spec{Path: p, TensorColumn: "pixels"}, `tensor column "pixels" not found`},
			tc{f + " pattern matches nothing", Spec{Path: p, Features: []string{"zz*"}}, `feature pattern "zz*" matches no column`},
			tc{f + " malformed pattern", Spec{Path: p, Features: []string{"a[*"}}, `feature pattern "a[*" is malformed`},
			tc{f + " selected twice", Spec{Path: p, Features: []string{"a_*", "a_i32"}}, `column "a_i32" is selected twice`},
			tc{f + " label not found", Spec{Path: p, Label: "target"}, `label column "target" not found`},
			tc{f + " string label", Spec{Path: p, Label: "name"}, `label column "name" is string, want an integer column`},
			tc{f + " fractional label", Spec{Path: p, Label: "frac", Features: []string{"a_i32"}}, `label "frac" row 0 is 0.5, want a whole number`},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.spec)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if os.Getenv("SHOWERR") != "" {
				t.Log(msg)
			}
			if !strings.HasPrefix(msg, tt.spec.Path+": ") {
				t.Errorf("error does not start with the path: %s", msg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error = %s\nwant it to contain %s", msg, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if strings.Count(msg, tt.spec.Path) != 1 {
				t.Errorf("error repeats the path: %s", msg)
			}
		})
	}
	if _, err := Open(Spec{}); err == nil || !strings.Contains(err.Error(), "path is empty") {
		t.Errorf("empty path: %v", err)
	}
}
