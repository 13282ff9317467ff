package results

import (
	"fmt"
	"strings"
)

// OpProfile is a cell's one profiled pass (profile: true): ONNX Runtime's
// own profiler on one session with the cell's settings, run untimed after
// the measured repetitions, summed by operator type and provider
// (docs/METRICS.md, "Operator profile").
type OpProfile struct {
	// Runs is how many inference calls of BatchSize rows were profiled.
	Runs      int `json:"runs"`
	BatchSize int `json:"batch_size"`
	// KernelSeconds is the time inside operator kernels over all the runs.
	KernelSeconds float64 `json:"kernel_seconds"`
	// Ops are the operator types per provider, largest share first.
	Ops []OpShare `json:"ops"`
	// Placement is where the nodes ran, one entry per provider.
	Placement []NodePlacement `json:"placement"`
	// FLOPs are the pass's FLOPs placed on a provider: each kernel call's
	// from its operator and tensor shapes (graph.OpFLOPs), plus what
	// FLOPsFromGraph gave a provider whose nodes could not be costed.
	FLOPs int64 `json:"flops"`
	// FLOPsKnownShare is the share of the kernel time in nodes whose
	// FLOPs were counted from their shapes: how much of the pass FLOPs
	// and FLOPsShare cover.
	FLOPsKnownShare float64 `json:"flops_known_share"`
}

// OpShare is one operator type on one provider in a profiled pass.
type OpShare struct {
	Op       string `json:"op"`
	Provider string `json:"provider"`
	// Calls are its kernel calls over the pass; Seconds their time.
	Calls   int     `json:"calls"`
	Seconds float64 `json:"seconds"`
	// Share is Seconds ÷ the pass's KernelSeconds.
	Share float64 `json:"share"`
}

// PerRun is seconds of the pass per inference call: what two runs'
// profiles compare (their runs may differ in number).
func (p *OpProfile) PerRun(seconds float64) float64 {
	if p == nil || p.Runs <= 0 {
		return 0
	}
	return seconds / float64(p.Runs)
}

// NodePlacement is how many of the optimised graph's nodes one execution
// provider ran in the profiled pass.
type NodePlacement struct {
	Provider string `json:"provider"`
	Nodes    int    `json:"nodes"`
	// NodeShare is Nodes ÷ every node the pass ran; TimeShare the
	// provider's share of the kernel time.
	NodeShare float64 `json:"node_share"`
	TimeShare float64 `json:"time_share"`
	// FLOPs are the provider's over the pass; FLOPsShare its share of the
	// pass's FLOPs. FLOPsUnknownNodes are its nodes no rule could cost
	// (a compiled subgraph, an operator without a rule); their FLOPs are
	// in neither figure unless FLOPsFromGraph: then FLOPs is the graph's
	// count for the rows profiled less every other provider's FLOPs.
	FLOPs             int64   `json:"flops"`
	FLOPsShare        float64 `json:"flops_share"`
	FLOPsUnknownNodes int     `json:"flops_unknown_nodes"`
	FLOPsFromGraph    bool    `json:"flops_from_graph"`
}

// FLOPsKnown reports whether the provider's FLOPs are whole: every node
// costed, or the rest taken from the graph.
func (n NodePlacement) FLOPsKnown() bool { return n.FLOPsUnknownNodes == 0 || n.FLOPsFromGraph }

// Line is the profile in one line, for the terminal and Markdown
// summaries: the four largest operators and where the nodes ran —
// "FusedGemm 50%, Identity 12%, Gemm 9%, Softmax 5%, …; nodes: 8 on CPU".
func (p *OpProfile) Line() string {
	var parts []string
	for i, o := range p.Ops {
		if i == 4 {
			parts = append(parts, "…")
			break
		}
		op := o.Op
		if o.Provider != "" && o.Provider != "CPUExecutionProvider" {
			op += " on " + strings.TrimSuffix(o.Provider, "ExecutionProvider")
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", op, 100*o.Share))
	}
	var nodes []string
	for _, n := range p.Placement {
		nodes = append(nodes, fmt.Sprintf("%d on %s%s", n.Nodes, strings.TrimSuffix(n.Provider, "ExecutionProvider"), n.FLOPsNote(p)))
	}
	return strings.Join(parts, ", ") + "; nodes: " + strings.Join(nodes, ", ")
}

// FLOPsNote is the provider's FLOPs share for a line, " (97% of the
// FLOPs)", with what it rests on; "" when the pass counted no FLOPs.
func (n NodePlacement) FLOPsNote(p *OpProfile) string {
	switch {
	case p.FLOPs <= 0:
		return ""
	case n.FLOPsFromGraph:
		return fmt.Sprintf(" (%.0f%% of the FLOPs, from the graph's count)", 100*n.FLOPsShare)
	case n.FLOPsUnknownNodes > 0:
		return fmt.Sprintf(" (%.0f%% of the FLOPs counted; %d node(s) unknown)", 100*n.FLOPsShare, n.FLOPsUnknownNodes)
	}
	return fmt.Sprintf(" (%.0f%% of the FLOPs)", 100*n.FLOPsShare)
}
