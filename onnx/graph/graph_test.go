package graph

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// pb builds protobuf messages for tests.
type pb []byte

func (b pb) str(num protowire.Number, s string) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func (b pb) msg(num protowire.Number, m pb) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func (b pb) int(num protowire.Number, v int64) pb {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func (b pb) packed(num protowire.Number, vs ...int64) pb {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, uint64(v))
	}
	return b.msg(num, p)
}

func (b pb) floats(num protowire.Number, n int) pb {
	return b.msg(num, make([]byte, 4*n))
}

func tensor(name string, dims ...int64) pb {
	var t pb
	for _, d := range dims {
		t = t.int(1, d) // unpacked dims, as protobuf-python writes proto2
	}
	return t.int(2, 1).str(8, name)
}

func valueInfo(name string, dims ...int64) pb {
	var shape pb
	for _, d := range dims {
		if d < 0 {
			shape = shape.msg(1, pb(nil).str(2, "N"))
		} else {
			shape = shape.msg(1, pb(nil).int(1, d))
		}
	}
	tt := pb(nil).int(1, 1).msg(2, shape)
	return pb(nil).str(1, name).msg(2, pb(nil).msg(1, tt))
}

func nodeOp(op, domain string, inputs, outputs []string, attrs ...pb) pb {
	var n pb
	for _, i := range inputs {
		n = n.str(1, i)
	}
	for _, o := range outputs {
		n = n.str(2, o)
	}
	n = n.str(4, op)
	if domain != "" {
		n = n.str(7, domain)
	}
	for _, a := range attrs {
		n = n.msg(5, a)
	}
	return n
}

// testModel is MatMul [4,3] → Gemm(transB) [5,3] → Conv (unknown output) plus
// a LinearClassifier and a two-tree ensemble.
func testModel() []byte {
	graph := pb(nil).
		msg(1, nodeOp("MatMul", "", []string{"x", "W1"}, []string{"h1"})).
		msg(1, nodeOp("Gemm", "", []string{"h1", "W2", "b2"}, []string{"h2"}, pb(nil).str(1, "transB").int(3, 1))).
		msg(1, nodeOp("Relu", "", []string{"h2"}, []string{"h3"})).
		msg(1, nodeOp("Conv", "", []string{"img", "K"}, []string{"c"})).
		msg(1, nodeOp("LinearClassifier", "ai.onnx.ml", []string{"x"}, []string{"l", "p"}, pb(nil).str(1, "coefficients").floats(7, 6))).
		msg(1, nodeOp("TreeEnsembleClassifier", "ai.onnx.ml", []string{"x"}, []string{"tl", "tp"},
			pb(nil).str(1, "nodes_treeids").packed(8, 0, 0, 0, 1),
			pb(nil).str(1, "nodes_nodeids").packed(8, 0, 1, 2, 0),
			pb(nil).str(1, "nodes_truenodeids").packed(8, 1, 0, 0, 0),
			pb(nil).str(1, "nodes_falsenodeids").packed(8, 2, 0, 0, 0))).
		str(2, "test").
		msg(5, tensor("W1", 4, 3)).
		msg(5, tensor("W2", 5, 3)).
		msg(5, tensor("b2", 5)).
		msg(5, tensor("K", 8, 3, 3, 3)).
		msg(11, valueInfo("x", -1, 4)).
		msg(11, valueInfo("W1", 4, 3)). // IR < 4 style: an initializer listed as input
		msg(12, valueInfo("h3", -1, 5))
	return pb(nil).int(1, 8).str(2, "unit-test").str(3, "0.1").
		msg(8, pb(nil).str(1, "").int(2, 17)).
		msg(8, pb(nil).str(1, "ai.onnx.ml").int(2, 3)).
		msg(7, graph)
}

func TestParseGraph(t *testing.T) {
	g, err := Parse(testModel())
	if err != nil {
		t.Fatal(err)
	}
	if g.IRVersion != 8 || g.ProducerName != "unit-test" || g.ProducerVersion != "0.1" || g.Name != "test" {
		t.Errorf("header: %+v", g)
	}
	if len(g.Opsets) != 2 || g.Opsets[0] != (Opset{"", 17}) || g.Opsets[1] != (Opset{"ai.onnx.ml", 3}) {
		t.Errorf("opsets: %+v", g.Opsets)
	}
	if g.Nodes != 6 || g.OpCounts["MatMul"] != 1 || g.OpCounts["ai.onnx.ml.LinearClassifier"] != 1 {
		t.Errorf("ops: %d %v", g.Nodes, g.OpCounts)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].String() != "x: float32[N, 4]" {
		t.Errorf("inputs: %v", g.Inputs)
	}
	if len(g.Outputs) != 1 || g.Outputs[0].Name != "h3" {
		t.Errorf("outputs: %v", g.Outputs)
	}
	if len(g.Initializers) != 4 || g.Initializers[3].Name != "K" || len(g.Initializers[3].Shape) != 4 {
		t.Errorf("initializers: %+v", g.Initializers)
	}
	// 12 + 15 + 5 + 216 weights, plus 6 linear coefficients.
	if g.Parameters != 12+15+5+216+6 {
		t.Errorf("parameters = %d", g.Parameters)
	}
	// MatMul 2·4·3 + Gemm(transB) 2·3·5 + linear 2·6; Conv left out (no output shape).
	if got := g.FlopsPerRow(); got != 24+30+12 {
		t.Errorf("flops = %d, want 66", got)
	}
	if !strings.Contains(strings.Join(g.FlopNotes, ";"), "1 Conv node(s) not counted") {
		t.Errorf("notes: %v", g.FlopNotes)
	}
	tr := g.Trees
	if tr == nil || tr.Trees != 2 || tr.Nodes != 4 || tr.Leaves != 3 || tr.MaxDepth != 1 || tr.PerRow != 1 {
		t.Errorf("trees: %+v", tr)
	}
}

