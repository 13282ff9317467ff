package verify

import (
	"math"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/workload"
)

// deliver streams src (a whole pass) into out in batches of out.BatchSize,
// each through a window, as a streaming strategy does.
func deliver(src, out *workload.Outputs) {
	win := out.Window()
	for i := range workload.Batches(src.Rows, out.BatchSize) {
		start, n := workload.Span(i, out.BatchSize, src.Rows)
		for k, l := range src.Layout {
			w := l.Width
			if src.I64[k] != nil {
				copy(win.I64[k], src.I64[k][start*w:(start+n)*w])
			} else {
				copy(win.F32[k], src.F32[k][start*w:(start+n)*w])
			}
		}
		out.Deliver(i, start, n, win)
	}
}

// streamedReference writes ref through a Stored file, as the streaming
// reference pass does, and returns the Verifier made from it.
func streamedReference(t *testing.T, ref *workload.Outputs, bs int, tolerance float64) *Verifier {
	t.Helper()
	st, err := NewStored(t.TempDir(), layout, ref.Rows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	out := workload.NewStreamOutputs(layout, ref.Rows, bs, st)
	deliver(ref, out)
	if st.Err() != nil || out.Coverage(workload.Batches(ref.Rows, bs)) != nil {
		t.Fatal(st.Err())
	}
	v, err := New(out, "ref", tolerance)
	if err != nil || v.Stored == nil || v.Reference != nil {
		t.Fatalf("%v %+v", err, v)
	}
	return v
}

// A streaming check compares each batch with the reference read back from
// its file, by CheckRows' rules, and names the dataset row that differs;
// Check adds up a pass and requires every batch exactly once.
func TestStreamCheck(t *testing.T) {
	const rows = 23
	v := streamedReference(t, filled(rows, 5), 5, 1e-3) // written in batches of 5, read in 4s
	out := workload.NewStreamOutputs(layout, rows, 4, v.NewStream(4))
	got := filled(rows, 4)
	deliver(got, out)
	if r := v.Check(out, 6); !r.Passed() || r.RowsChecked != rows || r.MaxAbsDiff != 0 {
		t.Fatalf("identical pass: %+v", r)
	}

	out.Reset() // a new pass starts a new report
	got.I64[0][13] = 99
	got.F32[1][2*21+1] += 5e-4             // within the tolerance
	got.F32[1][2*22] = float32(math.NaN()) // NaN against a number
	deliver(got, out)
	r := v.Check(out, 6)
	if r.Passed() || r.Mismatches != 2 || r.RowsChecked != rows || !strings.Contains(r.FirstError, "row 13 output \"label\": got 99, reference 1") || r.MaxAbsDiff != math.MaxFloat64 {
		t.Fatalf("mismatches: %+v", r)
	}

	out.Reset() // a batch missed is caught by the count
	win := out.Window()
	out.Deliver(0, 0, 4, win)
	if r := v.Check(out, 6); r.Passed() || !strings.Contains(r.FirstError, "batch 1 (rows 4..7) processed 0 times") {
		t.Fatalf("missed batch: %+v", r)
	}

	// A store whose sink is not this verifier's stream is refused.
	other := streamedReference(t, filled(rows, 5), 5, 1e-3)
	out = workload.NewStreamOutputs(layout, rows, 4, other.NewStream(4))
	deliver(filled(rows, 4), out)
	if r := v.Check(out, 6); r.Passed() || !strings.Contains(r.FirstError, "not checked by this verifier") {
		t.Fatalf("foreign stream: %+v", r)
	}
	if r := v.CheckRows(filled(rows, 4), 0, rows); r.Passed() {
		t.Fatalf("CheckRows without an in-memory reference passed: %+v", r)
	}
}
