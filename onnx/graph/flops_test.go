package graph

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// ints is an ints attribute; i an int attribute; s a string one.
func attrInts(name string, vs ...int64) pb { return pb(nil).str(1, name).packed(8, vs...) }
func attrInt(name string, v int64) pb      { return pb(nil).str(1, name).int(3, v) }
func attrStr(name, v string) pb            { return pb(nil).str(1, name).str(4, v) }

// intTensor is an int64 initializer with its values.
func intTensor(name string, vs ...int64) pb {
	return pb(nil).int(1, int64(len(vs))).int(2, 7).str(8, name).packed(7, vs...)
}

// model wraps nodes, initializers and inputs/outputs as a ModelProto.
func model(opset int64, inputs []pb, inits []pb, nodes ...pb) []byte {
	var g pb
	for _, n := range nodes {
		g = g.msg(1, n)
	}
	for _, t := range inits {
		g = g.msg(5, t)
	}
	for _, in := range inputs {
		g = g.msg(11, in)
	}
	g = g.msg(12, valueInfo("y"))
	return pb(nil).int(1, 8).msg(7, g).msg(8, pb(nil).int(2, opset))
}

func mustParse(t *testing.T, data []byte) *Graph {
	t.Helper()
	g, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestHandCounts checks FlopsPerCall on small graphs counted by hand.
func TestHandCounts(t *testing.T) {
	cases := []struct {
		name        string
		data        []byte
		inputs      map[string][]int64
		shape       []int64 // of y
		macs, other int64
	}{{
		// Grouped, strided, dilated conv: out (17+2−5)/2+1 = 8; per output
		// element Cin/group·3·3 = 36 multiply-adds.
		name: "conv", inputs: map[string][]int64{"x": {1, 8, 17, 17}}, shape: []int64{1, 16, 8, 8}, macs: 16 * 8 * 8 * 36,
		data: model(13, []pb{valueInfo("x", 1, 8, -1, -1)}, []pb{tensor("w", 16, 4, 3, 3)},
			nodeOp("Conv", "", []string{"x", "w"}, []string{"y"}, attrInt("group", 2),
				attrInts("strides", 2, 2), attrInts("dilations", 2, 2), attrInts("pads", 1, 1, 1, 1))),
	}, {
		// SAME_UPPER conv then a ceil-mode 3×3/2 max pool: 10 → 10 → ceil(7/2)+1 = 5.
		name: "same+pool", inputs: map[string][]int64{"x": {2, 3, 10, 10}}, shape: []int64{2, 4, 5, 5},
		macs: 2 * 4 * 10 * 10 * 3 * 3 * 3, other: 2 * 4 * 5 * 5 * 9,
		data: model(13, []pb{valueInfo("x", -1, 3, 10, 10)}, []pb{tensor("w", 4, 3, 3, 3)},
			nodeOp("Conv", "", []string{"x", "w"}, []string{"c"}, attrStr("auto_pad", "SAME_UPPER")),
			nodeOp("MaxPool", "", []string{"c"}, []string{"y"}, attrInts("kernel_shape", 3, 3),
				attrInts("strides", 2, 2), attrInt("ceil_mode", 1))),
	}, {
		// ConvTranspose: 2·(5−1)+3 = 11; each input element meets Cout/group·3·3.
		name: "convtranspose", inputs: map[string][]int64{"x": {1, 4, 5, 5}}, shape: []int64{1, 6, 11, 11}, macs: 4 * 5 * 5 * 6 * 9,
		data: model(13, []pb{valueInfo("x", 1, 4, 5, 5)}, []pb{tensor("w", 4, 6, 3, 3)},
			nodeOp("ConvTranspose", "", []string{"x", "w"}, []string{"y"}, attrInts("strides", 2, 2))),
	}, {
		// Batched MatMul broadcasting [2,3,4,5] × [3,5,6], then a product of two activations.
		name: "matmul", inputs: map[string][]int64{"a": {2, 3, 4, 5}}, shape: []int64{2, 3, 4, 4},
		macs: 2*3*4*6*5 + 2*3*4*4*6,
		data: model(13, []pb{valueInfo("a", -1, 3, 4, 5)}, []pb{tensor("b", 3, 5, 6)},
			nodeOp("MatMul", "", []string{"a", "b"}, []string{"m"}),
			nodeOp("Transpose", "", []string{"m"}, []string{"mt"}, attrInts("perm", 0, 1, 3, 2)),
			nodeOp("MatMul", "", []string{"m", "mt"}, []string{"y"})),
	}, {
		// LSTM: seq 7 × batch 2 × 4 gates × hidden 8 × (input 10 + hidden 8).
		name: "lstm", inputs: map[string][]int64{"x": {7, 2, 10}}, shape: []int64{7, 1, 2, 8}, macs: 7 * 2 * 4 * 8 * 18,
		data: model(14, []pb{valueInfo("x", -1, -1, 10)}, []pb{tensor("w", 1, 32, 10), tensor("r", 1, 32, 8)},
			nodeOp("LSTM", "", []string{"x", "w", "r"}, []string{"y", "h", "c"}, attrInt("hidden_size", 8))),
	}, {
		// Bidirectional GRU, batch-first layout: 2 directions × 3 gates.
		name: "gru", inputs: map[string][]int64{"x": {2, 7, 10}}, shape: []int64{2, 7, 2, 8}, macs: 7 * 2 * 2 * 3 * 8 * 18,
		data: model(14, []pb{valueInfo("x", -1, -1, 10)}, []pb{tensor("w", 2, 24, 10), tensor("r", 2, 24, 8)},
			nodeOp("GRU", "", []string{"x", "w", "r"}, []string{"y", "h"}, attrInt("hidden_size", 8), attrInt("layout", 1),
				attrStr("direction", "bidirectional"))),
	}, {
		// Einsum attention scores bhid,bhjd->bhij: every index once, b·h·i·j·d.
		name: "einsum", inputs: map[string][]int64{"q": {2, 3, 5, 4}}, shape: []int64{2, 3, 5, 5}, macs: 2 * 3 * 5 * 5 * 4,
		data: model(13, []pb{valueInfo("q", -1, 3, -1, 4)}, nil,
			nodeOp("Einsum", "", []string{"q", "q"}, []string{"y"}, attrStr("equation", "bhid, bhjd -> bhij"))),
	}, {
		// Gemm with transB after a Flatten; Softmax costs 3 per element.
		name: "gemm", inputs: map[string][]int64{"x": {4, 2, 3, 5}}, shape: []int64{4, 7}, macs: 4 * 7 * 30, other: 3 * 4 * 7,
		data: model(13, []pb{valueInfo("x", -1, 2, 3, 5)}, []pb{tensor("w", 7, 30)},
			nodeOp("Flatten", "", []string{"x"}, []string{"f"}),
			nodeOp("Gemm", "", []string{"f", "w"}, []string{"g"}, attrInt("transB", 1)),
			nodeOp("Softmax", "", []string{"g"}, []string{"y"})),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := mustParse(t, c.data)
			inf, err := g.Infer(c.inputs)
			if err != nil {
				t.Fatal(err)
			}
			if got := inf.Shapes["y"]; !slices.Equal(got, c.shape) {
				t.Errorf("y: shape %v, want %v", got, c.shape)
			}
			n, err := g.FlopsPerCall(c.inputs)
			if err != nil {
				t.Fatal(err)
			}
			if n.MACs != c.macs || n.Other != c.other || n.FLOPs != 2*c.macs+c.other || len(n.Notes) > 0 {
				t.Errorf("got %+v, want %d MACs, %d other", n, c.macs, c.other)
			}
		})
	}
}

