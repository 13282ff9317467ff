package serve

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/ortbench/ortbench/runner/results"
)

// RecordBytes is what load.records costs per request while a load's
// records are held and written: its start and end (16 bytes) and the
// Parquet columns built from them (7 × 8, a stage's 4 and a size's 4).
// Only one load's are held at a time.
const RecordBytes = 80

// recordsSchema is records-<cell>.parquet's: one row per served request.
var recordsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "cell", Type: arrow.BinaryTypes.String},
	{Name: "request", Type: arrow.PrimitiveTypes.Int64},
	{Name: "scheduled_seconds", Type: arrow.PrimitiveTypes.Float64},
	{Name: "start_seconds", Type: arrow.PrimitiveTypes.Float64},
	{Name: "end_seconds", Type: arrow.PrimitiveTypes.Float64},
	{Name: "queue_seconds", Type: arrow.PrimitiveTypes.Float64},
	{Name: "service_seconds", Type: arrow.PrimitiveTypes.Float64},
	// stage: a staged load's stage of the request, from 1 (NULL: the load
	// was not staged).
	{Name: "stage", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	// rows: the request's size, its trace's rows or load.request_rows.
	{Name: "rows", Type: arrow.PrimitiveTypes.Int32},
}, nil)

// recordCols are the records' columns that runner/serve's Outcome does
// not hold: each request's stage (from 0; nil: not staged) and size
// (Sized[i]; nil: Each rows every request).
type recordCols struct {
	Stage []int32
	Sized []int32
	Each  int32
}

// writeRecords writes o's served requests, one row each (times from the
// load's start), with their stage and size (cols), as
// records-<cell>.parquet in dir, atomically, and returns its name (""
// when there is nothing to write).
func writeRecords(dir, cell string, o *Outcome, cols recordCols) (string, error) {
	if dir == "" || o == nil || o.Ends == nil {
		return "", nil
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, recordsSchema)
	defer b.Release()
	name := b.Field(0).(*array.StringBuilder)
	req := b.Field(1).(*array.Int64Builder)
	f := make([]*array.Float64Builder, 5)
	for j := range f {
		f[j] = b.Field(j + 2).(*array.Float64Builder)
	}
	stg := b.Field(7).(*array.Int32Builder)
	size := b.Field(8).(*array.Int32Builder)
	for i, end := range o.Ends {
		if end < 0 {
			continue // dropped, abandoned or never sent
		}
		at, st := o.Schedule[i], o.Starts[i]
		name.Append(cell)
		req.Append(int64(i))
		for j, v := range []float64{at.Seconds(), st.Seconds(), end.Seconds(), (st - at).Seconds(), (end - st).Seconds()} {
			f[j].Append(v)
		}
		if cols.Stage == nil {
			stg.AppendNull()
		} else {
			stg.Append(cols.Stage[i] + 1)
		}
		if cols.Sized == nil {
			size.Append(cols.Each)
		} else {
			size.Append(cols.Sized[i])
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(recordsSchema, &buf, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy)),
		pqarrow.DefaultWriterProps())
	if err != nil {
		return "", err
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return "", err
	}
	if err := fw.Close(); err != nil {
		return "", err
	}
	file := "records-" + strings.NewReplacer("/", "_", "=", "-").Replace(cell) + ".parquet"
	return file, results.WriteFileAtomic(filepath.Join(dir, file), buf.Bytes())
}
