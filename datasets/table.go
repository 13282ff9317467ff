package datasets

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ortbench/ortbench/runner/tempfiles"
)

// Table is a whole dataset in memory, row-major: what strategies slice
// batches from. It is read-only once loaded, so safe for concurrent reads.
type Table struct {
	Path         string
	FeatureNames []string
	Width        int
	Rows         int
	Data         []float32 // Rows*Width values
	Labels       []int64   // nil if the file has no label column
	// FeatureOrder and Notes are the Reader's (see Reader.FeatureOrder,
	// Reader.Notes): how the features were ordered, and the columns
	// skipped, for the caller to print.
	FeatureOrder string
	Notes        []string
	// Underflows are the Reader's (Reader.Underflows) over every row read.
	Underflows []Underflow
}

// Load reads the rows spec selects into one slice sized from the file's
// metadata, and the label column into Labels when spec names one.
func Load(spec Spec) (*Table, error) { return load(spec, true) }

// LoadFeatures is Load without keeping the labels: what a workload holds,
// which feeds the model its features and never its labels (spec.Label
// keeps the column out of the features). The labels are still read and
// checked, a slice at a time, so a bad label column is the same error; at
// 4M rows that is 32 MB less in every process holding the table.
func LoadFeatures(spec Spec) (*Table, error) { return load(spec, false) }

