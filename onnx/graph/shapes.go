package graph

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Inference is what Infer learns: the shape of every value it could tell,
// and the nodes whose outputs it could not.
type Inference struct {
	Shapes  map[string][]int64 // value → shape, -1 where a dimension is unknown
	Unknown map[string]int     // op type → nodes with an output of unknown shape
	Guesses int                // Reshapes to a rank-2 shape of unknown values, taken as a flatten
}

// maxDim bounds every dimension Infer computes: larger ones (from a
// hostile file) become unknown, so no arithmetic on them can overflow.
const maxDim = 1 << 40

// Infer propagates shapes through the graph from the inputs' shapes: those
// given, else the declared ones (-1 where dynamic). It never panics; a
// node it cannot follow leaves its outputs unknown and is counted in
// Unknown. It errs only on inputs that contradict the model.
func (g *Graph) Infer(inputs map[string][]int64) (*Inference, error) {
	in, err := g.infer(inputs)
	if err != nil {
		return nil, err
	}
	inf := &Inference{Shapes: map[string][]int64{}, Unknown: in.unknown, Guesses: in.guesses}
	for name, v := range in.vals {
		if v.shape != nil {
			inf.Shapes[name] = v.shape
		}
	}
	return inf, nil
}

// inferer holds the values as nodes are visited in file order (ONNX
// requires a topological order).
type inferer struct {
	vals    map[string]value
	unknown map[string]int
	guesses int
	opset   int64
}

func (g *Graph) infer(inputs map[string][]int64) (*inferer, error) {
	if g.net == nil {
		return nil, errors.New("the graph was not read for shape inference")
	}
	if err := g.checkInputs(inputs); err != nil {
		return nil, err
	}
	in := &inferer{vals: map[string]value{}, unknown: map[string]int{}, opset: g.net.opset}
	for name, c := range g.net.consts {
		in.vals[name] = c
	}
	for _, t := range g.Inputs {
		shape := inputs[t.Name]
		if shape == nil {
			shape = g.net.declared[t.Name]
		}
		in.vals[t.Name] = value{shape: slices.Clone(shape)}
	}
	for _, n := range g.net.nodes {
		outs := in.node(n)
		unknown := false
		for i, name := range n.out {
			var v value
			if i < len(outs) {
				v = outs[i]
			}
			v.shape = clean(v.shape)
			if v.shape == nil || slices.Contains(v.shape, -1) {
				if d := g.net.declared[name]; d != nil && (v.shape == nil || len(d) == len(v.shape)) {
					v.shape = merge(v.shape, d)
				}
			}
			if name != "" {
				unknown = unknown || !known(v.shape)
				in.vals[name] = v
			}
		}
		if unknown {
			in.unknown[n.op]++
		}
	}
	return in, nil
}

// checkInputs refuses shapes for no input, of the wrong rank, with a
// dimension below 1 or too large, or that contradict a fixed dimension.
func (g *Graph) checkInputs(inputs map[string][]int64) error {
	names := make([]string, 0, len(inputs))
	for name := range inputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		shape := inputs[name]
		i := slices.IndexFunc(g.Inputs, func(t TensorInfo) bool { return t.Name == name })
		if i < 0 {
			have := make([]string, len(g.Inputs))
			for j, t := range g.Inputs {
				have[j] = t.Name
			}
			return fmt.Errorf("shape for input %q: the model has no such input (it has %s)", name, strings.Join(have, ", "))
		}
		declared := g.net.declared[name]
		if declared != nil && len(declared) != len(shape) {
			return fmt.Errorf("shape for input %q: %d dimension(s) given, the model's input has %d", name, len(shape), len(declared))
		}
		for axis, d := range shape {
			if d < 1 || d > maxDim {
				return fmt.Errorf("shape for input %q: dimension %d is %d, want 1…%d", name, axis, d, int64(maxDim))
			}
			if declared != nil && declared[axis] >= 0 && declared[axis] != d {
				return fmt.Errorf("shape for input %q: dimension %d is %d, the model fixes it at %d", name, axis, d, declared[axis])
			}
		}
	}
	return nil
}

// clean makes every out-of-range dimension unknown.
func clean(shape []int64) []int64 {
	for i, d := range shape {
		if d < 0 || d > maxDim {
			shape[i] = -1
		}
	}
	return shape
}

