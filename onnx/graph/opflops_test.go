package graph

import "testing"

// TestOpFLOPs: each kernel as ORT's profile records it (shapes only, no
// attributes, prepacked weights absent) costs what Count's rule gives.
func TestOpFLOPs(t *testing.T) {
	cases := []struct {
		op     string
		in     [][]int64
		out    []int64
		flops  int64
		wantOK bool
	}{
		// ResNet-50's first convolution: 2 · 64·112·112 outputs · 3·7·7.
		{"Conv", [][]int64{{1, 3, 224, 224}, {64, 3, 7, 7}, {64}}, []int64{1, 64, 112, 112}, 2 * 64 * 112 * 112 * 147, true},
		{"FusedConv", [][]int64{{1, 64, 56, 56}, {64, 64, 1, 1}}, []int64{1, 64, 56, 56}, 2 * 64 * 56 * 56 * 64, true},
		// Depthwise: the weights' second dim is Cin/group = 1.
		{"Conv", [][]int64{{1, 32, 8, 8}, {32, 1, 3, 3}}, []int64{1, 32, 8, 8}, 2 * 32 * 8 * 8 * 9, true},
		{"Conv", [][]int64{{1, 3, 224, 224}}, []int64{1, 64, 112, 112}, 0, false}, // weights prepacked
		{"QLinearConv", [][]int64{{1, 4, 5, 5}, {}, {}, {8, 4, 3, 3}, {}, {}, {}, {}}, []int64{1, 8, 3, 3}, 2 * 8 * 3 * 3 * 36, true},
		// MatMul with B prepacked: K from A, M·N from the output.
		{"MatMul", [][]int64{{16, 64}}, []int64{16, 128}, 2 * 16 * 128 * 64, true},
		{"FusedGemm", [][]int64{{16, 64}, {1, 128}}, []int64{16, 128}, 2 * 16 * 128 * 64, true},
		{"Gemm", [][]int64{{64, 16}}, []int64{16, 128}, 2 * 16 * 128 * 64, true}, // transA
		{"FusedMatMul", [][]int64{{2, 8, 5}, {2, 8, 3}}, []int64{2, 5, 3}, 2 * 2 * 5 * 3 * 8, true},
		{"QLinearMatMul", [][]int64{{4, 6}, {}, {}, {6, 2}}, []int64{4, 2}, 2 * 4 * 2 * 6, true},
		{"MatMulInteger", [][]int64{{4, 6}, {6, 2}}, []int64{4, 2}, 2 * 4 * 2 * 6, true},
		{"Add", [][]int64{{16, 128}, {1, 128}}, []int64{16, 128}, 16 * 128, true},
		{"QLinearAdd", [][]int64{{16, 128}, {}, {}, {16, 128}}, []int64{16, 128}, 16 * 128, true},
		{"Softmax", [][]int64{{16, 10}}, []int64{16, 10}, 3 * 160, true},
		{"ArgMax", [][]int64{{16, 10}}, []int64{16, 1}, 160, true},
		{"GlobalAveragePool", [][]int64{{1, 2048, 7, 7}}, []int64{1, 2048, 1, 1}, 2048 * 49, true},
		// A pool whose window is the whole input; a windowed one is unknown.
		{"AveragePool", [][]int64{{1, 2048, 7, 7}}, []int64{1, 2048, 1, 1}, 2048 * 49, true},
		{"MaxPool", [][]int64{{1, 64, 112, 112}}, []int64{1, 64, 56, 56}, 0, false},
		{"Reshape", [][]int64{{1, 2048, 1, 1}, {2}}, []int64{1, 2048}, 0, true},
		{"ReorderOutput", [][]int64{{1, 2048, 1, 1}}, []int64{1, 2048, 1, 1}, 0, true},
		{"Relu", [][]int64{{4}}, nil, 0, false}, // output shape unknown
		{"OpenVINO-EP-subgraph_1", [][]int64{{1, 3, 224, 224}}, []int64{1, 1000}, 0, false},
		{"LSTM", [][]int64{{5, 1, 8}}, []int64{5, 1, 1, 16}, 0, false}, // needs hidden_size
	}
	for _, c := range cases {
		got, ok := OpFLOPs(c.op, c.in, c.out)
		if got != c.flops || ok != c.wantOK {
			t.Errorf("%s %v → %v: %d, %v; want %d, %v", c.op, c.in, c.out, got, ok, c.flops, c.wantOK)
		}
	}
}

// TestOpFLOPsHostile: shapes a damaged or hostile profile could hold —
// empty, negative, huge, too few — never panic and never cost a node
// whose count overflows.
func TestOpFLOPsHostile(t *testing.T) {
	var ops []string
	for _, m := range []map[string]bool{costed, free, elementwise, ortFree} {
		for op := range m {
			ops = append(ops, op)
		}
	}
	for op := range ortOps {
		ops = append(ops, op)
	}
	huge := int64(1) << 40
	shapes := [][]int64{nil, {}, {-1}, {0}, {huge, huge}, {2, -3, 4}, {1, 2, 3, 4, 5}, {huge, 1, huge, huge}}
	for _, op := range ops {
		for _, a := range shapes {
			for _, b := range shapes {
				for _, out := range shapes {
					f, ok := OpFLOPs(op, [][]int64{a, b, a, b}, out)
					if f < 0 || (!ok && f != 0) {
						t.Fatalf("%s %v %v → %v: %d, %v", op, a, b, out, f, ok)
					}
				}
			}
		}
	}
	if f, ok := OpFLOPs("MatMul", [][]int64{{huge, huge}}, []int64{huge, huge}); ok {
		t.Errorf("an overflowing MatMul costed %d", f)
	}
}
