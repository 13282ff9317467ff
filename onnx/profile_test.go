package onnx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ortbench/ortbench/onnx/graph"
)

// TestReadProfileORT130 sums two profiles ONNX Runtime 1.30.0 wrote
// (testdata: the small MLP, 4 calls of 16 rows, 2 intra-op threads, graph
// optimisation all and disabled) and checks the sums against the file's
// own events, decoded here without ReadProfile's types.
func TestReadProfileORT130(t *testing.T) {
	cases := []struct {
		file          string
		nodes         int
		op            string // an operator type the file has
		opCalls       int
		absent        string // one it must not have
		distinctTypes int
		flops         int64 // over the 4 runs, by hand from the shapes
	}{
		// FusedGemm 2·16·128·64 + Gemm 2·16·10·128 + Softmax 3·160 +
		// ArgMax 160 per run; the Add and Relu fused into the Gemm not counted.
		{"profile-ort1.30-mlp-all.json", 8, "FusedGemm", 4, "MatMul", 8, 4 * (262144 + 40960 + 480 + 160)},
		// Unfused: the two MatMuls, Adds 2048 and 160, Relu 2048 besides:
		// 308000 a run, the graph's FlopsPerItem (19250) × 16 rows.
		{"profile-ort1.30-mlp-disabled.json", 12, "MatMul", 8, "FusedGemm", 9, 4 * 308000},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			p, err := ReadProfile(path)
			if err != nil {
				t.Fatal(err)
			}
			var kernel int64
			for _, e := range rawEvents(t, path) {
				if e["cat"] == "Node" {
					kernel += int64(e["dur"].(float64))
				}
			}
			if p.KernelMicros != kernel || p.Runs != 4 {
				t.Errorf("kernel %dµs over %d runs, want %dµs over 4", p.KernelMicros, p.Runs, kernel)
			}
			if len(p.Placement) != 1 || p.Placement[0].Provider != "CPUExecutionProvider" || p.Placement[0].Nodes != tc.nodes || p.Placement[0].Micros != kernel || p.Nodes() != tc.nodes {
				t.Fatalf("placement %+v, want %d nodes on the CPU EP", p.Placement, tc.nodes)
			}
			// ArrayFeatureExtractor (ai.onnx.ml) is the one node no rule costs.
			if pl := p.Placement[0]; pl.FLOPs != tc.flops || pl.UnknownNodes != 1 || pl.UnknownMicros <= 0 {
				t.Errorf("placement %+v: want %d FLOPs, 1 node unknown", pl, tc.flops)
			}
			if len(p.Ops) != tc.distinctTypes {
				t.Errorf("%d op types, want %d: %+v", len(p.Ops), tc.distinctTypes, p.Ops)
			}
			var sum int64
			var share float64
			found := false
			for i, o := range p.Ops {
				sum += o.Micros
				share += o.Share
				if i > 0 && o.Micros > p.Ops[i-1].Micros {
					t.Errorf("ops not largest first: %+v", p.Ops)
				}
				if o.Provider != "CPUExecutionProvider" || o.Op == tc.absent {
					t.Errorf("op %+v", o)
				}
				found = found || (o.Op == tc.op && o.Calls == tc.opCalls)
			}
			if sum != kernel || share < 0.999 || share > 1.001 || !found {
				t.Errorf("ops sum to %dµs (share %v), want %dµs; %s with %d calls among them: %v", sum, share, kernel, tc.op, tc.opCalls, found)
			}
			if p.Threads == nil || p.Threads.Threads != 2 {
				t.Errorf("thread stats %+v, want a 2-thread pool", p.Threads)
			}
		})
	}
}

func rawEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatal(err)
	}
	return events
}