// TestTinyBERT counts testdata/tiny_bert.onnx (make_models.py) by hand
// at batch 1 and 2, sequence 128: projections, attention products of two
// activations, FFN; a reshape target folded from Shape → Gather → Concat.
func TestTinyBERT(t *testing.T) {
	g, err := Read(filepath.Join("testdata", "tiny_bert.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Inputs[0].DimNames; !slices.Equal(got, []string{"batch", "seq"}) {
		t.Errorf("dim names %q", got)
	}
	const s, h, heads, ffn = 128, 16, 2, 64
	macs := int64(4*s*h*h + 2*heads*s*s*(h/heads) + 2*s*h*ffn)
	other := int64(3*5*s*h + // LayerNormalization
		3*s*h + // bias, two residual adds
		heads*s*s*(1+3) + // Div, Softmax
		2*s*ffn + // Erf, Mul
		s*h) // ReduceMean
	for _, batch := range []int64{1, 2} {
		shapes := map[string][]int64{"input_ids": {batch, s}}
		inf, err := g.Infer(shapes)
		if err != nil {
			t.Fatal(err)
		}
		if got := inf.Shapes["q"]; !slices.Equal(got, []int64{batch, heads, s, h / heads}) {
			t.Errorf("q: %v", got)
		}
		if got := inf.Shapes["pooled"]; !slices.Equal(got, []int64{batch, h}) {
			t.Errorf("pooled: %v", got)
		}
		c, err := g.FlopsPerItem(shapes, int(batch))
		if err != nil {
			t.Fatal(err)
		}
		if c.MACs != macs || c.Other != other || len(c.Notes) > 0 || len(inf.Unknown) > 0 {
			t.Errorf("batch %d: %+v unknown %v, want %d MACs, %d other", batch, c, inf.Unknown, macs, other)
		}
	}
	// Without the sequence length the attention cannot be counted: notes say so.
	c, err := g.FlopsPerCall(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(c.Notes, "; "), "MatMul node(s) not counted: shape unknown") {
		t.Errorf("no seq: notes %q", c.Notes)
	}
}

// TestExporterShapeArithmetic: position ids from Range over a Gather of
// Shape, and an Expand whose target goes through Where(Equal(shape, −1)),
// as PyTorch exports write them, keep every shape known.
func TestExporterShapeArithmetic(t *testing.T) {
	data := model(14, []pb{valueInfo("ids", -1, -1)},
		[]pb{tensor("E", 50, 16), tensor("P", 64, 16), tensor("W", 16, 16),
			intTensor("zero", 0), intTensor("one", 1), intTensor("m1", -1), intTensor("ones", 1, 1, 1)},
		nodeOp("Shape", "", []string{"ids"}, []string{"s"}),
		nodeOp("Gather", "", []string{"s", "one"}, []string{"len"}),
		nodeOp("Range", "", []string{"zero", "len", "one"}, []string{"pos"}),
		nodeOp("Gather", "", []string{"P", "pos"}, []string{"pe"}),
		nodeOp("Gather", "", []string{"E", "ids"}, []string{"te"}),
		nodeOp("Add", "", []string{"te", "pe"}, []string{"x"}),
		nodeOp("Shape", "", []string{"x"}, []string{"xs"}),
		nodeOp("Equal", "", []string{"xs", "m1"}, []string{"eq"}),
		nodeOp("Where", "", []string{"eq", "ones", "xs"}, []string{"target"}),
		nodeOp("Expand", "", []string{"pe", "target"}, []string{"pex"}),
		nodeOp("MatMul", "", []string{"pex", "W"}, []string{"y"}))
	g := mustParse(t, data)
	shapes := map[string][]int64{"ids": {3, 10}}
	inf, err := g.Infer(shapes)
	if err != nil {
		t.Fatal(err)
	}
	if got := inf.Shapes["pos"]; !slices.Equal(got, []int64{10}) {
		t.Errorf("pos %v", got)
	}
	if got := inf.Shapes["y"]; !slices.Equal(got, []int64{3, 10, 16}) || len(inf.Unknown) > 0 {
		t.Errorf("y %v, unknown %v", got, inf.Unknown)
	}
	c, err := g.FlopsPerCall(shapes)
	if err != nil || c.MACs != 3*10*16*16 || c.Other != 3*10*16+3+3 { // Add; Equal and Where on the 3-element shape
		t.Errorf("%+v %v", c, err)
	}
}

// TestPublishedCounts checks the light models (real architectures,
// weights filled by ConstantOfShape) against published multiply-adds:
// ResNet-50 v1.5 4.09 G (torchvision), SqueezeNet 1.1 0.35 G
// (torchvision), ShuffleNet v1 1× g=4 133 M (Zhang et al. 2017, which
// leaves the first pointwise conv of stage 2 ungrouped: this export groups
// it, 112·56·56·(24−6) = 6 322 176 fewer, added back before comparing),
// VGG-19 19.63 G and DenseNet-121 2.83 G (torchvision).
// Bounds are ±3 %; the exact figures are pinned too.
func TestPublishedCounts(t *testing.T) {
	cases := []struct {
		file      string
		published float64
		exact     int64
		adjust    int64 // to the published architecture
	}{
		{"light_resnet50.onnx", 4.09e9, 4089184256, 0},
		{"light_squeezenet.onnx", 0.35e9, 349151936, 0},
		{"light_shufflenet.onnx", 133e6, 124664528, 6322176},
		{"light_vgg19.onnx", 19.63e9, 19632062464, 0},
		{"light_densenet121.onnx", 2.83e9, 2834161664, 0},
	}
	for _, c := range cases {
		g, err := Read(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		n, err := g.FlopsPerItem(nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(n.MACs+c.adjust)/c.published-1) > 0.03 || n.MACs != c.exact || len(n.Notes) > 0 {
			t.Errorf("%s: %d MACs (%+v), published %.4g", c.file, n.MACs, n.Notes, c.published)
		}
		if n.FLOPs <= 2*n.MACs {
			t.Errorf("%s: FLOPs %d leave out the element-wise ops", c.file, n.FLOPs)
		}
	}
}

// TestInferErrors: shapes that contradict the model are refused, one line each.
func TestInferErrors(t *testing.T) {
	g, err := Read(filepath.Join("testdata", "tiny_bert.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for shapes, want := range map[*map[string][]int64]string{
		{"ids": {1, 2}}:             `shape for input "ids": the model has no such input (it has input_ids)`,
		{"input_ids": {1}}:          `shape for input "input_ids": 1 dimension(s) given, the model's input has 2`,
		{"input_ids": {1, 0}}:       `shape for input "input_ids": dimension 1 is 0, want 1…1099511627776`,
		{"input_ids": {1, 1 << 50}}: `dimension 1 is 1125899906842624`,
	} {
		_, err := g.FlopsPerCall(*shapes)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %q", *shapes, err, want)
		}
	}
	r, err := Read(filepath.Join("testdata", "light_resnet50.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Infer(map[string][]int64{"gpu_0/data_0": {1, 3, 256, 256}}); err == nil ||
		!strings.Contains(err.Error(), "dimension 2 is 256, the model fixes it at 224") {
		t.Errorf("fixed dim: %v", err)
	}
}

// TestInferHostile: unknown ops, absurd attributes and dims leave shapes
// unknown and counted in notes, without a panic or a huge allocation.
func TestInferHostile(t *testing.T) {
	huge := int64(math.MaxInt64)
	data := model(13, []pb{valueInfo("x", 1, 3, 8, 8)},
		[]pb{tensor("w", 4, 3, 3, 3), intTensor("big", huge, huge), intTensor("neg", -5, 2)},
		nodeOp("Conv", "", []string{"x", "w"}, []string{"a"}, attrInts("strides", huge, huge)),
		nodeOp("Frobnicate", "", []string{"x"}, []string{"b"}),
		nodeOp("Relu", "", []string{"b"}, []string{"c"}),
		nodeOp("ConstantOfShape", "", []string{"big"}, []string{"d"}),
		nodeOp("Reshape", "", []string{"x", "neg"}, []string{"e"}),
		nodeOp("Pad", "", []string{"x"}, []string{"f"}, attrInts("pads", 0, 0, huge, huge, 0, 0, huge, huge)),
		nodeOp("Tile", "", []string{"x", "big"}, []string{"t"}),
		nodeOp("MatMul", "", []string{"d", "d"}, []string{"z"}),
	)
	g := mustParse(t, data)
	inf, err := g.Infer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c", "e", "f", "t", "z"} {
		if known(inf.Shapes[name]) {
			t.Errorf("%s: shape %v from hostile input", name, inf.Shapes[name])
		}
	}
	c, err := g.FlopsPerCall(nil)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(c.Notes, "; ")
	for _, want := range []string{"1 Frobnicate node(s) not counted: operator not known", "1 Conv node(s) not counted: shape unknown"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
}

// TestTabularUnchanged: on an MLP the count agrees with the tabular
// estimate (Graph.Flops, what runner/compute.go reads), which is unchanged.
func TestTabularUnchanged(t *testing.T) {
	g := mustParse(t, model(17, []pb{valueInfo("x", -1, 4)}, []pb{tensor("W1", 4, 3), tensor("W2", 5, 3)},
		nodeOp("MatMul", "", []string{"x", "W1"}, []string{"h1"}),
		nodeOp("Gemm", "", []string{"h1", "W2"}, []string{"y"}, attrInt("transB", 1))))
	c, err := g.FlopsPerItem(map[string][]int64{"x": {8, 4}}, 8)
	if err != nil {
		t.Fatal(err)
	}
	if g.Flops != 2*(4*3+3*5) || c.FLOPs != g.Flops {
		t.Errorf("Flops %d, FlopsPerItem %+v", g.Flops, c)
	}
}

// FuzzFlops: shape inference and counting on mutated models never panic.
func FuzzFlops(f *testing.F) {
	for _, name := range []string{"tiny_bert.onnx", "light_squeezenet.onnx"} {
		if data, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(data)
		}
	}
	f.Add(model(13, []pb{valueInfo("x", 1, 8, -1, -1)}, []pb{tensor("w", 16, 4, 3, 3), intTensor("s", 0, -1)},
		nodeOp("Conv", "", []string{"x", "w"}, []string{"c"}, attrInt("group", 2), attrInts("strides", 2, 2)),
		nodeOp("Reshape", "", []string{"c", "s"}, []string{"r"}),
		nodeOp("MatMul", "", []string{"r", "r"}, []string{"y"})))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			return
		}
		shapes := map[string][]int64{}
		for _, in := range g.Inputs {
			if d := g.net.declared[in.Name]; d != nil {
				s := slices.Clone(d)
				for i := range s {
					s[i] = max(1, min(s[i], 64))
				}
				shapes[in.Name] = s
			}
		}
		if c, err := g.FlopsPerCall(shapes); err == nil && (c.FLOPs < 0 || c.MACs < 0 || c.Other < 0) {
			t.Errorf("negative count %+v", c)
		}
		_, _ = g.FlopsPerItem(nil, 3)
	})
}

