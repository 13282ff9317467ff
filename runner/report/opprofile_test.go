package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// TestOperatorTables: a profiled cell gets its operator table (the first
// reportOps types, the rest as one line) and its placement line; a run
// without profiles has no Operators section.
func TestOperatorTables(t *testing.T) {
	run := sampleRun()
	if doc := render(t, run); strings.Contains(doc, `id="operators"`) {
		t.Fatal("an Operators section without profiles")
	}
	p := &results.OpProfile{Runs: 4, BatchSize: 16, KernelSeconds: 0.002,
		Placement: []results.NodePlacement{{Provider: "CPUExecutionProvider", Nodes: 10, NodeShare: 1, TimeShare: 1}}}
	for i := range 10 {
		p.Ops = append(p.Ops, results.OpShare{Op: fmt.Sprintf("Op%d", i), Provider: "CPUExecutionProvider", Calls: 4, Seconds: 0.0002, Share: 0.1})
	}
	run.Cells[0].Profile = p
	doc := render(t, run)
	sec := doc[strings.Index(doc, `id="operators"`):]
	sec = sec[:strings.Index(sec, "</section>")]
	for _, want := range []string{run.Cells[0].Name, "4 calls of 16 rows, 500.0 µs in kernels per call", "nodes: 10 on CPU (100% of the time)",
		"<td class=\"l\">Op7</td>", "2 other types", "<td>8</td><td>100.0 µs</td><td>20.0%</td>"} {
		if !strings.Contains(sec, want) {
			t.Errorf("operators section lacks %q:\n%s", want, sec)
		}
	}
	if strings.Contains(sec, "Op8<") || strings.Count(sec, "<h3>") != 1 || strings.Contains(sec, "FLOPs a call") {
		t.Errorf("want one table of 8 types and one other line, no FLOPs:\n%s", sec)
	}
	p.FLOPs, p.FLOPsKnownShare = 4*8_210_000_000, 0.99
	p.Placement = []results.NodePlacement{{Provider: "CPUExecutionProvider", Nodes: 9, TimeShare: 0.4, FLOPs: 8_210_000_000, FLOPsShare: 0.25, FLOPsUnknownNodes: 1},
		{Provider: "OpenVINOExecutionProvider", Nodes: 1, TimeShare: 0.6, FLOPs: 3 * 8_210_000_000, FLOPsShare: 0.75, FLOPsFromGraph: true}}
	want := "nodes: 9 on CPU (40% of the time, 25% of the FLOPs counted, 1 node(s) unknown), 1 on OpenVINO (60% of the time, 75% of the FLOPs from the graph&#39;s count); 8.21 G FLOPs a call, counted from the shapes for nodes holding 99.0% of the kernel time"
	if sec := render(t, run); !strings.Contains(sec, want) {
		t.Errorf("operators section lacks %q", want)
	}
}
