package results

import (
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ParquetSchema is the Arrow schema of results.parquet: the flat columns, typed. The experiment's schema version rides along as metadata.
func ParquetSchema(run *Run) *arrow.Schema {
	cols := flatColumns(run)
	fields := make([]arrow.Field, len(cols))
	for i, col := range cols {
		fields[i] = arrow.Field{Name: col.name, Type: col.typ, Nullable: true}
	}
	md := arrow.NewMetadata([]string{"ortbench.schema"}, []string{Schema})
	return arrow.NewSchema(fields, &md)
}

// EncodeParquet writes one row per cell with the flat columns
// (float64, int64, bool, string), Snappy-compressed, in one row group.
func EncodeParquet(run *Run, w io.Writer) error {
	schema := ParquetSchema(run)
	cols := flatColumns(run)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range run.Cells {
		c := &run.Cells[i]
		for j, col := range cols {
			switch v := col.value(run, c).(type) {
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
				return fmt.Errorf("parquet column %s: unsupported %T", col.name, v)
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