// merge fills a's unknown dimensions from b (same rank, or a unknown).
func merge(a, b []int64) []int64 {
	if a == nil {
		return clean(slices.Clone(b))
	}
	out := slices.Clone(a)
	for i := range out {
		if out[i] < 0 && b[i] >= 0 && b[i] <= maxDim {
			out[i] = b[i]
		}
	}
	return out
}

func (in *inferer) get(n netNode, i int) value {
	if i >= len(n.in) || n.in[i] == "" {
		return value{}
	}
	return in.vals[n.in[i]]
}

// has reports whether input i is present (optional inputs may be "").
func has(n netNode, i int) bool { return i < len(n.in) && n.in[i] != "" }

// elementwise lists the ops whose output has their (broadcast) inputs' shape.
var elementwise = map[string]bool{
	"Relu": true, "LeakyRelu": true, "PRelu": true, "Sigmoid": true, "Tanh": true, "Clip": true, "Gelu": true,
	"Erf": true, "Exp": true, "Log": true, "Sqrt": true, "Neg": true, "Abs": true, "Reciprocal": true,
	"Softplus": true, "Softsign": true, "HardSigmoid": true, "HardSwish": true, "Elu": true, "Selu": true,
	"Celu": true, "Mish": true, "Not": true, "Sign": true, "Floor": true, "Ceil": true, "Round": true,
	"Cos": true, "Sin": true, "IsNaN": true, "IsInf": true, "Shrink": true, "ThresholdedRelu": true,
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "Max": true, "Min": true, "Sum": true,
	"Mean": true, "Equal": true, "Less": true, "Greater": true, "LessOrEqual": true, "GreaterOrEqual": true,
	"And": true, "Or": true, "Xor": true, "Mod": true, "Where": true, "BitShift": true,
	"Scaler": true, "Normalizer": true, "Binarizer": true, "Imputer": true, // ai.onnx.ml, one input
}

// passThrough lists the ops whose first output has their first input's shape.
var passThrough = map[string]bool{
	"Identity": true, "Dropout": true, "Cast": true, "CastLike": true, "Softmax": true, "LogSoftmax": true,
	"Hardmax": true, "LRN": true, "BatchNormalization": true, "InstanceNormalization": true,
	"LayerNormalization": true, "GroupNormalization": true, "QuantizeLinear": true, "DequantizeLinear": true,
	"CumSum": true, "Trilu": true, "MeanVarianceNormalization": true, "SkipLayerNormalization": true,
	"FastGelu": true, "BiasGelu": true, "QuickGelu": true,
}

// node returns n's outputs. Ops it does not know give nothing.
func (in *inferer) node(n netNode) []value {
	x := in.get(n, 0)
	switch {
	case elementwise[n.op]:
		return []value{in.broadcastAll(n)}
	case passThrough[n.op]:
		v := value{shape: slices.Clone(x.shape)}
		if n.op == "Identity" || n.op == "Cast" {
			v.ints, v.floats = x.ints, x.floats
		}
		return []value{v, {shape: slices.Clone(x.shape)}}
	}
	switch n.op {
	case "Conv", "ConvInteger", "QLinearConv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool",
		"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
		return in.spatial(n)
	case "MatMul", "MatMulInteger", "Gemm":
		return []value{in.matmul(n)}
	case "LSTM", "GRU", "RNN":
		return in.recurrent(n)
	case "Einsum":
		out, _, ok := in.einsum(n)
		if !ok {
			return nil
		}
		return []value{{shape: out}}
	case "Constant", "ConstantOfShape", "Shape", "Size", "Range":
		return []value{in.constant(n)}
	case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Expand", "Tile":
		return []value{in.reshape(n)}
	case "Concat", "Split", "Gather", "Slice", "Pad":
		return in.gatherLike(n)
	case "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "TopK", "ArgMax", "ArgMin":
		return in.resize(n)
	}
	if strings.HasPrefix(n.op, "Reduce") {
		return []value{in.reduce(n)}
	}
	return nil
}

