package datasets

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func dictOf(index, value arrow.DataType) arrow.DataType {
	return &arrow.DictionaryType{IndexType: index, ValueType: value}
}

// TestDictionaryColumns reads dictionary-encoded feature and label columns
// from every format: Parquet, IPC file (arrow-go's mapped reader panics on
// them) and IPC stream (where they used to be dropped silently).
func TestDictionaryColumns(t *testing.T) {
	const rows = 50
	cols := []column{
		{name: "x", typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 { return float64(i) }},
		{name: "c", typ: dictOf(arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Float32), val: func(i int) float64 { return float64(i%4) / 2 }},
		{name: "d", typ: dictOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float64), val: func(i int) float64 { return float64(i%3) * 10 }},
		{name: "s", typ: dictOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String), val: func(int) float64 { return 0 }},
		{name: "label", typ: dictOf(arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int64), val: func(i int) float64 { return float64(i % 5) }},
	}
	dir := t.TempDir()
	for _, f := range formats {
		batch := 16 // several dictionaries (replacements) in a stream or Parquet
		if strings.HasSuffix(f, ".arrow") || strings.HasSuffix(f, ".feather") || strings.HasSuffix(f, ".ipc") {
			batch = rows // the IPC file format allows one dictionary per field
		}
		p := writeFile(t, dir, f, cols, rows, batch)
		tab, err := Load(Spec{Path: p})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := []string{"x", "c", "d"}; !slices.Equal(tab.FeatureNames, want) {
			t.Fatalf("%s: features %v, want %v", f, tab.FeatureNames, want)
		}
		if want := expected(cols, tab.FeatureNames, rows); !equalFloats(tab.Data, want) {
			i := firstDiff(tab.Data, want)
			t.Fatalf("%s: value %d = %v, want %v", f, i, tab.Data[i], want[i])
		}
		for i, l := range tab.Labels {
			if l != int64(i%5) {
				t.Fatalf("%s: label %d = %d", f, i, l)
			}
		}
		if len(tab.Notes) != 1 || !strings.Contains(tab.Notes[0], `column "s" skipped: dictionary<string>`) {
			t.Errorf("%s: notes %q, want the string dictionary named", f, tab.Notes)
		}
		if _, err := Load(Spec{Path: p, Features: []string{"s"}}); err == nil || !strings.Contains(err.Error(), `column "s" is dictionary<string>`) {
			t.Errorf("%s: selecting a string dictionary: %v", f, err)
		}
	}
}

func TestDictionaryNaNAndNull(t *testing.T) {
	cols := []column{
		{name: "c", typ: dictOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float32),
			val: func(i int) float64 {
				if i == 7 {
					return math.NaN()
				}
				return float64(i % 2)
			},
			null: func(i int) bool { return i == 9 }},
	}
	dir := t.TempDir()
	for _, f := range formats {
		p := writeFile(t, dir, f, cols, 12, 12)
		_, err := Load(Spec{Path: p})
		if err == nil || !strings.Contains(err.Error(), `feature "c" row 7 is NaN`) {
			t.Errorf("%s: %v, want NaN at row 7", f, err)
		}
		tab, err := Load(Spec{Path: p, AllowNaN: true})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !math.IsNaN(float64(tab.Data[7])) || !math.IsNaN(float64(tab.Data[9])) || tab.Data[8] != 0 || tab.Data[3] != 1 {
			t.Errorf("%s: got %v", f, tab.Data)
		}
	}
}

