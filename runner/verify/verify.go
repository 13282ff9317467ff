// Package verify checks a pass's outputs against the reference: every batch
// processed exactly once, integer outputs (labels) equal, float outputs
// within an absolute tolerance. A cell that fails is reported as failed,
// never averaged in.
package verify

import (
	"fmt"
	"math"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// Report is the verdict on one pass.
type Report struct {
	RowsChecked int
	Mismatches  int // rows with at least one differing value
	// MaxAbsDiff is the largest |got - reference| of float outputs; it is
	// always finite (JSON has no Inf): a NaN against a number, or an
	// infinite difference, counts as a mismatch and as math.MaxFloat64.
	MaxAbsDiff float64
	FirstError string
}

// Passed reports whether nothing differed.
func (r Report) Passed() bool { return r.Mismatches == 0 && r.FirstError == "" }

// Merge folds another pass's report into r (the worst of both).
func (r *Report) Merge(o Report) {
	r.RowsChecked += o.RowsChecked
	r.Mismatches += o.Mismatches
	r.MaxAbsDiff = math.Max(r.MaxAbsDiff, o.MaxAbsDiff)
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
}

// Verifier compares outputs with a reference. Safe for concurrent use (it
// only reads). Make one with New, which checks the tolerance; a Verifier
// built by hand with a tolerance that is not a finite number ≥ 0 fails every
// Check, since NaN would compare as "within tolerance" never and Inf always.
type Verifier struct {
	Reference *workload.Outputs
	// Stored holds the reference instead of Reference in streaming mode
	// (stream.go), and in an offline run once Store has moved it there:
	// rows are read back a batch or a chunk at a time.
	Stored *Stored
	// Name says which pass the reference came from, for results.
	Name      string
	Tolerance float64
	// AllowNaN (the dataset's allow_nan) lets a float output be NaN or
	// ±Inf, compared equal to the same in the reference. Without it such an
	// output fails: NaN in, NaN out would otherwise pass as "verified".
	AllowNaN bool
}

// New returns a Verifier, or an error if tolerance is NaN, infinite or
// negative.
func New(ref *workload.Outputs, name string, tolerance float64) (*Verifier, error) {
	if err := CheckTolerance(tolerance); err != nil {
		return nil, err
	}
	if ref.Streaming() { // the reference pass wrote it to a file
		st, ok := ref.Sink().(*Stored)
		if !ok {
			return nil, errNoStored
		}
		return &Verifier{Stored: st, Name: name, Tolerance: tolerance}, nil
	}
	return &Verifier{Reference: ref, Name: name, Tolerance: tolerance}, nil
}

// Store moves the in-memory reference into an unlinked file in dir ("" =
// the temporary directory) and drops it: Check then reads it back a chunk
// at a time, so the verification state is not held in the runner's memory
// (nor counted in a cell's RSS or PSS) — 192 MB at 4M rows of a 10-class
// model. CheckRows, which a server calls per request, needs the reference
// in memory: do not Store for server load.
func (v *Verifier) Store(dir string) error {
	ref := v.Reference
	if ref == nil || v.Stored != nil {
		return nil
	}
	st, err := NewStored(dir, ref.Layout, ref.Rows)
	if err != nil {
		return err
	}
	if st.Batch(0, ref.Rows, ref); st.Err() != nil {
		_ = st.Close()
		return st.Err()
	}
	v.Stored, v.Reference = st, nil
	return nil
}

// storedChunk is how many rows Check reads back from a stored reference
// at a time.
const storedChunk = 16 << 10

// checkStored is CheckRows for rows 0 … rows−1 against the stored
// reference, read back a chunk at a time.
func (v *Verifier) checkStored(got *workload.Outputs, rows int) Report {
	var r Report
	scratch := workload.NewOutputs(v.Stored.layout, min(rows, storedChunk), max(min(rows, storedChunk), 1))
	for start := 0; start < rows; start += storedChunk {
		n := min(storedChunk, rows-start)
		if err := v.Stored.read(start, n, scratch); err != nil {
			r.Merge(Report{RowsChecked: n, Mismatches: n, FirstError: err.Error()})
			continue
		}
		r.Merge(v.compare(got, 0, scratch, start, start, n))
	}
	return r
}

// Close releases the stored reference's file (streaming mode, or after
// Store); a no-op for a reference in memory.
func (v *Verifier) Close() error {
	if v == nil || v.Stored == nil {
		return nil
	}
	return v.Stored.Close()
}

// CheckTolerance rejects a tolerance that is not a finite number ≥ 0.
func CheckTolerance(tolerance float64) error {
	if math.IsNaN(tolerance) || math.IsInf(tolerance, 0) || tolerance < 0 {
		return fmt.Errorf("tolerance %v is not a finite number ≥ 0: NaN would fail every float and Inf pass every one", tolerance)
	}
	return nil
}

// Check verifies got (a pass over the first batches batches) against the
// reference.
func (v *Verifier) Check(got *workload.Outputs, batches int) Report {
	var r Report
	if err := CheckTolerance(v.Tolerance); err != nil {
		r.FirstError = err.Error()
		r.Mismatches = 1
		return r
	}
	if got.Streaming() {
		return v.checkStream(got, batches)
	}
	if err := got.Coverage(batches); err != nil {
		r.FirstError = err.Error()
		r.Mismatches = 1
		return r
	}
	rows := min(got.Rows, batches*got.BatchSize)
	if v.Reference == nil && v.Stored != nil {
		return v.checkStored(got, rows)
	}
	return v.CheckRows(got, 0, rows)
}

// CheckRows compares rows start … start+rows−1 of got with the reference:
// integer outputs equal, floats within the tolerance (NaN equals NaN, an
// infinity equals the same infinity). It allocates nothing, so a server
// can check every request it answers.
func (v *Verifier) CheckRows(got *workload.Outputs, start, rows int) Report {
	var r Report
	if err := CheckTolerance(v.Tolerance); err != nil {
		r.FirstError = err.Error()
		r.Mismatches = 1
		return r
	}
	if v.Reference == nil {
		return Report{Mismatches: 1, FirstError: "no in-memory reference (streaming mode checks whole batches: NewStream)"}
	}
	return v.compare(got, 0, v.Reference, 0, start, rows)
}

// compare is CheckRows' comparison of dataset rows start … start+rows−1,
// held in got from its row gotBase on and in ref from its row refBase on:
// 0 for whole passes, the window's first row for a streaming batch.
func (v *Verifier) compare(got *workload.Outputs, gotBase int, ref *workload.Outputs, refBase, start, rows int) Report {
	var r Report
	r.RowsChecked = rows
	for row := start; row < start+rows; row++ {
		bad := false
		g, e := row-gotBase, row-refBase
		for k, l := range got.Layout {
			w := l.Width
			if l.Kind == onnx.Int64 {
				a, b := got.I64[k][g*w:(g+1)*w], ref.I64[k][e*w:(e+1)*w]
				for i := range a {
					if a[i] != b[i] {
						bad = true
						if r.FirstError == "" {
							r.FirstError = fmt.Sprintf("row %d output %q: got %d, reference %d", row, l.Name, a[i], b[i])
						}
					}
				}
				continue
			}
			a, b := got.F32[k][g*w:(g+1)*w], ref.F32[k][e*w:(e+1)*w]
			tol := v.tolerance(l)
			for i := range a {
				if !v.AllowNaN && !(math.Abs(float64(a[i])) <= math.MaxFloat32) {
					bad, r.MaxAbsDiff = true, math.MaxFloat64
					if r.FirstError == "" {
						r.FirstError = fmt.Sprintf("row %d output %q[%d] is %g: a model output that is not a finite number fails verification (allow_nan is off)", row, l.Name, i, a[i])
					}
					continue
				}
				d := math.Abs(float64(a[i]) - float64(b[i]))
				if math.IsNaN(d) {
					if math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i])) {
						continue // NaN where the reference has NaN is equal
					}
					if a[i] == b[i] {
						continue // the same infinity
					}
					d = math.Inf(1)
				}
				r.MaxAbsDiff = math.Max(r.MaxAbsDiff, min(d, math.MaxFloat64))
				if d > tol {
					bad = true
					if r.FirstError == "" {
						r.FirstError = fmt.Sprintf("row %d output %q[%d]: got %g, reference %g (|diff| %.3g > tolerance %g)", row, l.Name, i, a[i], b[i], d, tol)
					}
				}
			}
		}
		if bad {
			r.Mismatches++
		}
	}
	return r
}