// TestEveryOpHostile runs every operator with a rule on inputs of every
// rank up to 4 and attributes and constant inputs at extreme values: no
// panic, no negative count.
func TestEveryOpHostile(t *testing.T) {
	ops := []string{"Conv", "ConvTranspose", "QLinearConv", "MaxPool", "AveragePool", "GlobalAveragePool",
		"MatMul", "Gemm", "LSTM", "GRU", "RNN", "Constant", "ConstantOfShape", "Shape", "Size", "Reshape",
		"Flatten", "Squeeze", "Unsqueeze", "Transpose", "Expand", "Tile", "Concat", "Split", "Gather", "Slice",
		"Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "TopK", "ArgMax", "ReduceMean", "Add",
		"Where", "Softmax", "LayerNormalization", "BatchNormalization", "Einsum", "Range", "Equal"}
	extremes := []int64{math.MinInt64, -3, -1, 0, 1, 2, 1 << 41, math.MaxInt64}
	attrs := []string{"axis", "axes", "perm", "kernel_shape", "strides", "pads", "dilations", "group", "split",
		"keepdims", "blocksize", "hidden_size", "layout", "k", "start", "end", "output_padding", "transA", "transB"}
	for _, op := range ops {
		for rank := 0; rank <= 4; rank++ {
			for _, e := range extremes {
				dims := slices.Repeat([]int64{3}, rank)
				var as []pb
				for _, a := range attrs {
					if len(a)%2 == 0 {
						as = append(as, attrInts(a, e, e, e, e))
					} else {
						as = append(as, attrInt(a, e))
					}
				}
				data := model(13, []pb{valueInfo("x", dims...)}, []pb{intTensor("c", e, e, e, e), intTensor("one", e)},
					nodeOp(op, "", []string{"x", "c", "one", "c", "one"}, []string{"y", "y2", "y3"}, as...),
					nodeOp(op, "", []string{"y", "x", "c"}, []string{"z"}))
				g := mustParse(t, data)
				c, err := g.FlopsPerCall(nil)
				if err != nil || c.FLOPs < 0 || c.MACs < 0 {
					t.Errorf("%s rank %d at %d: %+v %v", op, rank, e, c, err)
				}
			}
		}
	}
}

