package compare

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/opprofile"
	"github.com/ortbench/ortbench/runner/results"
)

// TestGoldenOpChanges compares results' sweep fixture with itself where
// cell 0 carries, old and new, the profiles ONNX Runtime 1.30.0 wrote of
// the small MLP with graph optimisation all and disabled (onnx/testdata):
// the fused FusedGemm on one side, MatMul and Add on the other.
func TestGoldenOpChanges(t *testing.T) {
	fixture := filepath.Join("..", "results", "testdata", "golden", "sweep.json")
	old, err := results.ReadJSON(fixture)
	if err != nil {
		t.Fatal(err)
	}
	new, err := results.ReadJSON(fixture)
	if err != nil {
		t.Fatal(err)
	}
	old.Cells[0].Profile = profileOf(t, "profile-ort1.30-mlp-all.json")
	new.Cells[0].Profile = profileOf(t, "profile-ort1.30-mlp-disabled.json")
	new.Cells[1].Profile = profileOf(t, "profile-ort1.30-mlp-disabled.json") // old has none: no op rows
	r, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	ops := r.Cells[0].Ops
	if len(ops) != TopOps || len(r.Cells[1].Ops) != 0 {
		t.Fatalf("op changes %+v / %+v", ops, r.Cells[1].Ops)
	}
	seen := map[string]OpChange{}
	for i, o := range ops {
		seen[o.Op] = o
		if d := o.NewShare - o.OldShare - o.ShareChange; d > 1e-12 || d < -1e-12 || (i > 0 && abs(o.ShareChange) > abs(ops[i-1].ShareChange)) {
			t.Errorf("op %d %+v: change not new−old, or not largest first", i, o)
		}
	}
	if f := seen["FusedGemm"]; f.Old <= 0 || f.New != 0 || f.OldShare <= 0 {
		t.Errorf("FusedGemm %+v: want time only in the optimised (old) run", f)
	}
	if m := seen["MatMul"]; m.Old != 0 || m.New <= 0 {
		t.Errorf("MatMul %+v: want time only in the unoptimised (new) run", m)
	}
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare-ops.txt", text.String())
	new.Settings.Profile = true
	if r, err := Compare(old, new); err != nil || !slices.Contains(r.Warnings, "profile: true in the new run only: no operator changes (profile both runs)") {
		t.Errorf("one side profiled: warnings %v (%v)", r.Warnings, err)
	}
	golden(t, "compare-ops.json", js.String())
}

func profileOf(t *testing.T, name string) *results.OpProfile {
	t.Helper()
	p, err := onnx.ReadProfile(filepath.Join("..", "..", "onnx", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return opprofile.Summary(p, 16)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
