package datasets

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// column describes one test column: its type and the value of row i
// (math.NaN() stands for null when the column is nullable).
type column struct {
	name string
	typ  arrow.DataType
	val  func(i int) float64
	null func(i int) bool // nil: no nulls
}

// mixedColumns is the table most tests read: every supported numeric type,
// a string column, a tensor column and a label.
func mixedColumns() []column {
	return []column{
		{name: "a_i32", typ: arrow.PrimitiveTypes.Int32, val: func(i int) float64 { return float64(i - 5) }},
		{name: "b_i64", typ: arrow.PrimitiveTypes.Int64, val: func(i int) float64 { return float64(i * 1000) }},
		{name: "name", typ: arrow.BinaryTypes.String, val: func(i int) float64 { return 0 }},
		{name: "c_f64", typ: arrow.PrimitiveTypes.Float64, val: func(i int) float64 { return float64(i) / 4 }},
		{name: "label", typ: arrow.PrimitiveTypes.Int64, val: func(i int) float64 { return float64(i % 3) }},
		{name: "d_f32", typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 { return float64(i) * 0.5 }},
		{name: "e_u8", typ: arrow.PrimitiveTypes.Uint8, val: func(i int) float64 { return float64(i % 256) }},
		{name: "tensor", typ: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float32), val: func(i int) float64 { return float64(i) }},
		{name: "g_f16", typ: arrow.FixedWidthTypes.Float16, val: func(i int) float64 { return float64(i%64) / 8 }},
		{name: "h_i8", typ: arrow.PrimitiveTypes.Int8, val: func(i int) float64 { return float64(int8(i)) }},
		{name: "k_u64", typ: arrow.PrimitiveTypes.Uint64, val: func(i int) float64 { return float64(i * 7) }},
	}
}

// tensorValue is element j of the tensor column in row i.
func tensorValue(i, j int) float32 { return float32(i) + float32(j)/10 }

// makeRecord builds rows [start, start+n) of cols.
func makeRecord(t testing.TB, cols []column, start, n int) arrow.RecordBatch {
	t.Helper()
	mem := memory.DefaultAllocator
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for c, col := range cols {
		fields[c] = arrow.Field{Name: col.name, Type: col.typ, Nullable: col.null != nil}
		b := array.NewBuilder(mem, col.typ)
		for i := start; i < start+n; i++ {
			if col.null != nil && col.null(i) {
				b.AppendNull()
				continue
			}
			v := col.val(i)
			switch b := b.(type) {
			case *array.Int8Builder:
				b.Append(int8(v))
			case *array.Int16Builder:
				b.Append(int16(v))
			case *array.Int32Builder:
				b.Append(int32(v))
			case *array.Int64Builder:
				b.Append(int64(v))
			case *array.Uint8Builder:
				b.Append(uint8(v))
			case *array.Uint16Builder:
				b.Append(uint16(v))
			case *array.Uint32Builder:
				b.Append(uint32(v))
			case *array.Uint64Builder:
				b.Append(uint64(v))
			case *array.Float16Builder:
				b.Append(float16.New(float32(v)))
			case *array.Float32Builder:
				b.Append(float32(v))
			case *array.Float64Builder:
				b.Append(v)
			case *array.StringBuilder:
				b.Append("row")
			case *array.Float32DictionaryBuilder:
				if err := b.Append(float32(v)); err != nil {
					t.Fatal(err)
				}
			case *array.Float64DictionaryBuilder:
				if err := b.Append(v); err != nil {
					t.Fatal(err)
				}
			case *array.Int64DictionaryBuilder:
				if err := b.Append(int64(v)); err != nil {
					t.Fatal(err)
				}
			case *array.BinaryDictionaryBuilder:
				if err := b.AppendString("row"); err != nil {
					t.Fatal(err)
				}
			case *array.FixedSizeListBuilder:
				b.Append(true)
				vb := b.ValueBuilder().(*array.Float32Builder)
				w := int(col.typ.(*arrow.FixedSizeListType).Len())
				for j := range w {
					if math.IsNaN(v) {
						vb.Append(float32(math.NaN()))
					} else {
						vb.Append(tensorValue(i, j))
					}
				}
			case *array.ListBuilder:
				b.Append(true)
				b.ValueBuilder().(*array.Float32Builder).Append(float32(v))
			default:
				t.Fatalf("makeRecord: no builder case for %T", b)
			}
		}
		arrs[c] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// writeFile writes rows [0, rows) of cols to dir/name in the format its
// extension says, in batches (row groups for Parquet) of batch rows.
func writeFile(t testing.TB, dir, name string, cols []column, rows, batch int) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schema := makeRecord(t, cols, 0, 0).Schema()
	each := func(write func(arrow.RecordBatch) error) {
		for start := 0; start < rows; start += batch {
			rec := makeRecord(t, cols, start, min(batch, rows-start))
			if err := write(rec); err != nil {
				t.Fatalf("write %s: %v", name, err)
			}
			rec.Release()
		}
	}
	switch filepath.Ext(name) {
	case ".parquet":
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
		w, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			t.Fatal(err)
		}
		each(w.Write)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".arrow", ".feather", ".ipc":
		w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		each(w.Write)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".arrows":
		w := ipc.NewWriter(f, ipc.WithSchema(schema))
		each(w.Write)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// expected computes what Load should return for the named scalar columns.
func expected(cols []column, names []string, rows int) []float32 {
	byName := map[string]column{}
	for _, c := range cols {
		byName[c.name] = c
	}
	out := make([]float32, 0, rows*len(names))
	for i := range rows {
		for _, n := range names {
			c := byName[n]
			if c.null != nil && c.null(i) {
				out = append(out, float32(math.NaN()))
				continue
			}
			v := c.val(i)
			switch c.typ.ID() {
			case arrow.FLOAT16:
				v = float64(float16.New(float32(v)).Float32())
			case arrow.FLOAT32:
				v = float64(float32(v))
			}
			out = append(out, float32(v))
		}
	}
	return out
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

func firstDiff(a, b []float32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return i
		}
	}
	return min(len(a), len(b))
}
