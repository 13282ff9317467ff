package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// readParquetTrace reads a Parquet trace: column offset_seconds (any
// number type) and, optional, rows (whole numbers), one row an arrival.
func readParquetTrace(path string, timeScale float64) (Trace, error) {
	if _, err := os.Stat(path); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return Trace{}, fmt.Errorf("%s: not a Parquet file: %v", path, err)
	}
	defer pf.Close()
	if n := pf.NumRows(); n > MaxTraceArrivals {
		return Trace{}, fmt.Errorf("%s: %d arrivals, more than %d", path, n, MaxTraceArrivals)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	defer tbl.Release()
	offsets, err := traceColumn(tbl, "offset_seconds")
	if err != nil {
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	if offsets == nil {
		return Trace{}, fmt.Errorf("%s: no column offset_seconds (the arrivals' offsets in seconds; rows, their sizes, is optional)", path)
	}
	rows, err := traceColumn(tbl, "rows")
	if err != nil {
		return Trace{}, fmt.Errorf("%s: %v", path, err)
	}
	b := traceBuilder{path: path, scale: timeScale}
	for i := range int(tbl.NumRows()) {
		where := fmt.Sprintf("%s: row %d", path, i+1)
		v, ok := offsets(i)
		if !ok {
			return Trace{}, fmt.Errorf("%s: offset_seconds is null", where)
		}
		var size float64
		if rows != nil {
			if size, ok = rows(i); !ok {
				return Trace{}, fmt.Errorf("%s: rows is null", where)
			}
			if size != math.Trunc(size) || math.Abs(size) > math.MaxInt32 {
				return Trace{}, fmt.Errorf("%s: size %g is not a whole number of rows", where, size)
			}
		}
		if err := b.add(where, v, int64(size), rows != nil); err != nil {
			return Trace{}, err
		}
	}
	return b.done()
}

// traceColumn reads the named column of tbl as numbers: value i and
// whether it is set (nil: no such column); a column of another type is
// refused.
func traceColumn(tbl arrow.Table, name string) (func(i int) (float64, bool), error) {
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, nil
	}
	col := tbl.Column(idx[0])
	chunks := col.Data().Chunks()
	var get []func(j int) float64
	for _, c := range chunks {
		f := number(c)
		if f == nil {
			return nil, fmt.Errorf("column %s is %s, not a number", name, col.DataType())
		}
		get = append(get, f)
	}
	return func(i int) (float64, bool) {
		for k, c := range chunks {
			if i < c.Len() {
				return get[k](i), c.IsValid(i)
			}
			i -= c.Len()
		}
		return 0, false
	}, nil
}

// number reads a numeric array's values as float64 (nil: not numeric).
func number(a arrow.Array) func(i int) float64 {
	switch a := a.(type) {
	case *array.Float64:
		return func(i int) float64 { return a.Value(i) }
	case *array.Float32:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int64:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int32:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Int16:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Uint32:
		return func(i int) float64 { return float64(a.Value(i)) }
	case *array.Uint64:
		return func(i int) float64 { return float64(a.Value(i)) }
	}
	return nil
}