// TestModelFeatures: with the model's feature names, a file whose columns
// are in another order gives the same rows.
func TestModelFeatures(t *testing.T) {
	const rows = 20
	mk := func(name string, k float64) column {
		return column{name: name, typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 { return float64(i) + k }}
	}
	label := column{name: "label", typ: arrow.PrimitiveTypes.Int64, val: func(i int) float64 { return float64(i % 2) }}
	in := []column{mk("f_a", 0.1), mk("f_b", 0.2), mk("f_c", 0.3), label}
	reordered := []column{label, mk("f_c", 0.3), mk("extra", 9), mk("f_a", 0.1), mk("f_b", 0.2)}
	model := []string{"f_a", "f_b", "f_c"}
	dir := t.TempDir()
	for _, f := range formats {
		a := writeFile(t, dir, "in"+f, in, rows, 8)
		b := writeFile(t, dir, "re"+f, reordered, rows, 8)
		want, err := Load(Spec{Path: a, ModelFeatures: model})
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range []Spec{
			{Path: b, ModelFeatures: model, ModelWidth: 3},
			{Path: b, ModelFeatures: model, Features: []string{"f_*"}},
			{Path: b, ModelFeatures: model, Features: []string{"f_a", "f_b", "f_c"}},
		} {
			got, err := Load(spec)
			if err != nil {
				t.Fatalf("%s %v: %v", f, spec.Features, err)
			}
			if !slices.Equal(got.FeatureNames, model) || !equalFloats(got.Data, want.Data) {
				t.Fatalf("%s %v: names %v, data differs at %d", f, spec.Features, got.FeatureNames, firstDiff(got.Data, want.Data))
			}
			if spec.Features == nil && (got.FeatureOrder != OrderModel || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], `"extra" skipped: not one of the model's features`)) {
				t.Errorf("%s: order %q notes %q", f, got.FeatureOrder, got.Notes)
			}
		}
		// Without the model's names a glob follows the file, and says so.
		got, err := Load(Spec{Path: b, Features: []string{"f_*"}})
		if err != nil || got.FeatureOrder != OrderFile || !slices.Equal(got.FeatureNames, []string{"f_c", "f_a", "f_b"}) {
			t.Errorf("%s: no model names: %v %q %v", f, got.FeatureNames, got.FeatureOrder, err)
		}
		for _, c := range []struct {
			spec Spec
			want string
		}{
			{Spec{Path: b, ModelFeatures: []string{"f_a", "f_z", "f_b"}}, `the file lacks 1 of them: f_z`},
			{Spec{Path: b, ModelFeatures: model, Features: []string{"f_b", "f_a", "f_c"}}, `another order (position 0 is "f_b", the model has "f_a")`},
			{Spec{Path: b, ModelFeatures: model, Features: []string{"*"}}, `column "extra" (matched by "*") is not one of`},
			{Spec{Path: b, ModelWidth: 4}, `gives 4 features but the model takes 4`},
			{Spec{Path: b, ModelWidth: 3}, `gives 4 features but the model takes 3 (features in file order): taken: f_c, extra, f_a, f_b; skipped: none`},
			{Spec{Path: b, Label: "f_a", ModelFeatures: model}, `label column "f_a" is one of the model's features`},
			{Spec{Path: b, Label: "nope"}, `label column "nope" not found`},
		} {
			_, err := Load(c.spec)
			if c.want == `gives 4 features but the model takes 4` {
				if err != nil {
					t.Errorf("%s: width 4: %v", f, err)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.spec.Path+": ") {
				t.Errorf("%s %+v: error %v, want %q", f, c.spec, err, c.want)
			}
		}
	}
}

// TestSkippedColumns: columns left out of a default selection are named.
func TestSkippedColumns(t *testing.T) {
	cols := []column{
		{name: "a", typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 { return float64(i) }},
		{name: "s", typ: arrow.BinaryTypes.String, val: func(int) float64 { return 0 }},
		{name: "label", typ: arrow.PrimitiveTypes.Int64, val: func(i int) float64 { return 1 }},
		{name: "y", typ: arrow.PrimitiveTypes.Int64, val: func(i int) float64 { return 0 }},
		{name: "__index_level_0__", typ: arrow.PrimitiveTypes.Int64, val: func(i int) float64 { return float64(i) }},
	}
	dir := t.TempDir()
	for _, f := range formats {
		p := writeFile(t, dir, f, cols, 5, 5)
		tab, err := Load(Spec{Path: p, Label: "y"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tab.FeatureNames, []string{"a"}) {
			t.Errorf("%s: features %v, want [a]: label and index columns are never features by default", f, tab.FeatureNames)
		}
		joined := strings.Join(tab.Notes, "\n")
		for _, want := range []string{`"s" skipped: string, not a number`, `"label" skipped: a label column (the label is "y")`, `"__index_level_0__" skipped: a pandas index column`} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: notes %q lack %q", f, tab.Notes, want)
			}
		}
		_, err = Load(Spec{Path: p, Label: "y", ModelWidth: 3})
		if err == nil || !strings.Contains(err.Error(), "taken: a; skipped:") || !strings.Contains(err.Error(), "pandas index") {
			t.Errorf("%s: width error %v", f, err)
		}
	}
}
