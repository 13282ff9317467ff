package load

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

func writeTrace(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trace.csv")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTraceReplays: at the trace's own rate the schedule is its offsets
// from the first, exactly; at another rate the same shape rescaled; and
// the trace repeats, one mean gap after its end, to meet the minimums.
func TestTraceReplays(t *testing.T) {
	tr, err := ReadTrace(writeTrace(t, "offset_s\n0.5\n0.5\n0.6\n1.5\n"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{time.Second, time.Second, 1200 * time.Millisecond, 3 * time.Second}; !slices.Equal(tr.Offsets, want) {
		t.Fatalf("offsets ×2: %v", tr.Offsets)
	}
	if r := tr.Rate(); r != 1.5 {
		t.Fatalf("rate %g, want 3 arrivals in 2 s", r)
	}
	for _, tc := range []struct {
		rate float64
		want []time.Duration
	}{
		{1.5, []time.Duration{0, 0, 200 * time.Millisecond, 2 * time.Second, 2*time.Second + 2*time.Second/3}},
		{3, []time.Duration{0, 0, 100 * time.Millisecond, time.Second, time.Second + time.Second/3}},
	} {
		p, err := Default().Pacer("trace", Spec{Rate: tc.rate, Trace: &tr})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Schedule(p, 0, 5)
		if err != nil || !slices.Equal(s, tc.want) {
			t.Errorf("at %g/s: %v, %v; want %v", tc.rate, s, err, tc.want)
		}
	}
}

func TestTraceRefuses(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "offset_s\n\n", "no arrivals"},
		{"unsorted", "0\n0.2\n0.1\n", ":3: offset 0.1s is before the one above's"},
		{"negative", "-0.5\n", ":1: offset -0.5s is negative"},
		{"not a number", "0\nsoon\n", `:2: "soon" is not an offset`},
		{"not finite", "0\nNaN\n", `:2: "NaN" is not an offset`},
		{"three columns", "0,4,1\n", ":1: 3 columns"},
		{"size zero", "0,0\n", ":1: size 0: a request carries at least 1 row"},
		{"size negative", "0,2\n0.1,-2\n", ":2: size -2: a request carries at least 1 row"},
		{"size not a number", "offset,rows\n0,four\n", `:2: size "four" is not a whole number of rows`},
		{"size fraction", "0,1.5\n", `:1: size "1.5" is not a whole number`},
		{"sizes on some", "0,4\n0.1\n", ":2: sizes on some arrivals only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(writeTrace(t, tc.text), 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tc.want)
			}
		})
	}
	if _, err := ReadTrace(filepath.Join(t.TempDir(), "none.csv"), 1); err == nil || !strings.Contains(err.Error(), "none.csv: no such file") {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadTrace(writeTrace(t, "0\n"), 0); err == nil || !strings.Contains(err.Error(), "time_scale must be > 0") {
		t.Errorf("time_scale 0: %v", err)
	}
	if _, err := Default().Pacer("trace", Spec{Rate: 1}); err == nil || !strings.Contains(err.Error(), "no trace") {
		t.Errorf("no trace: %v", err)
	}
}

// TestTraceSizes: a CSV's second column is each request's rows, kept in
// order; a Parquet trace gives the same with offset_seconds and rows.
func TestTraceSizes(t *testing.T) {
	tr, err := ReadTrace(writeTrace(t, "offset_seconds,rows\n0,1\n0.5,8\n1,3\n"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.Rows, []int32{1, 8, 3}) || tr.MaxRows() != 8 || len(tr.Offsets) != 3 {
		t.Fatalf("sizes %v (max %d), %d offsets", tr.Rows, tr.MaxRows(), len(tr.Offsets))
	}
	pq := writeParquetTrace(t, []float64{0, 0.5, 1}, []int64{1, 8, 3})
	fromPQ, err := ReadTrace(pq, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fromPQ.Rows, tr.Rows) || !slices.Equal(fromPQ.Offsets, []time.Duration{0, time.Second, 2 * time.Second}) {
		t.Errorf("parquet: %v %v", fromPQ.Offsets, fromPQ.Rows)
	}
	if unsized, err := ReadTrace(writeParquetTrace(t, []float64{0, 0.25}, nil), 1); err != nil || unsized.Rows != nil || len(unsized.Offsets) != 2 {
		t.Errorf("parquet without rows: %+v, %v", unsized, err)
	}
}

func TestParquetTraceRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offsets []float64
		rows    []int64
		want    string
	}{
		{"unsorted", []float64{0, 1, 0.5}, nil, "row 3: offset 0.5s is before the one above's"},
		{"negative", []float64{-1}, nil, "row 1: offset -1s is negative"},
		{"size zero", []float64{0, 1}, []int64{1, 0}, "row 2: size 0: a request carries at least 1 row"},
		{"empty", []float64{}, nil, "no arrivals"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(writeParquetTrace(t, tc.offsets, tc.rows), 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tc.want)
			}
		})
	}
	// No offset_seconds column; a column that is not a number.
	other := writeParquet(t, arrow.NewSchema([]arrow.Field{{Name: "t", Type: arrow.PrimitiveTypes.Float64}}, nil), func(b *array.RecordBuilder) {
		b.Field(0).(*array.Float64Builder).Append(0)
	})
	if _, err := ReadTrace(other, 1); err == nil || !strings.Contains(err.Error(), "no column offset_seconds") {
		t.Errorf("no offset column: %v", err)
	}
	words := writeParquet(t, arrow.NewSchema([]arrow.Field{{Name: "offset_seconds", Type: arrow.BinaryTypes.String}}, nil), func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).Append("soon")
	})
	if _, err := ReadTrace(words, 1); err == nil || !strings.Contains(err.Error(), "column offset_seconds is utf8, not a number") {
		t.Errorf("string column: %v", err)
	}
}

func writeParquetTrace(t *testing.T, offsets []float64, rows []int64) string {
	t.Helper()
	fields := []arrow.Field{{Name: "offset_seconds", Type: arrow.PrimitiveTypes.Float64}}
	if rows != nil {
		fields = append(fields, arrow.Field{Name: "rows", Type: arrow.PrimitiveTypes.Int64})
	}
	return writeParquet(t, arrow.NewSchema(fields, nil), func(b *array.RecordBuilder) {
		b.Field(0).(*array.Float64Builder).AppendValues(offsets, nil)
		if rows != nil {
			b.Field(1).(*array.Int64Builder).AppendValues(rows, nil)
		}
	})
}

func writeParquet(t *testing.T, schema *arrow.Schema, fill func(*array.RecordBuilder)) string {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	fill(b)
	rec := b.NewRecordBatch()
	defer rec.Release()
	p := filepath.Join(t.TempDir(), "trace.parquet")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
