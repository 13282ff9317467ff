//go:build ignore

// gen_strict writes the corpus's Parquet files whose feature values float32
// (the model's input type) cannot represent: a float64 beyond its range, an
// int64 beyond 2^24, a +Inf; and one whose tiny float64 values read as 0
// (accepted, stated as a warning). Run from this folder: go run gen_strict.go.
// Deterministic.
package main

import (
	"log"
	"math"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

const rows = 40

// write stores f0…f3 of type typ, value(col, row), and a label column.
func write(name string, typ arrow.DataType, value func(c, i int) float64) {
	mem := memory.DefaultAllocator
	fields := []arrow.Field{}
	arrs := []arrow.Array{}
	for c, n := range []string{"f0", "f1", "f2", "f3"} {
		b := array.NewBuilder(mem, typ)
		for i := range rows {
			v := value(c, i)
			switch b := b.(type) {
			case *array.Float64Builder:
				b.Append(v)
			case *array.Float32Builder:
				b.Append(float32(v))
			case *array.Int64Builder:
				b.Append(int64(v))
			}
		}
		fields = append(fields, arrow.Field{Name: n, Type: typ})
		arrs = append(arrs, b.NewArray())
	}
	lb := array.NewInt64Builder(mem)
	for i := range rows {
		lb.Append(int64(i % 2))
	}
	fields = append(fields, arrow.Field{Name: "label", Type: arrow.PrimitiveTypes.Int64})
	arrs = append(arrs, lb.NewArray())
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rows)
	tab := array.NewTableFromRecords(rec.Schema(), []arrow.RecordBatch{rec})
	f, err := os.Create("datasets/" + name)
	if err != nil {
		log.Fatal(err)
	}
	if err := pqarrow.WriteTable(tab, f, rows, nil, pqarrow.DefaultWriterProps()); err != nil {
		log.Fatal(err)
	}
}

func main() {
	small := func(c, i int) float64 { return float64((i*7 + c*3) % 16) }
	at := func(col, row int, v float64) func(c, i int) float64 {
		return func(c, i int) float64 {
			if c == col && i == row {
				return v
			}
			return small(c, i)
		}
	}
	write("overflow_f64.parquet", arrow.PrimitiveTypes.Float64, at(1, 6, 1e39))
	write("big_int64.parquet", arrow.PrimitiveTypes.Int64, at(3, 11, 1<<24+1))
	write("inf_feature.parquet", arrow.PrimitiveTypes.Float32, at(2, 4, math.Inf(1)))
	write("underflow_f64.parquet", arrow.PrimitiveTypes.Float64, func(c, i int) float64 {
		if c == 0 && (i == 3 || i == 9) {
			return 1e-50
		}
		return small(c, i)
	})
}
