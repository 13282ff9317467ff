package report

import (
	"fmt"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
)

// reportOps is how many operator rows a cell's table shows: the rest are
// one "other" line, so a large model's table stays a glance.
const reportOps = 8

// opCell is one profiled cell's operator table (profile: true).
type opCell struct {
	Name, Placement, Caption string
	Ops                      []opRow
}

type opRow struct{ Op, Provider, Calls, PerRun, Share string }

// opTables are the operator tables of every profiled cell, in run order.
func opTables(run *results.Run) []opCell {
	var out []opCell
	for i := range run.Cells {
		c := &run.Cells[i]
		p := c.Profile
		if p == nil {
			continue
		}
		t := opCell{Name: c.Name, Placement: placementLine(p),
			Caption: fmt.Sprintf("%d calls of %d rows, %s in kernels per call", p.Runs, p.BatchSize, seconds(p.PerRun(p.KernelSeconds)))}
		var rest results.OpShare
		for j, o := range p.Ops {
			if j >= reportOps {
				rest.Calls += o.Calls
				rest.Seconds += o.Seconds
				rest.Share += o.Share
				continue
			}
			t.Ops = append(t.Ops, opRowOf(p, o))
		}
		if n := len(p.Ops) - reportOps; n > 0 {
			rest.Op = fmt.Sprintf("%d other types", n)
			t.Ops = append(t.Ops, opRowOf(p, rest))
		}
		out = append(out, t)
	}
	return out
}

func opRowOf(p *results.OpProfile, o results.OpShare) opRow {
	return opRow{Op: o.Op, Provider: strings.TrimSuffix(o.Provider, "ExecutionProvider"), Calls: fmt.Sprint(o.Calls),
		PerRun: seconds(p.PerRun(o.Seconds)), Share: fmt.Sprintf("%.1f%%", 100*o.Share)}
}

// placementLine is where the nodes ran: "nodes: 8 on CPU (100% of the time)".
func placementLine(p *results.OpProfile) string {
	var parts []string
	for _, n := range p.Placement {
		parts = append(parts, fmt.Sprintf("%d on %s (%.0f%% of the time)", n.Nodes, strings.TrimSuffix(n.Provider, "ExecutionProvider"), 100*n.TimeShare))
	}
	return "nodes: " + strings.Join(parts, ", ")
}

// seconds is a short duration: "12.3 µs", "1.20 ms".
func seconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.1f µs", s*1e6)
}
