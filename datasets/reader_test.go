package datasets

import (
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

var formats = []string{"t.parquet", "t.arrow", "t.feather", "t.arrows"}

// numericNames are mixedColumns' numeric scalar columns except the label,
// in schema order: what an empty Spec.Features selects.
var numericNames = []string{"a_i32", "b_i64", "c_f64", "d_f32", "e_u8", "g_f16", "h_i8", "k_u64"}

func TestLoad(t *testing.T) {
	const rows = 300
	cols := mixedColumns()
	dir := t.TempDir()
	tensor := make([]float32, 0, rows*3)
	for i := range rows {
		for j := range 3 {
			tensor = append(tensor, tensorValue(i, j))
		}
	}
	labels := make([]int64, rows)
	for i := range labels {
		labels[i] = int64(i % 3)
	}

	tests := []struct {
		name      string
		spec      Spec
		wantNames []string
		wantData  []float32 // nil: expected(cols, wantNames, wantRows)
		wantRows  int
		noLabels  bool
	}{
		{name: "all numeric", spec: Spec{}, wantNames: numericNames, wantRows: rows},
		{name: "names in given order", spec: Spec{Features: []string{"e_u8", "a_i32", "c_f64"}},
			wantNames: []string{"e_u8", "a_i32", "c_f64"}, wantRows: rows},
		{name: "globs in schema order", spec: Spec{Features: []string{"[cd]_*", "*_i*"}},
			wantNames: []string{"c_f64", "d_f32", "a_i32", "b_i64", "h_i8"}, wantRows: rows},
		{name: "glob skips label", spec: Spec{Features: []string{"*"}, Label: "k_u64"},
			wantNames: []string{"a_i32", "b_i64", "name"}, wantRows: rows}, // fails: name is string
		{name: "limit", spec: Spec{Features: []string{"d_f32"}, Limit: 7},
			wantNames: []string{"d_f32"}, wantRows: 7},
		{name: "limit above rows", spec: Spec{Features: []string{"d_f32"}, Limit: 10 * rows},
			wantNames: []string{"d_f32"}, wantRows: rows},
		{name: "tensor", spec: Spec{TensorColumn: "tensor"},
			wantNames: []string{"tensor[0]", "tensor[1]", "tensor[2]"}, wantData: tensor, wantRows: rows},
		{name: "tensor with limit", spec: Spec{TensorColumn: "tensor", Limit: 5},
			wantNames: []string{"tensor[0]", "tensor[1]", "tensor[2]"}, wantData: tensor[:15], wantRows: 5},
	}
	// Write each layout once; every case reads every layout.
	paths := make([]string, len(formats))
	for i, f := range formats {
		paths[i] = writeFile(t, dir, f, cols, rows, 128)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first *Table
			for _, p := range paths {
				spec := tt.spec
				spec.Path = p
				tab, err := Load(spec)
				if tt.name == "glob skips label" {
					// "*" matches the string column; the error proves the
					// label was skipped and the pattern expanded in order.
					if err == nil || !strings.Contains(err.Error(), `column "name" is string`) {
						t.Fatalf("%s: err = %v, want string-column error", p, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if !slices.Equal(tab.FeatureNames, tt.wantNames) {
					t.Fatalf("%s: names = %v, want %v", p, tab.FeatureNames, tt.wantNames)
				}
				if tab.Rows != tt.wantRows || tab.Width != len(tt.wantNames) || len(tab.Data) != tab.Rows*tab.Width {
					t.Fatalf("%s: rows=%d width=%d len=%d", p, tab.Rows, tab.Width, len(tab.Data))
				}
				want := tt.wantData
				if want == nil {
					want = expected(cols, tt.wantNames, tt.wantRows)
				}
				if !equalFloats(tab.Data, want) {
					i := firstDiff(tab.Data, want)
					t.Fatalf("%s: Data[%d] = %v, want %v", p, i, tab.Data[i], want[i])
				}
				if !slices.Equal(tab.Labels, labels[:tt.wantRows]) {
					t.Fatalf("%s: labels differ", p)
				}
				if first != nil && !equalFloats(first.Data, tab.Data) {
					t.Fatalf("%s differs from %s", p, first.Path)
				}
				first = tab
			}
		})
	}
}

func TestLabels(t *testing.T) {
	dir := t.TempDir()
	cols := []column{
		{name: "x", typ: arrow.PrimitiveTypes.Float64, val: func(i int) float64 { return float64(i) }},
		{name: "y", typ: arrow.PrimitiveTypes.Uint8, val: func(i int) float64 { return float64(i % 2) }},      // uint8
		{name: "yf", typ: arrow.PrimitiveTypes.Float64, val: func(i int) float64 { return float64(i%4) + 0 }}, // float64, whole
	}
	for _, f := range formats {
		p := writeFile(t, dir, f, cols, 10, 4)
		// No "label" column: no labels, and x, y, yf are all features.
		tab, err := Load(Spec{Path: p})
		if err != nil {
			t.Fatal(err)
		}
		if tab.Labels != nil || tab.Width != 3 {
			t.Fatalf("%s: labels=%v width=%d, want none and 3", p, tab.Labels, tab.Width)
		}
		// An explicit label is excluded from the features.
		tab, err = Load(Spec{Path: p, Label: "y"})
		if err != nil {
			t.Fatal(err)
		}
		if tab.Width != 2 || tab.Labels[3] != 1 || tab.Labels[4] != 0 {
			t.Fatalf("%s: width=%d labels=%v", p, tab.Width, tab.Labels)
		}
		// Float labels holding whole numbers are accepted.
		tab, err = Load(Spec{Path: p, Label: "yf", Features: []string{"x"}})
		if err != nil {
			t.Fatal(err)
		}
		if tab.Labels[7] != 3 {
			t.Fatalf("%s: labels=%v", p, tab.Labels)
		}
	}
}

func TestBatch(t *testing.T) {
	tab := &Table{Width: 2, Rows: 5, Data: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	tests := []struct {
		start, n int
		want     []float32
	}{
		{0, 2, []float32{0, 1, 2, 3}},
		{3, 10, []float32{6, 7, 8, 9}},
		{4, 1, []float32{8, 9}},
		{5, 1, nil},
		{1, 0, nil},
	}
	for _, tt := range tests {
		got := tab.Batch(tt.start, tt.n)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Batch(%d, %d) = %v, want %v", tt.start, tt.n, got, tt.want)
		}
		if len(got) > 0 && &got[0] != &tab.Data[tt.start*tab.Width] {
			t.Errorf("Batch(%d, %d) copied", tt.start, tt.n)
		}
		if cap(got) != len(got) {
			t.Errorf("Batch(%d, %d): cap %d lets append overwrite the next rows", tt.start, tt.n, cap(got))
		}
	}
}

// TestStreaming reads a file of several record batches (and, for Parquet,
// more rows than one reader batch) through a small, odd-sized dst.
func TestStreaming(t *testing.T) {
	rows := batchRows + batchRows/2 + 3
	if testing.Short() {
		rows = 5000
	}
	cols := mixedColumns()[:8]
	dir := t.TempDir()
	for _, f := range formats {
		p := writeFile(t, dir, f, cols, rows, 40_000)
		spec := Spec{Path: p, Features: []string{"c_f64", "a_i32", "e_u8"}}
		whole, err := Load(spec)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open(spec)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rows() != int64(rows) || r.Width() != 3 {
			t.Fatalf("%s: Rows=%d Width=%d", p, r.Rows(), r.Width())
		}
		const k = 7
		dst := make([]float32, k*r.Width())
		lab := make([]int64, k)
		var data []float32
		var labels []int64
		for {
			n, err := r.Read(dst, lab)
			if err == io.EOF {
				if n != 0 {
					t.Fatalf("%s: EOF with n=%d", p, n)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, dst[:n*r.Width()]...)
			labels = append(labels, lab[:n]...)
		}
		if _, err := r.Read(dst, nil); err != io.EOF {
			t.Fatalf("%s: Read after EOF: %v", p, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if !equalFloats(data, whole.Data) || !slices.Equal(labels, whole.Labels) {
			t.Fatalf("%s: streamed data differs from Load at %d", p, firstDiff(data, whole.Data))
		}
		if !equalFloats(whole.Data, expected(cols, spec.Features, rows)) {
			t.Fatalf("%s: data wrong", p)
		}
	}
}

func TestWriteArrowIPC(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "src.parquet", mixedColumns(), 1000, 300)
	for _, limit := range []int{0, 1} {
		tab, err := Load(Spec{Path: src, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "shared.arrow")
		if err := WriteArrowIPC(tab, out); err != nil {
			t.Fatal(err)
		}
		// No settings needed: the only tensor column is found by itself.
		back, err := Load(Spec{Path: out})
		if err != nil {
			t.Fatal(err)
		}
		if !equalFloats(back.Data, tab.Data) || !slices.Equal(back.Labels, tab.Labels) ||
			!slices.Equal(back.FeatureNames, tab.FeatureNames) || back.Width != tab.Width {
			t.Fatalf("round trip differs: names %v vs %v", back.FeatureNames, tab.FeatureNames)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, ".shared.arrow.tmp-*")); len(m) != 0 {
			t.Fatalf("temporary files left: %v", m)
		}
	}
	// Without labels.
	tab := &Table{Width: 2, Rows: 2, Data: []float32{1, 2, 3, 4}}
	out := filepath.Join(dir, "nolabel.arrow")
	if err := WriteArrowIPC(tab, out); err != nil {
		t.Fatal(err)
	}
	back, err := Load(Spec{Path: out, TensorColumn: "features"})
	if err != nil {
		t.Fatal(err)
	}
	if back.Labels != nil || !slices.Equal(back.Data, tab.Data) {
		t.Fatalf("got %+v", back)
	}
	if !slices.Equal(back.FeatureNames, []string{"features[0]", "features[1]"}) {
		t.Fatalf("names = %v", back.FeatureNames)
	}
	// A bad table is refused and leaves nothing behind.
	if err := WriteArrowIPC(&Table{Width: 2, Rows: 3, Data: []float32{1}}, filepath.Join(dir, "bad.arrow")); err == nil {
		t.Fatal("bad table accepted")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*bad*")); len(m) != 0 {
		t.Fatalf("files left: %v", m)
	}
}

func TestNaNAndNull(t *testing.T) {
	dir := t.TempDir()
	cols := []column{
		{name: "ok", typ: arrow.PrimitiveTypes.Float64, val: func(i int) float64 { return 1 }},
		{name: "mean radius", typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 {
			if i == 17 {
				return math.NaN()
			}
			return float64(i)
		}},
		{name: "n", typ: arrow.PrimitiveTypes.Int32, val: func(i int) float64 { return float64(i) },
			null: func(i int) bool { return i == 21 }},
		{name: "t", typ: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float32), val: func(i int) float64 {
			if i == 33 {
				return math.NaN()
			}
			return float64(i)
		}},
	}
	for _, f := range formats {
		p := writeFile(t, dir, f, cols, 40, 16)
		tests := []struct {
			spec Spec
			want string
		}{
			{Spec{Features: []string{"mean radius"}}, `feature "mean radius" row 17 is NaN (set allow_nan to accept`},
			{Spec{Features: []string{"ok", "n"}}, `feature "n" row 21 is null`},
			{Spec{TensorColumn: "t"}, `feature "t[0]" row 33 is NaN`},
		}
		for _, tt := range tests {
			tt.spec.Path = p
			_, err := Load(tt.spec)
			if err == nil || !strings.Contains(err.Error(), p+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s %v: err = %v, want %q", p, tt.spec.Features, err, tt.want)
			}
			tt.spec.AllowNaN = true
			tab, err := Load(tt.spec)
			if err != nil {
				t.Fatalf("%s with AllowNaN: %v", p, err)
			}
			nans := 0
			for _, v := range tab.Data {
				if v != v {
					nans++
				}
			}
			if nans == 0 {
				t.Errorf("%s %v: AllowNaN gave no NaN", p, tt.spec.Features)
			}
		}
	}
}

func TestReadArguments(t *testing.T) {
	p := writeFile(t, t.TempDir(), "t.parquet", mixedColumns(), 10, 10)
	r, err := Open(Spec{Path: p, Features: []string{"a_i32", "b_i64"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]float32, 3), nil); err == nil || !strings.Contains(err.Error(), "not a multiple of the width 2") {
		t.Errorf("odd dst: %v", err)
	}
	if _, err := r.Read(make([]float32, 4), make([]int64, 1)); err == nil || !strings.Contains(err.Error(), "len(labels)=1") {
		t.Errorf("short labels: %v", err)
	}
	if n, err := r.Read(nil, nil); n != 0 || err != nil {
		t.Errorf("empty dst: %d, %v", n, err)
	}
	// Labels given but the file has a label column: filled.
	lab := make([]int64, 5)
	if n, err := r.Read(make([]float32, 10), lab); n != 5 || err != nil || lab[4] != 1 {
		t.Errorf("Read = %d, %v, labels %v", n, err, lab)
	}
	r.Close()
	if _, err := r.Read(make([]float32, 2), nil); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("read after close: %v", err)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	err := errorf("x.parquet", "a %s", "b")
	if err.Error() != "x.parquet: a b" {
		t.Fatal(err)
	}
	if got := list([]string{"a", "b"}); got != "a, b" {
		t.Fatal(got)
	}
	long := make([]string, 20)
	for i := range long {
		long[i] = string(rune('a' + i))
	}
	if got := list(long); got != "a, b, c, d, e, f, g, h, ... 11 more ..., t" {
		t.Fatal(got)
	}
}

// TestReadDoesNotAllocate checks that reading rows within a record batch
// allocates nothing, whatever the number of rows.
func TestReadDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	cols := mixedColumns()
	for _, f := range []string{"t.arrow", "t.parquet"} {
		p := writeFile(t, t.TempDir(), f, cols, 10_000, 10_000)
		for _, spec := range []Spec{{Path: p}, {Path: p, TensorColumn: "tensor"}} {
			r, err := Open(spec)
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]float32, 16*r.Width())
			lab := make([]int64, 16)
			if _, err := r.Read(dst, lab); err != nil { // loads the batch
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := r.Read(dst, lab); err != nil {
					t.Fatal(err)
				}
			})
			r.Close()
			if allocs != 0 {
				t.Errorf("%s %q: %v allocations per Read of 16 rows", f, spec.TensorColumn, allocs)
			}
		}
	}
}