// Float16Tolerance is the least tolerance a float16 output is compared
// at: one unit in the last place of a half near 1 is 2^-10 ≈ 1e-3, so a
// float32 tolerance would fail a half output for one rounding.
const Float16Tolerance = 1e-3

// tolerance is the tolerance output l is compared at: the verifier's, or
// Float16Tolerance for a float16 output when that is wider.
func (v *Verifier) tolerance(l onnx.Output) float64 {
	if l.DType == onnx.DFloat16 {
		return max(v.Tolerance, Float16Tolerance)
	}
	return v.Tolerance
}

// Expected loads a reference-predictions file (the training notebook's:
// one column per model output — an integer column for int64 outputs, a
// fixed-size-list or float column for float outputs — in dataset row order)
// into an Outputs store for the given layout. A NaN or null in it is an
// error naming the row: use LoadExpected for a dataset with allow_nan.
func Expected(path string, layout []onnx.Output, rows int) (*workload.Outputs, error) {
	return LoadExpected(path, layout, rows, false)
}

// LoadExpected is Expected; with allowNaN (the dataset's allow_nan) the file
// may hold NaN (and nulls, read as NaN), which Check compares equal to NaN.
func LoadExpected(path string, layout []onnx.Output, rows int, allowNaN bool) (*workload.Outputs, error) {
	out := workload.NewOutputs(layout, rows, max(rows, 1))
	for k, l := range layout {
		t, err := datasets.Load(expectedSpec(path, l, rows))
		if err != nil {
			return nil, fmt.Errorf("reference %s: output %q: %w", path, l.Name, err)
		}
		if err := expectedShape(path, l, int64(t.Rows), rows, t.Labels != nil, t.Width); err != nil {
			return nil, err
		}
		if l.Kind == onnx.Int64 {
			copy(out.I64[k], t.Labels)
			continue
		}
		if !allowNaN {
			for i, x := range t.Data {
				if x != x {
					return nil, fmt.Errorf("reference %s: output %q row %d is NaN (or null): the expected file holds NaN, which only a dataset with allow_nan may produce", path, l.Name, i/l.Width)
				}
			}
		}
		copy(out.F32[k], t.Data)
	}
	for i := range workload.Batches(rows, max(rows, 1)) {
		out.Done(i)
	}
	return out, nil
}

