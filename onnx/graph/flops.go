package graph

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Count is the work of one call from inferred shapes (docs/METRICS.md,
// "FLOPs per item"). The convention: a multiply-add is 2 FLOPs, so FLOPs
// = 2·MACs + Other. MACs are the multiply-adds of Conv, ConvTranspose,
// MatMul, Gemm, two-operand Einsum, the recurrent ops and ai.onnx.ml's linear models (biases
// and gate non-linearities left out, as published counts leave them).
// Other are the cheap ops: 1 per output element of element-wise ops, 2
// per element of BatchNormalization (a scale and a shift), 3 of Softmax
// (exp, sum, divide), 5 of LayerNormalization and the like (mean,
// variance, normalize), 1 per window element of pooling, 1 per input
// element of reductions (ArgMax, ArgMin and TopK too). Data movement
// (Reshape, Transpose, Gather, Concat, Slice, Resize, …) counts 0.
type Count struct {
	FLOPs int64            `json:"flops"`
	MACs  int64            `json:"macs"`
	Other int64            `json:"other_flops"`
	ByOp  map[string]int64 `json:"flops_by_op,omitempty"`
	Notes []string         `json:"notes,omitempty"` // what was not counted, and guesses made
}

// FlopsPerCall counts one call's FLOPs with the inputs at the given
// shapes (see Infer); Notes says which nodes were left out and why.
func (g *Graph) FlopsPerCall(inputs map[string][]int64) (Count, error) {
	in, err := g.infer(inputs)
	if err != nil {
		return Count{}, err
	}
	c := Count{ByOp: map[string]int64{}}
	notCounted := map[string]int{}
	unknownOp := map[string]int{}
	trees := 0
	for _, n := range g.net.nodes {
		macs, other, ok := in.cost(n)
		switch {
		case n.domain == "ai.onnx.ml" && strings.HasPrefix(n.op, "TreeEnsemble"):
			trees++
		case n.domain == "ai.onnx.ml" && !ok && mlCosted[n.op]:
			notCounted["ai.onnx.ml."+n.op]++
		case n.domain == "ai.onnx.ml" && ok && mlCosted[n.op]:
			c.MACs, c.Other = sat(c.MACs, macs), sat(c.Other, other)
			c.ByOp[n.op] = sat(c.ByOp[n.op], sat(sat(macs, macs), other))
		case n.domain != "" && n.domain != "ai.onnx":
			unknownOp[n.domain+"."+n.op]++
		case !ok && !costed[n.op] && !free[n.op] && !elementwise[n.op] && !reduces(n.op):
			unknownOp[n.op]++
		case !ok:
			notCounted[n.op]++
		default:
			c.MACs = sat(c.MACs, macs)
			c.Other = sat(c.Other, other)
			c.ByOp[n.op] = sat(c.ByOp[n.op], sat(sat(macs, macs), other))
		}
	}
	c.FLOPs = sat(sat(c.MACs, c.MACs), c.Other)
	for op, v := range c.ByOp {
		if v == 0 {
			delete(c.ByOp, op)
		}
	}
	c.Notes = append(c.Notes, tally(notCounted, "not counted: shape unknown")...)
	c.Notes = append(c.Notes, tally(unknownOp, "not counted: operator not known to the estimate")...)
	if trees > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d tree ensemble(s) not counted: they compare rather than multiply (see trees)", trees))
	}
	if in.guesses > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%d Reshape node(s) to a rank-2 shape of unknown values taken as a flatten after the batch axis", in.guesses))
	}
	return c, nil
}

// FlopsPerItem is FlopsPerCall divided by the items one call carries (its
// batch), for figures per item: FLOPs, MACs, Other and ByOp.
func (g *Graph) FlopsPerItem(inputs map[string][]int64, items int) (Count, error) {
	c, err := g.FlopsPerCall(inputs)
	if err != nil || items <= 1 {
		return c, err
	}
	per := func(v int64) int64 { return v / int64(items) }
	c.FLOPs, c.MACs, c.Other = per(c.FLOPs), per(c.MACs), per(c.Other)
	for op, v := range c.ByOp {
		c.ByOp[op] = per(v)
	}
	return c, nil
}

// tally writes one note per op, in order: "3 Foo node(s) what".
func tally(counts map[string]int, what string) []string {
	ops := make([]string, 0, len(counts))
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	notes := make([]string, len(ops))
	for i, op := range ops {
		notes[i] = fmt.Sprintf("%d %s node(s) %s", counts[op], op, what)
	}
	return notes
}

