package results

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpProfileInSummaries: a profiled cell's operators are one line in
// the terminal table and the Markdown summary, and its profile survives
// results.json; a run without profiles prints no such line.
func TestOpProfileInSummaries(t *testing.T) {
	run, err := ReadJSON(filepath.Join("testdata", "golden", "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if err := WriteTable(run, &plain); err != nil || strings.Contains(plain.String(), "operators:") {
		t.Fatalf("operators line without a profile (%v):\n%s", err, plain.String())
	}
	run.Cells[1].Profile = &OpProfile{Runs: 64, BatchSize: 64, KernelSeconds: 0.01,
		Ops: []OpShare{{Op: "FusedGemm", Provider: "CPUExecutionProvider", Calls: 64, Seconds: 0.006, Share: 0.6},
			{Op: "MatMul", Provider: "OpenVINOExecutionProvider", Calls: 64, Seconds: 0.004, Share: 0.4}},
		Placement: []NodePlacement{{Provider: "CPUExecutionProvider", Nodes: 7, NodeShare: 0.875, TimeShare: 0.6, FLOPs: 300, FLOPsShare: 0.25, FLOPsUnknownNodes: 1},
			{Provider: "OpenVINOExecutionProvider", Nodes: 1, NodeShare: 0.125, TimeShare: 0.4, FLOPs: 900, FLOPsShare: 0.75, FLOPsFromGraph: true}},
		FLOPs: 1200, FLOPsKnownShare: 0.55}
	want := "FusedGemm 60%, MatMul on OpenVINO 40%; nodes: 7 on CPU (25% of the FLOPs counted; 1 node(s) unknown), 1 on OpenVINO (75% of the FLOPs, from the graph's count)"
	var table, md, js bytes.Buffer
	if err := WriteTable(run, &table); err != nil {
		t.Fatal(err)
	}
	if err := EncodeMarkdown(run, &md); err != nil {
		t.Fatal(err)
	}
	if l := "  operators: " + run.Cells[1].Name + ": " + want; !strings.Contains(table.String(), l) {
		t.Errorf("table lacks %q:\n%s", l, table.String())
	}
	if !strings.Contains(md.String(), "**Operators**") || !strings.Contains(md.String(), mdEscape(want)) {
		t.Errorf("markdown lacks the operators:\n%s", md.String())
	}
	if err := json.NewEncoder(&js).Encode(run); err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if p := back.Cells[1].Profile; p == nil || p.Ops[1] != run.Cells[1].Profile.Ops[1] || p.Placement[1] != run.Cells[1].Profile.Placement[1] || back.Cells[0].Profile != nil {
		t.Errorf("profile after results.json: %+v", p)
	}
	if !strings.Contains(js.String(), `"ops":[{"op":"FusedGemm","provider":"CPUExecutionProvider","calls":64,"seconds":0.006,"share":0.6}`) {
		t.Errorf("results.json's ops are not {op, provider, calls, seconds, share}")
	}
	if !strings.Contains(js.String(), `"time_share":0.4,"flops":900,"flops_share":0.75,"flops_unknown_nodes":0,"flops_from_graph":true}],"flops":1200,"flops_known_share":0.55}`) {
		t.Errorf("results.json's placement lacks the FLOPs:\n%s", js.String())
	}
}