// Bytes per row: the input and output rows plus the weights ÷ batch; a
// size the graph does not give makes the estimate unknown with its reason.
func TestBytesPerRow(t *testing.T) {
	mlp := func(outs ...pb) []byte {
		graph := pb(nil).
			msg(1, nodeOp("MatMul", "", []string{"x", "W"}, []string{"y"})).
			msg(1, nodeOp("LinearRegressor", "ai.onnx.ml", []string{"x"}, []string{"r"},
				pb(nil).str(1, "coefficients").floats(7, 4), pb(nil).str(1, "intercepts").floats(7, 1))).
			msg(5, tensor("W", 4, 3)).
			msg(11, valueInfo("x", -1, 4))
		for _, o := range outs {
			graph = graph.msg(12, o)
		}
		return pb(nil).int(1, 8).msg(7, graph)
	}
	g, err := Parse(mlp(valueInfo("y", -1, 3)))
	if err != nil {
		t.Fatal(err)
	}
	// Weights: 12 float32 of W + 5 linear floats; row: 4 in, 3 out.
	if g.WeightBytes != 4*(12+5) || g.InputBytesPerRow != 16 || g.OutputBytesPerRow != 12 || g.BytesNote != "" {
		t.Fatalf("bytes = %d weights, %d in, %d out, note %q", g.WeightBytes, g.InputBytesPerRow, g.OutputBytesPerRow, g.BytesNote)
	}
	if b, ok := g.BytesPerRow(4); !ok || b != 16+12+68.0/4 {
		t.Errorf("BytesPerRow(4) = %g, %v", b, ok)
	}
	if _, ok := g.BytesPerRow(0); ok {
		t.Error("BytesPerRow(0) is known")
	}
	// An output whose row width is symbolic: unknown, and the note says which.
	g, err = Parse(mlp(valueInfo("y", -1, -1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.BytesPerRow(4); ok || !strings.Contains(g.BytesNote, `output "y"`) {
		t.Errorf("symbolic output: note %q", g.BytesNote)
	}
	// Tree ensembles keep their weights in attributes: unknown.
	g, err = Parse(testModel())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.BytesPerRow(4); ok || !strings.Contains(g.BytesNote, "TreeEnsembleClassifier") {
		t.Errorf("trees: note %q", g.BytesNote)
	}
}

func TestReadMalformed(t *testing.T) {
	good := testModel()
	cases := map[string][]byte{
		"empty":     {},
		"garbage":   []byte("this is not a protobuf file at all, just text\n"),
		"truncated": good[:len(good)-7],
		"no graph":  pb(nil).int(1, 8).str(2, "x"),
		"bad tag":   {0x00, 0x01},
		"huge len":  {0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "m.onnx")
			os.WriteFile(p, data, 0o644)
			_, err := Read(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestReadTrainedModels reads the project's exported models, where present.
func TestReadTrainedModels(t *testing.T) {
	paths, _ := filepath.Glob("../../training/models/*.onnx")
	if len(paths) == 0 {
		t.Skip("no models in training/models")
	}
	for _, p := range paths {
		g, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if g.Nodes == 0 || len(g.Inputs) == 0 || len(g.Outputs) == 0 || len(g.Opsets) == 0 {
			t.Errorf("%s: %+v", p, g)
		}
		base := filepath.Base(p)
		switch {
		case strings.HasPrefix(base, "mlp_") && g.FlopsPerRow() == 0:
			t.Errorf("%s: no FLOPs estimated", p)
		case (strings.HasPrefix(base, "rf_") || strings.HasPrefix(base, "hgb_")) && (g.Trees == nil || g.Trees.Trees == 0):
			t.Errorf("%s: no trees counted", p)
		}
	}
}

func TestElements(t *testing.T) {
	if elements([]int64{2, 3}) != 6 || elements(nil) != 1 || elements([]int64{-1, 3}) != 0 || elements([]int64{math.MaxInt64, 2}) != 0 {
		t.Error("elements")
	}
}

func FuzzRead(f *testing.F) {
	good := testModel()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	if data, err := os.ReadFile("../../training/models/logreg_breast_cancer.onnx"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err == nil && g == nil {
			t.Fatal("nil graph without error")
		}
		if err == nil {
			_ = g.FlopsPerRow()
		}
	})
}