// sat adds without overflow (saturating at MaxInt64); negatives add 0.
func sat(a, b int64) int64 {
	if b <= 0 {
		return a
	}
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// mulAll multiplies, or returns ok false on an unknown factor or overflow.
func mulAll(vs ...int64) (int64, bool) {
	n := int64(1)
	for _, v := range vs {
		if v < 0 || (v > 0 && n > math.MaxInt64/v) {
			return 0, false
		}
		n *= v
	}
	return n, true
}

// costed lists the ops with a cost rule; free the ops that count 0.
var costed = map[string]bool{
	"Conv": true, "ConvTranspose": true, "MatMul": true, "Gemm": true, "Einsum": true, "LSTM": true, "GRU": true, "RNN": true,
	"MaxPool": true, "AveragePool": true, "LpPool": true, "GlobalAveragePool": true, "GlobalMaxPool": true,
	"BatchNormalization": true, "Softmax": true, "LogSoftmax": true, "LayerNormalization": true,
	"InstanceNormalization": true, "GroupNormalization": true, "SkipLayerNormalization": true, "LRN": true,
}

// mlCosted lists the ai.onnx.ml ops with a rule: the linear models, and
// the element-wise preprocessing before them.
var mlCosted = map[string]bool{
	"LinearClassifier": true, "LinearRegressor": true, "Scaler": true, "Normalizer": true, "Binarizer": true, "Imputer": true,
}

var free = map[string]bool{
	"Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true, "Transpose": true, "Expand": true,
	"Tile": true, "Concat": true, "Split": true, "Gather": true, "Slice": true, "Pad": true, "Resize": true,
	"Upsample": true, "DepthToSpace": true, "SpaceToDepth": true, "Constant": true, "ConstantOfShape": true,
	"Shape": true, "Size": true, "Range": true, "Identity": true, "Dropout": true, "Cast": true, "CastLike": true,
}

// cost is one node's multiply-adds and other FLOPs; ok is false when a
// shape it needs is unknown or the op has no rule.
func (in *inferer) cost(n netNode) (macs, other int64, ok bool) {
	out := value{}
	if len(n.out) > 0 {
		out = in.vals[n.out[0]]
	}
	outN, outOK := mulAll(out.shape...)
	outOK = outOK && out.shape != nil
	x := in.get(n, 0)
	switch {
	case free[n.op]:
		return 0, 0, true
	case elementwise[n.op]:
		return 0, outN, outOK
	case reduces(n.op):
		v, ok := mulAll(x.shape...)
		return 0, v, ok && x.shape != nil
	}
	w := in.get(n, 1)
	switch n.op {
	case "Conv", "ConvTranspose":
		if len(w.shape) < 3 {
			return 0, 0, false
		}
		per, ok := mulAll(w.shape[1:]...) // Cin/group · kernel (Conv); Cout/group · kernel (ConvTranspose)
		if n.op == "ConvTranspose" {
			xs, ok2 := mulAll(x.shape...)
			v, ok3 := mulAll(per, xs)
			return v, 0, ok && ok2 && ok3 && x.shape != nil
		}
		v, ok2 := mulAll(per, outN)
		return v, 0, ok && ok2 && outOK
	case "MatMul", "Gemm":
		if len(x.shape) == 0 {
			return 0, 0, false
		}
		k := x.shape[len(x.shape)-1]
		if n.op == "Gemm" && intAttr(n, "transA", 0) != 0 && len(x.shape) == 2 {
			k = x.shape[0]
		}
		v, ok := mulAll(outN, k)
		return v, 0, ok && outOK
	case "LSTM", "GRU", "RNN":
		return in.recurrentCost(n, x, w)
	case "Einsum":
		_, all, ok := in.einsum(n)
		switch len(n.in) {
		case 1:
			return 0, all, ok // a transpose or a sum
		case 2:
			return all, 0, ok
		}
		return 0, 0, false
	case "MaxPool", "AveragePool", "LpPool":
		k, ok := mulAll(n.lists["kernel_shape"]...)
		v, ok2 := mulAll(outN, k)
		return 0, v, ok && ok2 && outOK && n.lists["kernel_shape"] != nil
	case "LinearClassifier", "LinearRegressor":
		// ai.onnx.ml: coefficients holds classes × features weights, one
		// multiply-add each per row.
		rows := int64(1)
		if len(x.shape) == 2 {
			rows = x.shape[0]
		}
		v, ok := mulAll(rows, int64(n.floatCount["coefficients"]))
		return v, 0, ok && len(x.shape) >= 1
	case "GlobalAveragePool", "GlobalMaxPool":
		v, ok := mulAll(x.shape...)
		return 0, v, ok && x.shape != nil
	}
	per := map[string]int64{"BatchNormalization": 2, "Softmax": 3, "LogSoftmax": 3, "LRN": 3}[n.op]
	if per == 0 && costed[n.op] {
		per = 5 // the normalizations: mean, variance, normalize
	}
	v, ok := mulAll(outN, per)
	return 0, v, ok && outOK && per > 0
}

// recurrentCost: per time step, direction and batch row, each gate
// multiplies the input and the hidden state by its weights.
func (in *inferer) recurrentCost(n netNode, x, w value) (macs, other int64, ok bool) {
	if len(x.shape) != 3 || len(w.shape) != 3 {
		return 0, 0, false
	}
	seq, batch, input := x.shape[0], x.shape[1], x.shape[2]
	if intAttr(n, "layout", 0) != 0 {
		seq, batch = batch, seq
	}
	g := gates(n.op)
	hidden := intAttr(n, "hidden_size", w.shape[1]/g)
	dirs := w.shape[0]
	weights, ok1 := mulAll(g, hidden, input+hidden)
	v, ok2 := mulAll(seq, batch, dirs, weights)
	return v, 0, ok1 && ok2 && input >= 0 && hidden >= 0
}

// reduces: the ops that cost one FLOP per input element.
func reduces(op string) bool {
	return strings.HasPrefix(op, "Reduce") || op == "ArgMax" || op == "ArgMin" || op == "TopK"
}
