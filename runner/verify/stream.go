package verify

import (
	"errors"
	"fmt"
	"os"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/internal/raw"
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
		return raw.Bytes(v), at
	}
	v := win.F32[k][:n*l.Width]
	return raw.Bytes(v), at
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

// ExpectedStream is LoadExpected for streaming mode: the reference-
// predictions file is read a batch at a time, beside the reference pass
// (it is one of that pass's sinks), and each batch of the pass is compared
// with the file's rows by CheckRows' rules. Batches must come in order
// (the sequential pass delivers them so). Batch and Reset are called by
// one goroutine at a time.
type ExpectedStream struct {
	path     string
	readers  []*datasets.Reader // one per output
	file     *workload.Outputs  // the file's rows of the batch
	features []float32          // what an integer column's reader reads beside it
	allowNaN bool
	v        Verifier
	next     int // the next dataset row expected
	report   Report
}

var _ workload.Sink = (*ExpectedStream)(nil)

// OpenExpected opens path (see LoadExpected for its columns) for a pass
// over rows rows of layout in batches of up to batchSize rows.
func OpenExpected(path string, layout []onnx.Output, rows, batchSize int, allowNaN bool, tolerance float64) (*ExpectedStream, error) {
	e := &ExpectedStream{path: path, file: workload.NewOutputs(layout, batchSize, batchSize), allowNaN: allowNaN,
		v: Verifier{Tolerance: tolerance}}
	for _, l := range layout {
		spec := datasets.Spec{Path: path, Limit: rows, AllowNaN: true, Stream: true}
		if l.Kind == onnx.Int64 {
			spec.Label = l.Name // with any float column as a dummy feature
		} else if l.Width == 1 {
			spec.Features = []string{l.Name}
		} else {
			spec.TensorColumn = l.Name
		}
		r, err := datasets.Open(spec)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("reference %s: output %q: %w", path, l.Name, err)
		}
		e.readers = append(e.readers, r)
		switch {
		case r.Rows() != int64(rows):
			err = fmt.Errorf("reference %s has %d rows, the dataset run has %d", path, r.Rows(), rows)
		case l.Kind == onnx.Int64 && !r.HasLabels():
			err = fmt.Errorf("reference %s: no integer column %q", path, l.Name)
		case l.Kind != onnx.Int64 && r.Width() != l.Width:
			err = fmt.Errorf("reference %s: column %q has %d values per row, the model outputs %d", path, l.Name, r.Width(), l.Width)
		}
		if err != nil {
			e.Close()
			return nil, err
		}
		if l.Kind == onnx.Int64 {
			e.features = make([]float32, max(len(e.features), batchSize*r.Width()))
		}
	}
	return e, nil
}

// Batch compares dataset rows start … start+n−1 (win's first n rows) with
// the file's next n rows.
func (e *ExpectedStream) Batch(start, n int, win *workload.Outputs) {
	if e.report.FirstError != "" && e.next < 0 {
		return // the file could not be read on
	}
	fail := func(err error) {
		e.report.Merge(Report{Mismatches: n, FirstError: err.Error()})
		e.next = -1
	}
	if start != e.next {
		fail(fmt.Errorf("reference %s: batch of rows %d..%d out of order (next row %d)", e.path, start, start+n-1, e.next))
		return
	}
	for k, l := range win.Layout {
		r := e.readers[k]
		var err error
		if l.Kind == onnx.Int64 {
			_, err = readRows(r, e.features[:n*r.Width()], e.file.I64[k][:n])
		} else {
			_, err = readRows(r, e.file.F32[k][:n*l.Width], nil)
			if err == nil && !e.allowNaN {
				for i, x := range e.file.F32[k][:n*l.Width] {
					if x != x {
						err = fmt.Errorf("reference %s: output %q row %d is NaN (or null): the expected file holds NaN, which only a dataset with allow_nan may produce", e.path, l.Name, start+i/l.Width)
						break
					}
				}
			}
		}
		if err != nil {
			fail(fmt.Errorf("reference %s: output %q: %w", e.path, l.Name, err))
			return
		}
	}
	e.report.Merge(e.v.compare(win, start, e.file, start, start, n))
	e.next = start + n
}

// readRows fills dst (and labels) with exactly len(dst)/Width rows.
func readRows(r *datasets.Reader, dst []float32, labels []int64) (int, error) {
	rows, want := 0, len(dst)/r.Width()
	for rows < want {
		var lab []int64
		if labels != nil {
			lab = labels[rows:]
		}
		k, err := r.Read(dst[rows*r.Width():], lab)
		rows += k
		if err != nil && rows < want {
			return rows, err
		}
		if k == 0 && err == nil {
			return rows, fmt.Errorf("no progress at row %d", rows)
		}
	}
	return rows, nil
}

// Reset does nothing: the file is read once, beside the reference pass.
func (e *ExpectedStream) Reset() {}

// Report is the comparison so far: every row checked once the pass is over.
func (e *ExpectedStream) Report() Report { return e.report }

// Close releases the file's readers.
func (e *ExpectedStream) Close() error {
	var errs []error
	for _, r := range e.readers {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}