func load(spec Spec, labels bool) (*Table, error) {
	r, err := Open(spec)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	w := r.Width()
	rows := r.Rows()
	if rows > int64(math.MaxInt/w) {
		return nil, errorf(spec.Path, "%d rows of %d features do not fit in memory: set limit", rows, w)
	}
	if need := uint64(rows) * uint64(w) * 4; spec.MaxBytes > 0 && need > spec.MaxBytes {
		return nil, errorf(spec.Path, "%d rows × %d features take %.1f GiB as float32, more than the %.1f GiB of memory available: read fewer rows (workload.rows) or stream the file (dataset.streaming: true)",
			rows, w, float64(need)/(1<<30), float64(spec.MaxBytes)/(1<<30))
	}
	t := &Table{
		Path:         spec.Path,
		FeatureNames: r.FeatureNames(),
		FeatureOrder: r.FeatureOrder(),
		Notes:        r.Notes(),
		Width:        w,
		Rows:         int(rows),
		Data:         make([]float32, int(rows)*w),
	}
	var scratch []int64 // labels read, checked and dropped (LoadFeatures)
	switch {
	case labels && r.HasLabels():
		t.Labels = make([]int64, rows)
	case r.HasLabels():
		scratch = make([]int64, min(t.Rows, ipcBatchRows))
	}
	n := 0
	for n < t.Rows {
		dst, lab := t.Data[n*w:], []int64(nil)
		switch {
		case t.Labels != nil:
			lab = t.Labels[n:]
		case scratch != nil:
			dst, lab = dst[:min(len(scratch), t.Rows-n)*w], scratch
		}
		k, err := r.Read(dst, lab)
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if n != t.Rows {
		return nil, errorf(spec.Path, "read %d rows but the metadata says %d: the file is corrupt", n, t.Rows)
	}
	t.Underflows = r.Underflows()
	return t, nil
}

// Batch returns rows [start, start+n) as a sub-slice of Data, without
// copying; n is clipped at the last row.
func (t *Table) Batch(start, n int) []float32 {
	if start >= t.Rows || n <= 0 {
		return nil
	}
	end := min(start+n, t.Rows)
	return t.Data[start*t.Width : end*t.Width : end*t.Width]
}

// ipcBatchRows is the number of rows per record batch WriteArrowIPC writes.
const ipcBatchRows = 64 << 10

// WriteArrowIPC writes t to path as an Arrow IPC file (uncompressed, so that
// readers can memory-map it and use the values in place) with one column
// "features" of fixed_size_list<float32, Width>, carrying the feature names
// in its metadata, and an int64 column "label" if t has labels. The file is
// written to a temporary file in the same directory and renamed into place,
// so readers never see a partial file.
func WriteArrowIPC(t *Table, path string) (err error) {
	return writeArrowIPC(t, path, ipcBatchRows)
}

// writeArrowIPC is WriteArrowIPC with batchRows rows per record batch.
func writeArrowIPC(t *Table, path string, batchRows int) (err error) {
	if err := t.check(); err != nil {
		return errorf(path, "%v", err)
	}
	featType := arrow.FixedSizeListOfNonNullable(int32(t.Width), arrow.PrimitiveTypes.Float32)
	fields := []arrow.Field{{Name: "features", Type: featType}}
	if t.FeatureNames != nil {
		names, err := json.Marshal(t.FeatureNames)
		if err != nil {
			return errorf(path, "%v", err)
		}
		fields[0].Metadata = arrow.NewMetadata([]string{featureNamesKey}, []string{string(names)})
	}
	if t.Labels != nil {
		fields = append(fields, arrow.Field{Name: defaultLabel, Type: arrow.PrimitiveTypes.Int64})
	}
	schema := arrow.NewSchema(fields, nil)

	return writeAtomic(path, func(f *os.File) error {
		w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
		if err != nil {
			return err
		}
		for start := 0; start < t.Rows; start += batchRows {
			n := min(batchRows, t.Rows-start)
			rec := t.record(schema, featType, start, n)
			err := w.Write(rec)
			rec.Release()
			if err != nil {
				_ = w.Close()
				return err
			}
		}
		return w.Close()
	})
}

// record wraps rows [start, start+n) of t in a record batch without copying.
func (t *Table) record(schema *arrow.Schema, featType arrow.DataType, start, n int) arrow.RecordBatch {
	vals := memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(t.Data[start*t.Width : (start+n)*t.Width]))
	child := array.NewData(arrow.PrimitiveTypes.Float32, n*t.Width, []*memory.Buffer{nil, vals}, nil, 0, 0)
	defer child.Release()
	feat := array.NewData(featType, n, []*memory.Buffer{nil}, []arrow.ArrayData{child}, 0, 0)
	defer feat.Release()
	cols := []arrow.Array{array.MakeFromData(feat)}
	if t.Labels != nil {
		lab := memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(t.Labels[start : start+n]))
		ld := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, lab}, nil, 0, 0)
		defer ld.Release()
		cols = append(cols, array.MakeFromData(ld))
	}
	rec := array.NewRecordBatch(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func (t *Table) check() error {
	switch {
	case t.Width < 1 || t.Width > math.MaxInt32:
		return fmt.Errorf("table width %d is out of range", t.Width)
	case t.Rows < 0 || len(t.Data) != t.Rows*t.Width:
		return fmt.Errorf("table has %d values, want rows*width = %d*%d", len(t.Data), t.Rows, t.Width)
	case t.Labels != nil && len(t.Labels) != t.Rows:
		return fmt.Errorf("table has %d labels for %d rows", len(t.Labels), t.Rows)
	case t.FeatureNames != nil && len(t.FeatureNames) != t.Width:
		return fmt.Errorf("table has %d feature names for width %d", len(t.FeatureNames), t.Width)
	}
	return nil
}

// writeAtomic calls write with a temporary file next to path and renames it
// to path once it is complete and synced; on any failure it removes it, and
// a quit at once (the second Ctrl-C) does too (tempfiles).
func writeAtomic(path string, write func(*os.File) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := tempfiles.Create(dir, "."+base+".tmp-*")
	if err != nil {
		return errorf(path, "cannot create a file next to it: %v", unwrapPath(err))
	}
	defer tempfiles.Forget(f.Name()) // renamed into place or removed below
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("%s: write: %w", path, unwrapPath(err)) // %w: an interrupted write stays context.Canceled
	}
	// CreateTemp makes the file private; a dataset is for every reader.
	if err := f.Chmod(0o644); err != nil {
		return errorf(path, "%v", unwrapPath(err))
	}
	if err := f.Sync(); err != nil {
		return errorf(path, "%v", unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return errorf(path, "%v", unwrapPath(err))
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return errorf(path, "rename into place: %v", unwrapPath(err))
	}
	return nil
}
