package workload

import (
	"os"
	"runtime/debug"
	"sync"

	"github.com/ortbench/ortbench/datasets"
)

// Sharer is implemented by workloads whose rows can move into shared
// memory, so that worker processes map the very pages this process reads
// (transport shared) instead of a second copy.
type Sharer interface {
	// Share moves the rows into a shared-memory file once — Data reads the
	// mapping from then on, and the heap copy is released — and returns the
	// file to pass to worker processes. Call it before any strategy reads
	// Data concurrently (the runner does, before the reference pass).
	Share() (*os.File, error)
}

// Share moves w's rows into shared memory when w can (see Sharer) and
// returns the file; nil when w cannot.
func Share(w Workload) (*os.File, error) {
	if s, ok := w.(Sharer); ok {
		return s.Share()
	}
	return nil, nil
}

// shared is embedded by the workloads that implement Sharer.
type shared struct {
	mu   sync.Mutex
	rows *datasets.SharedRows
}

// share moves *data (rows item records of recordBytes) into shared memory the first time and
// points *data at the mapping; later calls return the same file.
func (s *shared) share(data *[]byte, rows, recordBytes int) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rows != nil {
		return s.rows.File, nil
	}
	r, err := datasets.ShareRows("", *data, rows, recordBytes)
	if err != nil {
		return nil, err
	}
	s.rows, *data = r, r.Data
	// Return the dropped heap copy now, so the process's RSS shows the
	// move rather than a garbage collector's leisure.
	debug.FreeOSMemory()
	return r.File, nil
}
