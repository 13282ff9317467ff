package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

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

// SharedRows are a table's rows held once, in a shared-memory file that
// this process and its worker processes all map: the same physical pages,
// counted once in the machine's memory (and split between the processes in
// their PSS).
type SharedRows struct {
	// File is the Arrow IPC file (one record batch, one
	// fixed_size_list<float32, width> column), already unlinked and held
	// open: pass it to a worker, which maps it (procpool.OpenShared).
	File *os.File
	// Data is the rows, row-major, inside this process's read-only mapping.
	Data []float32
	m    []byte
}

// ShareRows writes rows × width values of data to an Arrow IPC file in dir
// ("" for SharedDir, or the temporary directory when /dev/shm lacks room)
// and maps it back, read-only and shared. The caller drops its own copy of
// data and reads Data instead; the mapping lives as long as the process
// (or Close). The file is unlinked at once, so nothing is left behind
// however the process ends.
func ShareRows(dir string, data []float32, rows, width int) (_ *SharedRows, err error) {
	if dir == "" {
		dir = sharedDirFor(int64(rows) * int64(width) * 4)
	}
	f, err := os.CreateTemp(dir, "ortbench-shared-*.arrow")
	if err != nil {
		return nil, fmt.Errorf("shared dataset: %w", err)
	}
	path := filepath.Clean(f.Name())
	_ = f.Close()
	defer os.Remove(path)
	// One record batch, so that the rows are one contiguous run of floats
	// in the mapping, exactly what Data was.
	t := &Table{Path: path, Width: width, Rows: rows, Data: data[:rows*width]}
	if err := writeArrowIPC(t, path, max(rows, 1)); err != nil {
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
	// One batch of all the rows is one message body: above arrow-go's
	// default 256 MiB limit for a big dataset, and bounded by the file.
	fr, err := ipc.NewMappedFileReader(s.m, ipc.WithAllocator(memory.DefaultAllocator), ipc.WithBodySizeLimit(int64(len(s.m))))
	if err != nil {
		return nil, fmt.Errorf("shared dataset %s: %w", path, err)
	}
	defer fr.Close()
	if fr.NumRecords() != 1 {
		return nil, fmt.Errorf("shared dataset %s: %d record batches, want 1", path, fr.NumRecords())
	}
	rec, err := fr.RecordBatchAt(0)
	if err != nil {
		return nil, fmt.Errorf("shared dataset %s: %w", path, err)
	}
	defer rec.Release()
	col, ok := rec.Column(0).(*array.FixedSizeList)
	var vals []float32
	if ok {
		if v, ok := col.ListValues().(*array.Float32); ok {
			vals = v.Float32Values()
		}
	}
	if len(vals) < rows*width {
		return nil, fmt.Errorf("shared dataset %s: %d values read back, want %d", path, len(vals), rows*width)
	}
	s.Data = vals[: rows*width : rows*width]
	if len(s.Data) > 0 && !inside(s.Data, s.m) {
		// The reader copied instead of pointing into the mapping (it does
		// for misaligned buffers): the second copy this type exists to avoid.
		return nil, fmt.Errorf("shared dataset %s: the rows were copied out of the mapping", path)
	}
	return s, nil
}

// inside reports whether v's values lie in m.
func inside(v []float32, m []byte) bool {
	lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(m))), uintptr(len(m))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return p >= lo && p-lo+uintptr(len(v))*4 <= hi
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
