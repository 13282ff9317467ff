package verify

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

var layout = []onnx.Output{{Name: "label", Kind: onnx.Int64, Width: 1}, {Name: "probabilities", Kind: onnx.Float32, Width: 2}}

func filled(rows, bs int) *workload.Outputs {
	o := workload.NewOutputs(layout, rows, bs)
	for r := range rows {
		o.I64[0][r] = int64(r % 3)
		o.F32[1][2*r] = float32(r) / 10
		o.F32[1][2*r+1] = 1 - float32(r)/10
	}
	for i := range workload.Batches(rows, bs) {
		o.Done(i)
	}
	return o
}

func TestIdenticalPasses(t *testing.T) {
	v := Verifier{Reference: filled(10, 4), Tolerance: 1e-6}
	r := v.Check(filled(10, 3), 4)
	if !r.Passed() || r.RowsChecked != 10 || r.MaxAbsDiff != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestLabelMismatch(t *testing.T) {
	v := Verifier{Reference: filled(10, 4), Tolerance: 1e-6}
	got := filled(10, 4)
	got.I64[0][7] = 99
	r := v.Check(got, 3)
	if r.Passed() || r.Mismatches != 1 || !strings.Contains(r.FirstError, "row 7") {
		t.Fatalf("%+v", r)
	}
}

func TestFloatTolerance(t *testing.T) {
	v := Verifier{Reference: filled(10, 4), Tolerance: 1e-3}
	got := filled(10, 4)
	got.F32[1][5] += 5e-4 // within
	if r := v.Check(got, 3); !r.Passed() || r.MaxAbsDiff < 4e-4 {
		t.Fatalf("within tolerance failed: %+v", r)
	}
	got.F32[1][9] += 0.5 // row 4
	r := v.Check(got, 3)
	if r.Passed() || r.Mismatches != 1 || !strings.Contains(r.FirstError, "row 4") || !strings.Contains(r.FirstError, "tolerance") {
		t.Fatalf("%+v", r)
	}
}

func TestCoverage(t *testing.T) {
	v := Verifier{Reference: filled(10, 4), Tolerance: 0}
	twice := filled(10, 4)
	twice.Done(1)
	if r := v.Check(twice, 3); r.Passed() || !strings.Contains(r.FirstError, "processed 2 times") {
		t.Fatalf("double-processed batch not caught: %+v", r)
	}
	missing := workload.NewOutputs(layout, 10, 4)
	missing.Done(0)
	missing.Done(2)
	if r := v.Check(missing, 3); r.Passed() || !strings.Contains(r.FirstError, "batch 1") {
		t.Fatalf("missing batch not caught: %+v", r)
	}
}

func TestNonFiniteTolerance(t *testing.T) {
	for _, tol := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1e-3} {
		if _, err := New(filled(10, 4), "ref", tol); err == nil || !strings.Contains(err.Error(), "not a finite number") {
			t.Errorf("New with tolerance %v: %v", tol, err)
		}
		v := Verifier{Reference: filled(10, 4), Tolerance: tol}
		got := filled(10, 4)
		got.F32[1][3] += 0.5
		if r := v.Check(got, 3); r.Passed() || !strings.Contains(r.FirstError, "tolerance") {
			t.Errorf("Check with tolerance %v passed: %+v", tol, r)
		}
	}
	if v, err := New(filled(10, 4), "ref", 1e-4); err != nil || v.Tolerance != 1e-4 || v.Name != "ref" {
		t.Fatalf("New: %v %+v", err, v)
	}
}

// TestNaN: NaN equals NaN; NaN against a number, or an infinite difference,
// is a mismatch whose MaxAbsDiff stays finite (results.json has no Inf).
func TestNaN(t *testing.T) {
	nan := float32(math.NaN())
	ref := filled(10, 4)
	ref.F32[1][0] = nan
	got := filled(10, 4)
	got.F32[1][0] = nan
	strict := Verifier{Reference: ref, Tolerance: 1e-6}
	if r := strict.Check(got, 3); r.Passed() || r.Mismatches != 1 || !strings.Contains(r.FirstError, `row 0 output "probabilities"[0] is NaN: a model output that is not a finite number fails verification`) {
		t.Fatalf("NaN output without allow_nan: %+v", r)
	}
	v := Verifier{Reference: ref, Tolerance: 1e-6, AllowNaN: true}
	if r := v.Check(got, 3); !r.Passed() {
		t.Fatalf("NaN vs NaN: %+v", r)
	}
	got.F32[1][4] = nan
	got.F32[1][7] = float32(math.Inf(1))
	r := v.Check(got, 3)
	if r.Passed() || r.Mismatches != 2 || math.IsInf(r.MaxAbsDiff, 0) || math.IsNaN(r.MaxAbsDiff) || !strings.Contains(r.FirstError, "row 2") {
		t.Fatalf("%+v", r)
	}
}