// TestTrainedModels: on the scikit-learn models the count per item agrees
// with the tabular FLOPs per row, and trees are named, not counted.
func TestTrainedModels(t *testing.T) {
	for _, c := range []struct {
		file, note string
	}{
		{"logreg_breast_cancer.onnx", ""},
		{"mlp_large_digits.onnx", "ArrayFeatureExtractor node(s) not counted"},
		{"rf_digits.onnx", "tree ensemble(s) not counted"},
	} {
		path := filepath.Join("..", "..", "training", "models", c.file)
		if _, err := os.Stat(path); err != nil {
			t.Skip("no trained model:", err)
		}
		g, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := g.FlopsPerItem(map[string][]int64{"input": {16, g.Inputs[0].Shape[1]}}, 16)
		if err != nil {
			t.Fatal(err)
		}
		if 2*n.MACs != g.Flops || (c.note != "" && !strings.Contains(strings.Join(n.Notes, "; "), c.note)) {
			t.Errorf("%s: %+v, FLOPs per row %d", c.file, n, g.Flops)
		}
	}
}

// TestZooModels counts the real exports `make zoo` writes to models/ (not
// committed; skipped without them): every node counted, and the
// transformer (4 layers, hidden 256, FFN 1024, training/transformer.py)
// at sequence 128 equal to its hand count, 4·(4·S·H² + 2·S²·H + 2·S·H·F)
// plus the pooler's H².
func TestZooModels(t *testing.T) {
	const s, h, f = 128, 256, 1024
	cases := []struct {
		file   string
		shapes map[string][]int64
		macs   int64 // 0: not pinned
	}{
		{"transformer.onnx", map[string][]int64{"input_ids": {1, s}, "attention_mask": {1, s}}, 4*(4*s*h*h+2*s*s*h+2*s*h*f) + h*h},
		{"magika_standard_v3_3.onnx", map[string][]int64{"bytes": {1, 2048}}, 0},
		{"ppocrv4_rec.onnx", map[string][]int64{"x": {1, 3, 48, 320}}, 0},
		{"ppocr_mobile_v2_cls.onnx", map[string][]int64{"x": {1, 3, 48, 192}}, 0},
		{"light_resnet50_batched.onnx", map[string][]int64{"gpu_0/data_0": {4, 3, 224, 224}}, 4 * 4089184256},
	}
	for _, c := range cases {
		path := filepath.Join("..", "..", "models", c.file)
		if _, err := os.Stat(path); err != nil {
			t.Skip("no zoo (make zoo):", err)
		}
		g, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := g.FlopsPerCall(c.shapes)
		if err != nil || len(n.Notes) > 0 || n.MACs <= 0 || (c.macs > 0 && n.MACs != c.macs) {
			t.Errorf("%s: %+v %v, want %d MACs", c.file, n, err, c.macs)
		}
	}
}

