package verify

import (
	"strings"
	"testing"

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
