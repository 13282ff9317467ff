package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SharedDir is where shared datasets are written: /dev/shm (tmpfs, so the
// file is memory, not disk) where it exists and is writable, otherwise the
// temporary directory.
func SharedDir() string { return sharedDirFor(0) }

// sharedDirFor is SharedDir for a file of size bytes: /dev/shm only when it
// has room for it (a container's is often 64 MB), else the temporary
// directory — a file there is shared through the page cache just the same.
func sharedDirFor(size int64) string {
	const shm = "/dev/shm"
	if st, err := os.Stat(shm); err == nil && st.IsDir() {
		if free, ok := freeBytes(shm); ok && free < uint64(size)+uint64(size)/16 {
			return os.TempDir()
		}
		if f, err := os.CreateTemp(shm, ".ortbench-probe-*"); err == nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
			return shm
		}
	}
	return os.TempDir()
}

// SharedRows are a workload's item records held once, in a shared-memory
// file that this process and its worker processes all map: the same
// physical pages, counted once in the machine's memory (and split between
// the processes in their PSS).
type SharedRows struct {
	// File is the Arrow IPC file (one record batch, one
	// fixed_size_list<uint8, record bytes> column: RecordSchema), already
	// unlinked and held open: pass it to a worker, which maps it
	// (procpool.OpenShared).
	File *os.File
	// Data is the records, item after item, inside this process's
	// read-only mapping.
	Data []byte
	m    []byte
}

// RecordSchema is the schema of a shared file of records of recordBytes
// bytes each: one fixed_size_list<uint8> column.
func RecordSchema(recordBytes int) *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{{Name: "records", Type: arrow.FixedSizeListOfNonNullable(int32(recordBytes), arrow.PrimitiveTypes.Uint8)}}, nil)
}

// ShareRows writes rows records of recordBytes bytes from data to an Arrow
// IPC file in dir ("" for SharedDir, or the temporary directory when
// /dev/shm lacks room) and maps it back, read-only and shared. The caller
// drops its own copy of data and reads Data instead; the mapping lives as
// long as the process (or Close). The file is unlinked at once, so nothing
// is left behind however the process ends.
func ShareRows(dir string, data []byte, rows, recordBytes int) (_ *SharedRows, err error) {
	size := rows * recordBytes
	if dir == "" {
		dir = sharedDirFor(int64(size))
	}
	f, err := os.CreateTemp(dir, "ortbench-shared-*.arrow")
	if err != nil {
		return nil, fmt.Errorf("shared dataset: %w", err)
	}
	path := filepath.Clean(f.Name())
	_ = f.Close()
	defer os.Remove(path)
	// One record batch, so that the records are one contiguous run of bytes
	// in the mapping, exactly what data was.
	if err := WriteRecords(path, data[:size], rows, recordBytes, max(rows, 1)); err != nil {
		return nil, fmt.Errorf("shared dataset: %w", err)
	}
	if f, err = os.Open(path); err != nil {
		return nil, fmt.Errorf("shared dataset: %w", err)
	}
	s := &SharedRows{File: f}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("shared dataset: %w", err)
	}
	if s.m, err = mapShared(f, st.Size()); err != nil {
		return nil, fmt.Errorf("shared dataset %s: %w", path, err)
	}
	vals, err := mappedRecords(s.m)
	if err != nil {
		return nil, fmt.Errorf("shared dataset %s: %w", path, err)
	}
	if len(vals) < size {
		return nil, fmt.Errorf("shared dataset %s: %d bytes read back, want %d", path, len(vals), size)
	}
	s.Data = vals[:size:size]
	if len(s.Data) > 0 && !inside(s.Data, s.m) {
		// The reader copied instead of pointing into the mapping (it does
		// for misaligned buffers): the second copy this type exists to avoid.
		return nil, fmt.Errorf("shared dataset %s: the rows were copied out of the mapping", path)
	}
	return s, nil
}

// WriteRecords writes rows records of recordBytes bytes from data as an
// Arrow IPC file of RecordSchema, batchRows records per record batch.
func WriteRecords(path string, data []byte, rows, recordBytes, batchRows int) error {
	schema := RecordSchema(recordBytes)
	return writeAtomic(path, func(f *os.File) error {
		w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
		if err != nil {
			return err
		}
		for start := 0; start < max(rows, 1); start += batchRows {
			n := min(batchRows, rows-start)
			if err := writeRecordBatch(w, schema, data[start*recordBytes:(start+n)*recordBytes], n); err != nil {
				_ = w.Close()
				return err
			}
		}
		return w.Close()
	})
}

// writeRecordBatch writes n records held in data as one record batch,
// without copying them.
func writeRecordBatch(w *ipc.FileWriter, schema *arrow.Schema, data []byte, n int) error {
	child := array.NewData(arrow.PrimitiveTypes.Uint8, len(data), []*memory.Buffer{nil, memory.NewBufferBytes(data)}, nil, 0, 0)
	defer child.Release()
	list := array.NewData(schema.Field(0).Type, n, []*memory.Buffer{nil}, []arrow.ArrayData{child}, 0, 0)
	defer list.Release()
	col := array.MakeFromData(list)
	defer col.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(n))
	defer rec.Release()
	return w.Write(rec)
}

// mappedRecords reads the one record batch of a mapped shared file and
// returns its bytes, pointing into m.
func mappedRecords(m []byte) ([]byte, error) {
	// One batch of all the rows is one message body: above arrow-go's
	// default 256 MiB limit for a big dataset, and bounded by the file.
	fr, err := ipc.NewMappedFileReader(m, ipc.WithAllocator(memory.DefaultAllocator), ipc.WithBodySizeLimit(int64(len(m))))
	if err != nil {
		return nil, err
	}
	defer fr.Close()
	if fr.NumRecords() != 1 {
		return nil, fmt.Errorf("%d record batches, want 1", fr.NumRecords())
	}
	rec, err := fr.RecordBatchAt(0)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	if col, ok := rec.Column(0).(*array.FixedSizeList); ok {
		if v, ok := col.ListValues().(*array.Uint8); ok {
			return v.Uint8Values(), nil
		}
	}
	return nil, fmt.Errorf("column 0 is %s, want a fixed_size_list<uint8>", rec.Schema().Field(0).Type)
}

// inside reports whether v's bytes lie in m.
func inside(v []byte, m []byte) bool {
	lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(len(m))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return p >= lo && p-lo+uintptr(len(v)) <= hi
}

// Close unmaps the rows (Data must not be read after) and closes File.
func (s *SharedRows) Close() error {
	var err error
	if s.m != nil {
		err = unmapShared(s.m)
		s.m, s.Data = nil, nil
	}
	if s.File != nil {
		if cerr := s.File.Close(); err == nil {
			err = cerr
		}
		s.File = nil
	}
	return err
}
