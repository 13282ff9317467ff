package verify

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// Stored is a reference kept in a file instead of memory, for streaming
// mode (workload.dataset.streaming), where no store holds a whole pass: the
// reference pass writes each batch's outputs into it (it is that pass's
// Sink), and each cell's Stream reads back the rows of the batch it checks.
// The file is unlinked as soon as it is made, so it goes with the process;
// its rows live in the page cache, never in the process's RSS.
//
// Each output is one region of rows × width values, native byte order
// (the file never leaves the process). Batch and Reset are called by one
// goroutine at a time (the reference pass); read is safe for concurrent use
// (ReadAt).
//
// Note: mapping the file and releasing pages with MADV_DONTNEED after each
// batch would save a copy per batch, but pipeline batches finish out of
// order and share pages at their edges; ReadAt needs no such bookkeeping
// and costs one system call per output per batch.
type Stored struct {
	f      *os.File
	layout []onnx.Output
	rows   int
	off    []int64 // each output's region
	err    error   // the first write error (sticky)
}

var _ workload.Sink = (*Stored)(nil)

// NewStored makes an (unlinked) file in dir ("" = the system's temporary
// directory) for rows rows of layout.
func NewStored(dir string, layout []onnx.Output, rows int) (*Stored, error) {
	f, err := os.CreateTemp(dir, "ortbench-reference-*")
	if err != nil {
		return nil, fmt.Errorf("streaming reference: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("streaming reference: %w", err)
	}
	s := &Stored{f: f, layout: layout, rows: rows}
	var off int64
	for _, l := range layout {
		s.off = append(s.off, off)
		off += int64(rows) * int64(l.Width) * elemBytes(l)
	}
	return s, nil
}

func elemBytes(l onnx.Output) int64 {
	if l.Kind == onnx.Int64 {
		return 8
	}
	return 4
}

// region is output k's rows start … start+n−1 of win (from its row 0) as
// bytes, and where they go in the file.
func (s *Stored) region(k, start, n int, win *workload.Outputs) ([]byte, int64) {
	l := s.layout[k]
	at := s.off[k] + int64(start)*int64(l.Width)*elemBytes(l)
	if l.Kind == onnx.Int64 {
		v := win.I64[k][:n*l.Width]
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*8), at
	}
	v := win.F32[k][:n*l.Width]
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*4), at
}

// Batch writes dataset rows start … start+n−1 from win.
func (s *Stored) Batch(start, n int, win *workload.Outputs) {
	if s.err != nil || n == 0 {
		return
	}
	for k := range s.layout {
		b, at := s.region(k, start, n, win)
		if _, err := s.f.WriteAt(b, at); err != nil {
			s.err = fmt.Errorf("streaming reference: writing rows %d..%d: %w", start, start+n-1, err)
			return
		}
	}
}

// Reset does nothing: a reference is written once.
func (s *Stored) Reset() {}

// Err is the first error writing the file.
func (s *Stored) Err() error { return s.err }

// read fills win's first n rows with dataset rows start … start+n−1.
func (s *Stored) read(start, n int, win *workload.Outputs) error {
	for k := range s.layout {
		b, at := s.region(k, start, n, win)
		if _, err := s.f.ReadAt(b, at); err != nil {
			return fmt.Errorf("streaming reference: reading rows %d..%d: %w", start, start+n-1, err)
		}
	}
	return nil
}

// Close removes the file.
func (s *Stored) Close() error { return s.f.Close() }

// Stream is a cell's per-batch check in streaming mode: the Sink of its
// streaming output store (workload.NewStreamOutputs). Each batch is
// compared with the reference as soon as it is made, by the same rules as
// Check, and the verdicts add up until the next Reset (a new pass); Check
// then returns them. Batch and Reset are called by one goroutine at a time.
type Stream struct {
	v       *Verifier
	scratch *workload.Outputs // the reference's rows of the batch checked
	report  Report
}

var _ workload.Sink = (*Stream)(nil)

// NewStream is a per-batch check for batches of up to batchSize rows.
func (v *Verifier) NewStream(batchSize int) *Stream {
	st := &Stream{v: v}
	if v.Stored != nil {
		st.scratch = workload.NewOutputs(v.Stored.layout, batchSize, batchSize)
	}
	return st
}

// Batch checks dataset rows start … start+n−1, held in win's first n rows.
func (st *Stream) Batch(start, n int, win *workload.Outputs) {
	var r Report
	switch {
	case CheckTolerance(st.v.Tolerance) != nil:
		r = st.v.CheckRows(win, 0, 0) // reports the tolerance
	case st.v.Stored != nil:
		if err := st.v.Stored.read(start, n, st.scratch); err != nil {
			r = Report{RowsChecked: n, Mismatches: n, FirstError: err.Error()}
			break
		}
		r = st.v.compare(win, start, st.scratch, start, start, n)
	case st.v.Reference != nil:
		r = st.v.compare(win, start, st.v.Reference, 0, start, n)
	default:
		r = Report{Mismatches: n, FirstError: "no reference to check against"}
	}
	st.report.Merge(r)
}

// Reset starts a new pass.
func (st *Stream) Reset() { st.report = Report{} }

// checkStream is Check for a streaming store: every batch counted once,
// and what its Stream found batch by batch.
func (v *Verifier) checkStream(got *workload.Outputs, batches int) Report {
	st, ok := got.Sink().(*Stream)
	if !ok || st.v != v {
		return Report{Mismatches: 1, FirstError: "streaming outputs were not checked by this verifier (make the store's sink with NewStream)"}
	}
	r := st.report
	if err := got.Coverage(batches); err != nil {
		r.FirstError, r.Mismatches = err.Error(), max(r.Mismatches, 1)
	}
	return r
}

// errNoStored is returned by New for a streaming reference without a file.
var errNoStored = errors.New("a streaming reference must be written to a Stored file")
