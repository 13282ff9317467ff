package results

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// column is one flat Parquet column: its name (CSVHeader's word), Arrow type
// and how to read it from a cell. value returns float64, int64, bool or string.
type column struct {
	name  string
	typ   arrow.DataType
	value func(r *Run, c *Cell) any
}

var (
	f64 = arrow.PrimitiveTypes.Float64
	i64 = arrow.PrimitiveTypes.Int64
	str = arrow.BinaryTypes.String
	bln = arrow.FixedWidthTypes.Boolean
)

// parquetColumns mirrors CSVHeader column for column, with proper types
// (TestParquetColumnsMatchCSV keeps the two in step).
var parquetColumns = []column{
	{"experiment", str, func(r *Run, c *Cell) any { return r.Experiment.Name }},
	{"cell", str, func(r *Run, c *Cell) any { return c.Name }},
	{"strategy", str, func(r *Run, c *Cell) any { return c.Strategy }},
	{"status", str, func(r *Run, c *Cell) any { return c.Status }},
	{"workers", i64, func(r *Run, c *Cell) any { return int64(c.Params.Workers) }},
	{"intra_op_threads", i64, func(r *Run, c *Cell) any { return int64(c.Params.IntraOpThreads) }},
	{"inter_op_threads", i64, func(r *Run, c *Cell) any { return int64(c.Params.InterOpThreads) }},
	{"batch_size", i64, func(r *Run, c *Cell) any { return int64(c.Params.BatchSize) }},
	{"spinning", bln, func(r *Run, c *Cell) any { return c.Params.Spinning }},
	{"transport", str, func(r *Run, c *Cell) any { return c.Params.Transport }},
	{"start", str, func(r *Run, c *Cell) any { return c.Params.Start }},
	{"workload", str, func(r *Run, c *Cell) any { return c.Workload.Kind }},
	{"model", str, func(r *Run, c *Cell) any { return c.Workload.Model }},
	{"dataset", str, func(r *Run, c *Cell) any { return c.Workload.Dataset }},
	{"rows", i64, func(r *Run, c *Cell) any { return int64(c.Workload.Rows) }},
	{"startup_seconds", f64, func(r *Run, c *Cell) any { return c.StartupSeconds }},
	{"wall_seconds", f64, func(r *Run, c *Cell) any { return c.WallSeconds }},
	{"rows_per_second", f64, func(r *Run, c *Cell) any { return c.RowsPerSecond }},
	{"rows_per_second_lo", f64, func(r *Run, c *Cell) any { return c.Throughput.Lo }},
	{"rows_per_second_hi", f64, func(r *Run, c *Cell) any { return c.Throughput.Hi }},
	{"speedup", f64, func(r *Run, c *Cell) any { return c.Speedup }},
	{"efficiency", f64, func(r *Run, c *Cell) any { return c.Efficiency }},
	{"unstable", bln, func(r *Run, c *Cell) any { return c.Unstable }},
	{"latency_p50", f64, func(r *Run, c *Cell) any { return c.Latency.P50 }},
	{"latency_p90", f64, func(r *Run, c *Cell) any { return c.Latency.P90 }},
	{"latency_p99", f64, func(r *Run, c *Cell) any { return c.Latency.P99 }},
	{"latency_p999", f64, func(r *Run, c *Cell) any { return c.Latency.P999 }},
	{"latency_max", f64, func(r *Run, c *Cell) any { return c.Latency.Max }},
	{"cpu_user_seconds", f64, func(r *Run, c *Cell) any { return c.CPU.UserSeconds }},
	{"cpu_system_seconds", f64, func(r *Run, c *Cell) any { return c.CPU.SystemSeconds }},
	{"cpu_utilization", f64, func(r *Run, c *Cell) any { return c.CPU.Utilization }},
	{"peak_rss_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.PeakRSSBytes) }},
	{"rss_sum_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.RSSSumBytes) }},
	{"pss_sum_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.PSSSumBytes) }},
	{"uss_sum_bytes", i64, func(r *Run, c *Cell) any { return int64(c.Memory.USSSumBytes) }},
	{"verified", bln, func(r *Run, c *Cell) any { return c.Verification.Passed }},
	{"mismatches", i64, func(r *Run, c *Cell) any { return int64(c.Verification.Mismatches) }},
	{"max_abs_diff", f64, func(r *Run, c *Cell) any { return c.Verification.MaxAbsDiff }},
	{"repetitions", i64, func(r *Run, c *Cell) any { return int64(len(c.Repetitions)) }},
	{"error", str, func(r *Run, c *Cell) any { return c.Error }},
}

// ParquetSchema is the Arrow schema of results.parquet: CSVHeader's columns,
// typed. The experiment's schema version rides along as metadata.
func ParquetSchema() *arrow.Schema {
	fields := make([]arrow.Field, len(parquetColumns))
	for i, col := range parquetColumns {
		fields[i] = arrow.Field{Name: col.name, Type: col.typ}
	}
	md := arrow.NewMetadata([]string{"ortbench.schema"}, []string{Schema})
	return arrow.NewSchema(fields, &md)
}

// EncodeParquet writes one row per cell with CSVHeader's flat columns
// (float64, int64, bool, string), Snappy-compressed, in one row group.
func EncodeParquet(run *Run, w io.Writer) error {
	schema := ParquetSchema()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range run.Cells {
		c := &run.Cells[i]
		for j, col := range parquetColumns {
			switch v := col.value(run, c).(type) {
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
