package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// FlatColumn is one column of a flat file: its name (ending in its unit)
// and Arrow type.
type FlatColumn struct {
	Name string
	Type arrow.DataType
}

// The Arrow types of a FlatColumn, one for each Go type a FlatTable's
// Value returns (float64, int64, string, bool, time.Time).
var (
	FlatFloat  = arrow.PrimitiveTypes.Float64
	FlatInt    = arrow.PrimitiveTypes.Int64
	FlatString = arrow.BinaryTypes.String
	FlatBool   = arrow.FixedWidthTypes.Boolean
	FlatTime   = arrow.FixedWidthTypes.Timestamp_us
)

// NullIfZero is NULL for a zero value (a figure the row has no reading of,
// a word it does not have), else v, for a FlatTable's Value.
func NullIfZero[T int64 | float64 | string](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// FlatTable is what the flat formats (CSV, Parquet) are written from, so
// the two cannot drift apart: run's results.csv/.parquet (one row per
// cell) and tune's tune-points.csv/.parquet (one row per point) are each
// one table. Value is row's value in column col: float64, int64, bool,
// string, time.Time, or nil for NULL (a figure that does not apply).
type FlatTable struct {
	Columns []FlatColumn
	Rows    int
	Value   func(row, col int) any
	// Metadata rides along in the Parquet file's schema (ortbench.schema).
	Metadata map[string]string
}

// Schema is the table's Arrow schema, every column nullable.
func (t FlatTable) Schema() *arrow.Schema {
	fields := make([]arrow.Field, len(t.Columns))
	for i, col := range t.Columns {
		fields[i] = arrow.Field{Name: col.Name, Type: col.Type, Nullable: true}
	}
	keys := slices.Sorted(maps.Keys(t.Metadata))
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = t.Metadata[k]
	}
	md := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(fields, &md)
}

// Header is the column names, the CSV's first line.
func (t FlatTable) Header() []string {
	names := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		names[i] = col.Name
	}
	return names
}

// Record is row as CSV fields; NULL is an empty field.
func (t FlatTable) Record(row int) []string {
	rec := make([]string, len(t.Columns))
	for i := range t.Columns {
		switch v := t.Value(row, i).(type) {
		case float64:
			rec[i] = strconv.FormatFloat(v, 'g', 8, 64)
		case int64:
			rec[i] = strconv.FormatInt(v, 10)
		case bool:
			rec[i] = strconv.FormatBool(v)
		case string:
			rec[i] = v
		case time.Time:
			rec[i] = v.UTC().Format(time.RFC3339Nano)
		}
	}
	return rec
}

// WriteCSV writes the header and one line per row.
func (t FlatTable) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header()); err != nil {
		return err
	}
	for i := range t.Rows {
		if err := cw.Write(t.Record(i)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteParquet writes the rows typed, Snappy-compressed, in one row group.
func (t FlatTable) WriteParquet(w io.Writer) error {
	schema := t.Schema()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range t.Rows {
		for j, col := range t.Columns {
			switch v := t.Value(i, j).(type) {
			case nil:
				b.Field(j).AppendNull()
			case time.Time:
				b.Field(j).(*array.TimestampBuilder).Append(arrow.Timestamp(v.UnixMicro()))
			case float64:
				b.Field(j).(*array.Float64Builder).Append(v)
			case int64:
				b.Field(j).(*array.Int64Builder).Append(v)
			case bool:
				b.Field(j).(*array.BooleanBuilder).Append(v)
			case string:
				b.Field(j).(*array.StringBuilder).Append(v)
			default:
				return fmt.Errorf("parquet column %s: unsupported %T", col.Name, v)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	fw, err := pqarrow.NewFileWriter(schema, nopCloser{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return err
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return err
	}
	return fw.Close()
}

// nopCloser keeps FileWriter.Close from closing the caller's writer.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
