package graph

import (
	"slices"
	"testing"
)

// TestDimNames: dim_param names land in DimNames at their axis, "" where a
// dimension is fixed or unnamed; a fully fixed shape names nothing.
func TestDimNames(t *testing.T) {
	shape := pb(nil).
		msg(1, pb(nil).str(2, "batch")).
		msg(1, pb(nil).int(1, 3)).
		msg(1, pb(nil)). // neither dim_value nor dim_param
		msg(1, pb(nil).str(2, "seq"))
	x := pb(nil).str(1, "x").msg(2, pb(nil).msg(1, pb(nil).int(1, 1).msg(2, shape)))
	graph := pb(nil).str(2, "dims").
		msg(11, x).
		msg(11, valueInfo("y", 2, 3)).
		msg(12, valueInfo("z", -1, 3))
	g, err := Parse(pb(nil).int(1, 8).msg(8, pb(nil).str(1, "").int(2, 17)).msg(7, graph))
	if err != nil {
		t.Fatal(err)
	}
	in := g.Inputs[0]
	if !slices.Equal(in.Shape, []int64{-1, 3, -1, -1}) || !slices.Equal(in.DimNames, []string{"batch", "", "", "seq"}) {
		t.Errorf("x: shape %v names %q", in.Shape, in.DimNames)
	}
	if g.Inputs[1].DimNames != nil {
		t.Errorf("y: fixed shape has names %q", g.Inputs[1].DimNames)
	}
	if o := g.Outputs[0]; !slices.Equal(o.DimNames, []string{"N", ""}) {
		t.Errorf("z: names %q", o.DimNames)
	}
}