// broadcast is numpy's rule for two shapes; nil when they do not broadcast.
func broadcast(a, b []int64) []int64 {
	if a == nil || b == nil {
		return nil
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	out := slices.Clone(a)
	off := len(a) - len(b)
	for i, d := range b {
		o := out[off+i]
		switch {
		case o == d || d == 1:
		case o == 1:
			out[off+i] = d
		case o < 0 || d < 0:
			out[off+i] = max(o, d, -1)
			if o < 0 && d < 0 {
				out[off+i] = -1
			}
		default:
			return nil
		}
	}
	return out
}

// broadcastAll shapes an elementwise node, folding small integer
// arithmetic (shape computations: Mul of Gather(Shape) by a constant).
func (in *inferer) broadcastAll(n netNode) value {
	var shape []int64
	for i := range n.in {
		v := in.get(n, i)
		if i == 0 {
			shape = slices.Clone(v.shape)
			continue
		}
		if !has(n, i) {
			continue
		}
		shape = broadcast(shape, v.shape)
	}
	out := value{shape: shape}
	if len(shape) <= 1 {
		out.ints = in.foldInts(n)
	}
	return out
}

// foldInts computes a 1-D or scalar integer element-wise node whose
// inputs are constants: the arithmetic of reshape targets, and the
// Where(Equal(shape, -1), …) that exporters put before Expand.
func (in *inferer) foldInts(n netNode) []int64 {
	var args [][]int64
	size := 0
	for i := range n.in {
		v := in.get(n, i).ints
		if v == nil {
			return nil
		}
		args, size = append(args, v), max(size, len(v))
	}
	want := map[string]int{"Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Equal": 2, "Where": 3}[n.op]
	if want == 0 || len(args) != want {
		return nil
	}
	at := func(v []int64, i int) (int64, bool) {
		if len(v) == 1 {
			return v[0], true
		}
		return v[min(i, len(v)-1)], len(v) == size
	}
	out := make([]int64, size)
	for i := range out {
		x, ok1 := at(args[0], i)
		y, ok2 := at(args[1], i)
		if !ok1 || !ok2 || (n.op == "Div" && y == 0) {
			return nil
		}
		switch n.op {
		case "Add":
			out[i] = x + y
		case "Sub":
			out[i] = x - y
		case "Mul":
			out[i] = x * y
		case "Div":
			out[i] = x / y
		case "Equal":
			out[i] = 0
			if x == y {
				out[i] = 1
			}
		case "Where":
			z, ok := at(args[2], i)
			if !ok {
				return nil
			}
			out[i] = z
			if x != 0 {
				out[i] = y
			}
		}
	}
	return out
}

// attrDims is an ints attribute of length want (padded with def when
// absent), with every value in ±maxDim; ok is false otherwise.
func attrDims(n netNode, name string, want int, def int64) ([]int64, bool) {
	v, found := n.lists[name]
	if !found {
		v = slices.Repeat([]int64{def}, want)
	}
	if len(v) != want {
		return nil, false
	}
	for _, d := range v {
		if d < -maxDim || d > maxDim {
			return nil, false
		}
	}
	return v, true
}

// spatial shapes convolutions and pooling over the axes after N and C.
func (in *inferer) spatial(n netNode) []value {
	x, w := in.get(n, 0), in.get(n, 1)
	if n.op == "QLinearConv" {
		w = in.get(n, 3)
	}
	if len(x.shape) < 3 {
		return nil
	}
	k := len(x.shape) - 2
	out := slices.Clone(x.shape)
	if strings.HasPrefix(n.op, "Global") {
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		return []value{{shape: out}}
	}
	kernel, ok := attrDims(n, "kernel_shape", k, 0)
	conv := strings.Contains(n.op, "Conv")
	if conv {
		if len(w.shape) != k+2 {
			return nil
		}
		if _, found := n.lists["kernel_shape"]; !found {
			kernel, ok = w.shape[2:], true
		}
		out[1] = w.shape[0]
		if n.op == "ConvTranspose" {
			out[1] = w.shape[1] * max(n.ints["group"], 1)
		}
	}
	strides, ok2 := attrDims(n, "strides", k, 1)
	dil, ok3 := attrDims(n, "dilations", k, 1)
	pads, ok4 := attrDims(n, "pads", 2*k, 0)
	if !ok || !ok2 || !ok3 || !ok4 {
		return nil
	}
	outPad, ok := attrDims(n, "output_padding", k, 0)
	if !ok {
		return nil
	}
	for i := 0; i < k; i++ {
		pad := pads[i] + pads[k+i]
		if n.op == "ConvTranspose" {
			pad -= outPad[i] // output = stride·(in−1) + output_padding + span − pads
		}
		out[2+i] = spatialDim(n, x.shape[2+i], kernel[i], strides[i], dil[i], pad)
	}
	if shape, found := n.lists["output_shape"]; found && len(shape) == k && n.op == "ConvTranspose" {
		copy(out[2:], shape)
	}
	return []value{{shape: out}, {shape: slices.Clone(out)}}
}

// spatialDim is one output axis of a convolution or pooling window.
func spatialDim(n netNode, in, kernel, stride, dil, pad int64) int64 {
	if in < 0 || kernel < 1 || stride < 1 || dil < 1 {
		return -1
	}
	span := (kernel-1)*dil + 1
	autoPad := n.strs["auto_pad"]
	if n.op == "ConvTranspose" {
		if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
			return in * stride
		}
		return stride*(in-1) + span - pad
	}
	switch autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		return (in + stride - 1) / stride
	case "VALID":
		return (in - span + stride) / stride
	}
	num := in + pad - span
	if num < 0 {
		return -1
	}
	if n.ints["ceil_mode"] != 0 {
		return (num+stride-1)/stride + 1
	}
	return num/stride + 1
}