func writeExpected(t *testing.T, probs []float32) string {
	t.Helper()
	mem := memory.DefaultAllocator
	rows := len(probs) / 2
	lb := array.NewInt64Builder(mem)
	pb := array.NewFixedSizeListBuilder(mem, 2, arrow.PrimitiveTypes.Float32)
	for r := range rows {
		lb.Append(int64(r % 3))
		pb.Append(true)
		pb.ValueBuilder().(*array.Float32Builder).AppendValues(probs[2*r:2*r+2], nil)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "label", Type: arrow.PrimitiveTypes.Int64},
		{Name: "probabilities", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float32)},
	}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{lb.NewArray(), pb.NewArray()}, int64(rows))
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "expected.arrows")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := ipc.NewWriter(f, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExpectedNaN(t *testing.T) {
	ref := filled(10, 4)
	probs := append([]float32(nil), ref.F32[1]...)
	probs[2*6+1] = float32(math.NaN())
	path := writeExpected(t, probs)
	_, err := Expected(path, layout, 10)
	if err == nil || !strings.Contains(err.Error(), `output "probabilities" row 6 is NaN`) || strings.Contains(err.Error(), "set allow_nan to accept") {
		t.Fatalf("NaN without allow_nan: %v", err)
	}
	exp, err := LoadExpected(path, layout, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	got := filled(10, 4)
	got.F32[1][13] = float32(math.NaN())
	v := Verifier{Reference: exp, Tolerance: 1e-6, AllowNaN: true}
	if r := v.Check(got, 3); !r.Passed() {
		t.Fatalf("NaN vs NaN with allow_nan: %+v", r)
	}
	if r := v.Check(filled(10, 4), 3); r.Passed() || !strings.Contains(r.FirstError, "row 6") {
		t.Fatalf("number vs NaN passed: %+v", r)
	}
}

// A stored reference (Store: an offline run's, in an unlinked file) gives
// Check the very verdicts the in-memory one does, across chunk edges.
func TestStoredReferenceChecksLikeTheInMemoryOne(t *testing.T) {
	const rows = 2*storedChunk + 77
	mem := Verifier{Reference: filled(rows, 1000), Tolerance: 1e-3}
	file := Verifier{Reference: filled(rows, 1000), Tolerance: 1e-3}
	if err := file.Store(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if file.Reference != nil || file.Stored == nil {
		t.Fatal("Store kept the reference in memory")
	}
	same := filled(rows, 1000)
	wrong := filled(rows, 1000)
	wrong.I64[0][storedChunk] = 99          // the first row of the second chunk
	wrong.F32[1][2*(rows-1)+1] += 0.5       // the last row
	wrong.F32[1][2*(storedChunk-1)] += 4e-4 // within tolerance, at a chunk's end
	for name, got := range map[string]*workload.Outputs{"same": same, "wrong": wrong} {
		a, b := mem.Check(got, workload.Batches(rows, 1000)), file.Check(got, workload.Batches(rows, 1000))
		if a != b {
			t.Errorf("%s: in memory %+v, stored %+v", name, a, b)
		}
	}
	if r := file.Check(wrong, workload.Batches(rows, 1000)); r.Mismatches != 2 || !strings.Contains(r.FirstError, fmt.Sprintf("row %d ", storedChunk)) || r.RowsChecked != rows {
		t.Errorf("stored: %+v", r)
	}
}

// TestCheckExpected: the reference file's rows and columns are matched to
// the run from its schema, as LoadExpected would, before any value is read.
func TestCheckExpected(t *testing.T) {
	path := writeExpected(t, make([]float32, 20)) // 10 rows
	if err := CheckExpected(path, layout, 10); err != nil {
		t.Fatalf("matching file: %v", err)
	}
	if err := CheckExpected(path, layout, 8); err != nil {
		t.Fatalf("more rows than the run's are fine (limit): %v", err)
	}
	wide := []onnx.Output{layout[0], {Name: "probabilities", Kind: onnx.Float32, Width: 3}}
	for _, tc := range []struct {
		layout []onnx.Output
		rows   int
		want   string
	}{
		{layout, 12, "has 10 rows, the dataset run has 12"},
		{wide, 10, `column "probabilities" has 2 values per row, the model outputs 3`},
		{[]onnx.Output{{Name: "scores", Kind: onnx.Float32, Width: 2}}, 10, `output "scores"`},
	} {
		err := CheckExpected(path, tc.layout, tc.rows)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("got %v, want one line containing %q", err, tc.want)
		}
	}
}

// A float16 output is compared at Float16Tolerance at least: a difference
// of half a float16 ulp near 1 passes there and fails a float32 output.
func TestFloat16Tolerance(t *testing.T) {
	for _, tc := range []struct {
		dtype onnx.DType
		pass  bool
	}{{onnx.DFloat16, true}, {onnx.DFloat32, false}} {
		layout := []onnx.Output{{Name: "y", Kind: onnx.Float32, DType: tc.dtype, Width: 1}}
		ref, got := workload.NewOutputs(layout, 1, 1), workload.NewOutputs(layout, 1, 1)
		ref.F32[0][0], got.F32[0][0] = 1, 1+5e-4
		got.Done(0)
		v := Verifier{Reference: ref, Tolerance: 1e-5}
		if rep := v.Check(got, 1); rep.Passed() != tc.pass {
			t.Errorf("%s: passed %v, want %v (%s)", tc.dtype, rep.Passed(), tc.pass, rep.FirstError)
		}
	}
}