// CheckExpected matches a reference-predictions file to the model's outputs
// and the dataset's rows as LoadExpected will, from the file's schema and
// row counts alone (no values read): validate refuses a file that would
// fail only after the reference pass.
func CheckExpected(path string, layout []onnx.Output, rows int) error {
	for _, l := range layout {
		r, err := datasets.Open(expectedSpec(path, l, rows))
		if err != nil {
			return fmt.Errorf("reference %s: output %q: %w", path, l.Name, err)
		}
		err = expectedShape(path, l, r.Rows(), rows, r.HasLabels(), r.Width())
		_ = r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// expectedSpec reads output l's column of a reference-predictions file.
func expectedSpec(path string, l onnx.Output, rows int) datasets.Spec {
	spec := datasets.Spec{Path: path, Limit: rows, AllowNaN: true}
	switch {
	case l.Kind == onnx.Int64:
		// The integer column read as the label, with any float column as a dummy feature.
		spec.Label = l.Name
	case l.Width == 1:
		spec.Features = []string{l.Name}
	default:
		spec.TensorColumn = l.Name
	}
	return spec
}

// expectedShape checks output l's column, of got rows (the run's limit
// applied) and width values per row, against the run's rows and the model.
func expectedShape(path string, l onnx.Output, got int64, rows int, labels bool, width int) error {
	switch {
	case got != int64(rows):
		return fmt.Errorf("reference %s has %d rows, the dataset run has %d", path, got, rows)
	case l.Kind == onnx.Int64 && !labels:
		return fmt.Errorf("reference %s: no integer column %q", path, l.Name)
	case l.Kind != onnx.Int64 && width != l.Width:
		return fmt.Errorf("reference %s: column %q has %d values per row, the model outputs %d", path, l.Name, width, l.Width)
	}
	return nil
}
