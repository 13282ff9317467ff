package procpool

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Shared is a worker's view of the shared dataset: the file mapped
// read-only and shared, and each record batch's rows pointing into the
// mapping, never copied.
type Shared struct {
	m       []byte
	fr      *ipc.FileReader
	recs    []arrow.RecordBatch
	firsts  []int    // first row of each record batch
	vals    [][]byte // the item records of each record batch, in the mapping
	width   int      // bytes per record
	rows    int
	scratch []byte // for a task that straddles two record batches
}

// OpenShared maps path and checks it holds rows records of width bytes.
func OpenShared(path string, rows, width int) (_ *Shared, err error) {
	m, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("shared dataset %s: %w", path, err)
	}
	s := &Shared{m: m, width: width}
	defer func() {
		if v := recover(); v != nil {
			err = malformed("shared dataset %s: %v", path, v)
		}
		if err != nil {
			s.Close()
		}
	}()
	// The runner writes all the rows as one record batch (datasets.ShareRows):
	// its body may pass arrow-go's default 256 MiB limit; the file bounds it.
	s.fr, err = ipc.NewMappedFileReader(m, ipc.WithAllocator(memory.DefaultAllocator), ipc.WithBodySizeLimit(int64(len(m))))
	if err != nil {
		return nil, fmt.Errorf("shared dataset %s: %w", path, err)
	}
	if sc, want := s.fr.Schema(), BatchSchema(width).Field(0).Type; sc.NumFields() < 1 || !arrow.TypeEqual(sc.Field(0).Type, want) {
		return nil, malformed("shared dataset %s: schema %s, want a first column of %s", path, sc, want)
	}
	for i := 0; i < s.fr.NumRecords(); i++ {
		rec, err := s.fr.RecordBatchAt(i)
		if err != nil {
			return nil, fmt.Errorf("shared dataset %s: record batch %d: %w", path, i, err)
		}
		s.recs = append(s.recs, rec)
		v, err := values[uint8](rec, 0, width)
		if err != nil {
			return nil, fmt.Errorf("shared dataset %s: record batch %d: %w", path, i, err)
		}
		s.firsts = append(s.firsts, s.rows)
		s.vals = append(s.vals, v)
		s.rows += int(rec.NumRows())
	}
	if s.rows != rows {
		return nil, fmt.Errorf("shared dataset %s: %d rows, want %d", path, s.rows, rows)
	}
	return s, nil
}

// Rows returns rows [first, first+n) row-major: a slice of the mapping, or a
// copy in a scratch buffer when they straddle two record batches.
func (s *Shared) Rows(first, n int) ([]byte, error) {
	if first < 0 || n < 1 || first+n > s.rows {
		return nil, malformed("task rows %d..%d outside the shared dataset's %d rows", first, first+n-1, s.rows)
	}
	// Record batches are equal-sized but the last; find the one holding first.
	i := len(s.firsts) - 1
	if len(s.firsts) > 1 {
		i = min(first/s.firsts[1], len(s.firsts)-1)
	}
	for s.firsts[i] > first {
		i--
	}
	off := first - s.firsts[i]
	v := s.vals[i]
	if (off+n)*s.width <= len(v) {
		return v[off*s.width : (off+n)*s.width], nil
	}
	s.scratch = s.scratch[:0]
	for need := n; need > 0; i++ {
		v := s.vals[i][off*s.width:]
		k := min(need*s.width, len(v))
		s.scratch = append(s.scratch, v[:k]...)
		need -= k / s.width
		off = 0
	}
	return s.scratch, nil
}

// Close releases the record batches and unmaps the file.
func (s *Shared) Close() {
	for _, r := range s.recs {
		r.Release()
	}
	s.recs, s.vals = nil, nil
	if s.fr != nil {
		_ = s.fr.Close()
		s.fr = nil
	}
	if s.m != nil {
		_ = unmapFile(s.m)
		s.m = nil
	}
}
