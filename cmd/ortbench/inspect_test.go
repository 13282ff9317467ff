package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx/graph"
)

// TestInspectShapeFlags: --shape's syntax, its one-line refusals, and the
// shapes inspect counts one item with.
func TestInspectShapeFlags(t *testing.T) {
	got, err := parseShapeFlags([]string{"input_ids=batch,128", "mask=2,128"})
	if err != nil {
		t.Fatal(err)
	}
	shapes := atBatch(got, 1)
	if !slices.Equal(shapes["input_ids"], []int64{1, 128}) || !slices.Equal(shapes["mask"], []int64{2, 128}) {
		t.Errorf("shapes %v", shapes)
	}
	for _, c := range []struct{ flag, want string }{
		{"input_ids", "want NAME=DIMS"},
		{"=1,2", "want NAME=DIMS"},
		{"x=", "want NAME=DIMS"},
		{"x=1,batch", `dimension 1 is "batch"`},
		{"x=batch,-3", `dimension 1 is "-3", want a positive integer`},
		{"x=batch,1.5", `dimension 1 is "1.5"`},
	} {
		if _, err := parseShapeFlags([]string{c.flag}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--shape %q: %v, want %q", c.flag, err, c.want)
		}
	}
	if _, err := parseShapeFlags([]string{"x=1", "x=2"}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("twice: %v", err)
	}

	g, err := graph.Read("onnx/graph/testdata/tiny_bert.onnx")
	if err != nil {
		t.Fatal(err)
	}
	needs := needsShape(g, nil)
	if len(needs) != 1 || needs[0] != `input "input_ids" dimension 1 ("seq") is not fixed by the model: set --shape input_ids=batch,128` {
		t.Errorf("needs %q", needs)
	}
	if needs := needsShape(g, got); len(needs) != 0 {
		t.Errorf("needs %q with the shape given", needs)
	}
	p := countPerItem(g, map[string][]string{"input_ids": {"batch", "128"}})
	if p.Error != "" || p.Items != 1 || p.MACs != 917504 || !strings.HasPrefix(p.line(), "2.02M = 2 × 917.5k MACs + 186.4k other") {
		t.Errorf("per item %+v: %s", p, p.line())
	}
}

// TestInspectJSONPerItem: -o json carries the count per item, the shapes it
// used, the dimension names and what is still needed.
func TestInspectJSONPerItem(t *testing.T) {
	model := "onnx/graph/testdata/tiny_bert.onnx"
	out, err := execute(t, newInspectCmd(), model, "--shape", "input_ids=batch,128", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Inputs []struct {
			DimNames []string `json:"dim_names"`
		}
		PerItem struct {
			Shapes map[string][]int64 `json:"shapes"`
			MACs   int64              `json:"macs"`
			FLOPs  int64              `json:"flops"`
		} `json:"flops_per_item"`
	}
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatal(err)
	}
	if in.PerItem.MACs != 917504 || in.PerItem.FLOPs != 2*917504+186368 ||
		!slices.Equal(in.PerItem.Shapes["input_ids"], []int64{1, 128}) || len(in.Inputs) != 1 || !slices.Equal(in.Inputs[0].DimNames, []string{"batch", "seq"}) {
		t.Errorf("json: %+v\n%s", in, out)
	}
	out, err = execute(t, newInspectCmd(), model, "-o", "json")
	if err != nil || !strings.Contains(out, `"needs_shape": [`) {
		t.Errorf("no needs_shape without --shape: %v", err)
	}
}
