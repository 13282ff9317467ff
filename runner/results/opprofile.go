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
}

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
		nodes = append(nodes, fmt.Sprintf("%d on %s", n.Nodes, strings.TrimSuffix(n.Provider, "ExecutionProvider")))
	}
	return strings.Join(parts, ", ") + "; nodes: " + strings.Join(nodes, ", ")
}