// attrFloats is a floats attribute, packed.
func attrFloats(name string, vs ...float32) pb {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed32(b, math.Float32bits(v))
	}
	return pb(nil).str(1, name).msg(7, b)
}

// floatTensor is a float32 initializer with its values (packed float_data).
func floatTensor(name string, vs ...float32) pb {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendFixed32(b, math.Float32bits(v))
	}
	return pb(nil).int(1, int64(len(vs))).int(2, 1).str(8, name).msg(4, b)
}

// TestShapeRules checks the data-movement ops' output shapes, one node
// each on x [2, 3, 4, 5] (opset 13 unless said).
func TestShapeRules(t *testing.T) {
	x := []string{"x"}
	cases := []struct {
		name  string
		opset int64
		inits []pb
		node  pb
		want  []int64
	}{
		{"resize scales", 13, []pb{floatTensor("sc", 1, 1, 2, 1.5)}, nodeOp("Resize", "", []string{"x", "", "sc"}, []string{"y"}), []int64{2, 3, 8, 7}},
		{"resize sizes", 13, []pb{intTensor("sz", 2, 3, 9, 9)}, nodeOp("Resize", "", []string{"x", "", "", "sz"}, []string{"y"}), []int64{2, 3, 9, 9}},
		{"upsample attr", 7, nil, nodeOp("Upsample", "", x, []string{"y"}, attrFloats("scales", 1, 1, 2, 2)), []int64{2, 3, 8, 10}},
		{"slice negative step", 13, []pb{intTensor("st", -1), intTensor("en", -100), intTensor("ax", 3), intTensor("sp", -2)},
			nodeOp("Slice", "", []string{"x", "st", "en", "ax", "sp"}, []string{"y"}), []int64{2, 3, 4, 3}},
		{"slice clamp", 13, []pb{intTensor("st", 1, 0), intTensor("en", math.MaxInt64, 2), intTensor("ax", 1, -1)},
			nodeOp("Slice", "", []string{"x", "st", "en", "ax"}, []string{"y"}), []int64{2, 2, 4, 2}},
		{"slice opset 9 attrs", 9, nil, nodeOp("Slice", "", x, []string{"y"}, attrInts("starts", 1), attrInts("ends", 3), attrInts("axes", 2)), []int64{2, 3, 2, 5}},
		{"split sizes", 13, []pb{intTensor("s", 1, 4)}, nodeOp("Split", "", []string{"x", "s"}, []string{"a", "y"}, attrInt("axis", 3)), []int64{2, 3, 4, 4}},
		{"split equal", 13, nil, nodeOp("Split", "", x, []string{"a", "y"}, attrInt("axis", 0)), []int64{1, 3, 4, 5}},
		{"squeeze a dimension of 2", 13, []pb{intTensor("ax", 0)}, nodeOp("Squeeze", "", []string{"x", "ax"}, []string{"y"}), nil},
		{"squeeze no axes", 13, nil, nodeOp("Squeeze", "", x, []string{"y"}), []int64{2, 3, 4, 5}},
		{"unsqueeze attr", 11, nil, nodeOp("Unsqueeze", "", x, []string{"y"}, attrInts("axes", 0, -1)), []int64{1, 2, 3, 4, 5, 1}},
		{"unsqueeze input", 13, []pb{intTensor("ax", 2)}, nodeOp("Unsqueeze", "", []string{"x", "ax"}, []string{"y"}), []int64{2, 3, 1, 4, 5}},
		{"pad attr", 2, nil, nodeOp("Pad", "", x, []string{"y"}, attrInts("pads", 0, 0, 1, 2, 0, 0, 1, 0)), []int64{2, 3, 6, 7}},
		{"pad input", 13, []pb{intTensor("p", 0, 1, 0, 0, 0, 1, 0, 3)}, nodeOp("Pad", "", []string{"x", "p"}, []string{"y"}), []int64{2, 5, 4, 8}},
		{"topk", 13, []pb{intTensor("k", 2)}, nodeOp("TopK", "", []string{"x", "k"}, []string{"y", "i"}), []int64{2, 3, 4, 2}},
		{"reducemean keepdims", 13, nil, nodeOp("ReduceMean", "", x, []string{"y"}, attrInts("axes", 1, -1)), []int64{2, 1, 4, 1}},
		{"reducesum axes input", 13, []pb{intTensor("ax", 1)}, nodeOp("ReduceSum", "", []string{"x", "ax"}, []string{"y"}, attrInt("keepdims", 0)), []int64{2, 4, 5}},
		{"flatten axis", 13, nil, nodeOp("Flatten", "", x, []string{"y"}, attrInt("axis", 2)), []int64{6, 20}},
		{"transpose default", 13, nil, nodeOp("Transpose", "", x, []string{"y"}), []int64{5, 4, 3, 2}},
		{"gather axis 1", 13, []pb{intTensor("i", 0, 2)}, nodeOp("Gather", "", []string{"x", "i"}, []string{"y"}, attrInt("axis", 1)), []int64{2, 2, 4, 5}},
		{"expand", 13, []pb{intTensor("s", 7, 1, 1, 1, 1)}, nodeOp("Expand", "", []string{"x", "s"}, []string{"y"}), []int64{7, 2, 3, 4, 5}},
		{"tile", 13, []pb{intTensor("r", 1, 2, 1, 3)}, nodeOp("Tile", "", []string{"x", "r"}, []string{"y"}), []int64{2, 6, 4, 15}},
		{"concat", 13, nil, nodeOp("Concat", "", []string{"x", "x"}, []string{"y"}, attrInt("axis", -2)), []int64{2, 3, 8, 5}},
		{"reshape 0 and -1", 13, []pb{intTensor("s", 0, -1, 5)}, nodeOp("Reshape", "", []string{"x", "s"}, []string{"y"}), []int64{2, 12, 5}},
		{"space to depth", 13, nil, nodeOp("SpaceToDepth", "", []string{"x"}, []string{"y"}, attrInt("blocksize", 2)), []int64{2, 12, 2, 2}},
		{"avgpool valid", 13, nil, nodeOp("AveragePool", "", x, []string{"y"}, attrInts("kernel_shape", 2, 2), attrStr("auto_pad", "VALID")), []int64{2, 3, 3, 4}},
		{"global pool", 13, nil, nodeOp("GlobalMaxPool", "", x, []string{"y"}), []int64{2, 3, 1, 1}},
		{"matmul 1-D", 13, []pb{tensor("v", 5)}, nodeOp("MatMul", "", []string{"x", "v"}, []string{"y"}), []int64{2, 3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := mustParse(t, model(c.opset, []pb{valueInfo("x", 2, 3, 4, 5)}, c.inits, c.node))
			inf, err := g.Infer(nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := inf.Shapes["y"]; !slices.Equal(got, c.want) {
				t.Errorf("y: %v, want %v", got, c.want)
			}
		})
	}
}