// matmul shapes MatMul (numpy's batched rule) and Gemm.
func (in *inferer) matmul(n netNode) value {
	a, b := in.get(n, 0).shape, in.get(n, 1).shape
	if a == nil || b == nil || len(a) == 0 || len(b) == 0 {
		return value{}
	}
	if n.op == "Gemm" {
		if len(a) != 2 || len(b) != 2 {
			return value{}
		}
		m, nn := a[0], b[1]
		if n.ints["transA"] != 0 {
			m = a[1]
		}
		if n.ints["transB"] != 0 {
			nn = b[0]
		}
		return value{shape: []int64{m, nn}}
	}
	a1, b1 := len(a) == 1, len(b) == 1
	if a1 {
		a = []int64{1, a[0]}
	}
	if b1 {
		b = []int64{b[0], 1}
	}
	batch := broadcast(a[:len(a)-2], b[:len(b)-2])
	if batch == nil {
		return value{}
	}
	out := append(batch, a[len(a)-2], b[len(b)-1])
	if a1 {
		out = slices.Delete(out, len(out)-2, len(out)-1)
	}
	if b1 {
		out = out[:len(out)-1]
	}
	return value{shape: out}
}

// recurrent shapes LSTM, GRU and RNN: Y, Y_h and (LSTM) Y_c.
func (in *inferer) recurrent(n netNode) []value {
	x, w := in.get(n, 0).shape, in.get(n, 1).shape
	if len(x) != 3 || len(w) != 3 {
		return nil
	}
	hidden := n.ints["hidden_size"]
	if hidden <= 0 {
		hidden = w[1] / gates(n.op)
	}
	dirs := w[0]
	seq, batch := x[0], x[1]
	if n.ints["layout"] != 0 {
		seq, batch = batch, seq
		state := value{shape: []int64{batch, dirs, hidden}}
		return []value{{shape: []int64{batch, seq, dirs, hidden}}, state, {shape: slices.Clone(state.shape)}}
	}
	state := value{shape: []int64{dirs, batch, hidden}}
	return []value{{shape: []int64{seq, dirs, batch, hidden}}, state, {shape: slices.Clone(state.shape)}}
}

// gates is the weight blocks per hidden unit of a recurrent op.
func gates(op string) int64 {
	switch op {
	case "LSTM":
		return 4
	case "GRU":
		return 3
	}
	return 1
}

// einsum reads an Einsum equation without ellipses: the output shape, and
// the product of every index's size (the multiplications of a
// two-operand contraction).
func (in *inferer) einsum(n netNode) (out []int64, all int64, ok bool) {
	eq := strings.ReplaceAll(n.strs["equation"], " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if strings.Contains(eq, ".") || len(terms) != len(n.in) {
		return nil, 0, false
	}
	size := map[rune]int64{}
	seen := map[rune]int{}
	for i, term := range terms {
		shape := in.get(n, i).shape
		if len(shape) != len([]rune(term)) {
			return nil, 0, false
		}
		for j, r := range term {
			if d, found := size[r]; found && d != shape[j] && d != 1 && shape[j] != 1 {
				return nil, 0, false
			}
			size[r] = max(size[r], shape[j])
			seen[r]++
		}
	}
	if !explicit {
		var once []rune
		for r, c := range seen {
			if c == 1 {
				once = append(once, r)
			}
		}
		slices.Sort(once)
		rhs = string(once)
	}
	for _, r := range rhs {
		d, found := size[r]
		if !found {
			return nil, 0, false
		}
		out = append(out, d)
	}
	all = 1
	for _, d := range size {
		if all, ok = mulAll(all, d); !ok {
			return nil, 0, false
		}
	}
	return out, all, true
}
