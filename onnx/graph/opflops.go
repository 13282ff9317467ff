package graph

import "strconv"

// OpFLOPs is the FLOPs (2·MACs + Other, as Count) of one executed node
// from its operator type and its tensors' shapes: what ONNX Runtime's
// profile records of each kernel call (input_type_shape,
// output_type_shape), without the node's attributes or its prepacked
// weights. It runs the graph walk's own cost rule on that one node. ORT's
// fused and quantized kernels (FusedConv, FusedGemm, FusedMatMul,
// QLinearConv, MatMulInteger, …) are costed as the operator they compute;
// an activation or sum fused into them is not counted (the graph counts
// it as its own element-wise node). ok is false for an operator with
// no rule or a shape the rule needs that the profile did not give (a
// windowed pool's kernel, a convolution whose weights were prepacked).
func OpFLOPs(op string, inputs [][]int64, output []int64) (flops int64, ok bool) {
	if free[op] || ortFree[op] {
		return 0, true
	}
	base, at := op, []int(nil)
	if a, isAlias := ortOps[op]; isAlias {
		base, at = a.op, a.inputs
	}
	if base == "Einsum" || base == "LSTM" || base == "GRU" || base == "RNN" || mlCosted[base] {
		return 0, false // their rules need attributes the profile lacks
	}
	n := netNode{op: base, out: []string{"y"}, ints: map[string]int64{}, lists: map[string][]int64{}}
	in := &inferer{vals: map[string]value{"y": {shape: output}}}
	for i, s := range pick(inputs, at) {
		name := "x" + strconv.Itoa(i)
		n.in = append(n.in, name)
		in.vals[name] = value{shape: s}
	}
	recoverAttrs(&n, in, output)
	macs, other, ok := in.cost(n)
	if !ok {
		return 0, false
	}
	return sat(sat(macs, macs), other), true
}

// pick is the inputs at the given positions (all of them for nil); a
// missing one is nil, an unknown shape.
func pick(inputs [][]int64, at []int) [][]int64 {
	if at == nil {
		return inputs
	}
	out := make([][]int64, len(at))
	for i, j := range at {
		if j < len(inputs) {
			out[i] = inputs[j]
		}
	}
	return out
}

// recoverAttrs sets what cost reads from attributes where the shapes
// settle it: Gemm's transA (A's rows are not the output's), and a pool's
// window when it covers the whole input (every output spatial size 1).
func recoverAttrs(n *netNode, in *inferer, output []int64) {
	x := in.get(*n, 0).shape
	switch n.op {
	case "Gemm", "MatMul":
		if len(x) >= 2 && len(output) == len(x) && x[len(x)-2] != output[len(output)-2] {
			// A arrives transposed: [.., K, M]; cost takes K from A's last dim.
			t := append([]int64(nil), x...)
			t[len(t)-1], t[len(t)-2] = t[len(t)-2], t[len(t)-1]
			in.vals[n.in[0]] = value{shape: t}
		}
	case "MaxPool", "AveragePool", "LpPool":
		if len(x) < 3 || len(output) != len(x) {
			return
		}
		for _, d := range output[2:] {
			if d != 1 {
				return
			}
		}
		n.lists["kernel_shape"] = x[2:]
	}
}

// ortOps are ONNX Runtime's own kernels (contrib, fused, quantized) named
// in its profiles, as the standard operator whose cost they have and the
// positions of that operator's inputs among theirs.
var ortOps = map[string]struct {
	op     string
	inputs []int
}{
	"FusedConv": {"Conv", nil}, "FusedGemm": {"Gemm", nil}, "FusedMatMul": {"MatMul", nil},
	"QLinearConv": {"Conv", []int{0, 3}}, "ConvInteger": {"Conv", []int{0, 1}},
	"QLinearMatMul": {"MatMul", []int{0, 3}}, "MatMulInteger": {"MatMul", []int{0, 1}},
	"MatMulIntegerToFloat": {"MatMul", []int{0, 1}}, "DynamicQuantizeMatMul": {"MatMul", []int{0, 1}},
	"QGemm": {"Gemm", []int{0, 3}}, "MatMulNBits": {"MatMul", []int{0}},
	"QLinearAdd": {"Add", []int{0, 3}}, "QLinearMul": {"Mul", []int{0, 3}},
	"QLinearSigmoid": {"Sigmoid", []int{0}}, "QLinearLeakyRelu": {"LeakyRelu", []int{0}},
	"QLinearGlobalAveragePool": {"GlobalAveragePool", []int{0}}, "QLinearSoftmax": {"Softmax", []int{0}},
	"QLinearAveragePool": {"AveragePool", []int{0}},
}

// ortFree are ORT's data-movement kernels: layout reorders and copies.
var ortFree = map[string]bool{
	"ReorderInput": true, "ReorderOutput": true, "MemcpyToHost": true, "MemcpyFromHost": true,
	"QLinearConcat": true,
}