// TestReadProfileSplitsProviders: the same operator type on two providers
// is two entries, and each node is counted once, on its provider.
func TestReadProfileSplitsProviders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	ev := `[{"cat":"Session","name":"model_run","dur":50},
{"cat":"Node","name":"a_kernel_time","dur":10,"args":{"op_name":"MatMul","provider":"OpenVINOExecutionProvider"}},
{"cat":"Node","name":"b_kernel_time","dur":30,"args":{"op_name":"MatMul","provider":"CPUExecutionProvider","input_type_shape":[{"float":[2,3]}],"output_type_shape":[{"float":[2,4]}]}},
{"cat":"Node","name":"c_kernel_time","dur":20,"args":{"op_name":"Add","provider":"CPUExecutionProvider","input_type_shape":[{"float":[2,4]},{"float":[4]}],"output_type_shape":[{"float":[2,4]}]}},
{"cat":"Node","name":"a_kernel_time","dur":10,"args":{"op_name":"MatMul","provider":"OpenVINOExecutionProvider"}}]`
	if err := os.WriteFile(path, []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := ReadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Ops) != 3 || p.Ops[0] != (OpTime{Op: "MatMul", Provider: "CPUExecutionProvider", Micros: 30, Calls: 1, Share: 30.0 / 70}) ||
		p.Ops[2].Op != "MatMul" || p.Ops[2].Calls != 2 || p.Ops[2].Provider != "OpenVINOExecutionProvider" {
		t.Errorf("ops %+v", p.Ops)
	}
	// MatMul 2·(2·4)·3 + Add 2·4 on the CPU; the OpenVINO node has no shapes.
	want := []ProviderNodes{{Provider: "CPUExecutionProvider", Nodes: 2, Micros: 50, FLOPs: 56},
		{Provider: "OpenVINOExecutionProvider", Nodes: 1, Micros: 20, UnknownNodes: 1, UnknownMicros: 20}}
	if len(p.Placement) != 2 || p.Placement[0] != want[0] || p.Placement[1] != want[1] || p.Runs != 1 {
		t.Errorf("placement %+v over %d runs, want %+v", p.Placement, p.Runs, want)
	}
}

// TestProfileFLOPsResNet50 costs a profile ORT 1.30.0 wrote of ResNet-50
// (testdata: light_resnet50.onnx, one call of batch 1, optimisation all,
// so NCHWc convolutions with their weights' shapes) from its kernels'
// shapes, and checks it against the graph walk over the model file: the
// same Conv FLOPs, node for node fused or not, plus the Gemm 2·2048·1000,
// the Softmax 3·1000 and the global AveragePool 2048·7·7. The windowed
// MaxPool (its kernel is an attribute the profile lacks) is the one node
// not costed; the graph's count is larger by it and by what ORT folded or
// fused away (BatchNormalization, Relu, the residual Sums): under 1%.
func TestProfileFLOPsResNet50(t *testing.T) {
	p, err := ReadProfile(filepath.Join("testdata", "profile-ort1.30-resnet50-b1.json"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Read(filepath.Join("graph", "testdata", "light_resnet50.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.FlopsPerCall(map[string][]int64{"gpu_0/data_0": {1, 3, 224, 224}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Placement) != 1 || p.Runs != 1 {
		t.Fatalf("placement %+v over %d runs", p.Placement, p.Runs)
	}
	pl := p.Placement[0]
	want := c.ByOp["Conv"] + 2*2048*1000 + 3*1000 + 2048*49
	if c.ByOp["Conv"] != 8174272512 || pl.FLOPs != want || pl.UnknownNodes != 1 || pl.Nodes != 59 {
		t.Errorf("profile %d FLOPs (%d of %d nodes unknown), graph's Conv %d; want %d, 1 of 59", pl.FLOPs, pl.UnknownNodes, pl.Nodes, c.ByOp["Conv"], want)
	}
	if r := float64(pl.FLOPs) / float64(c.FLOPs); r < 0.99 || r > 1 {
		t.Errorf("profile %d FLOPs is %.4f of the graph's %d", pl.FLOPs, r, c.FLOPs)
	}
}
