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

// placementLine is where the nodes ran: "nodes: 59 on CPU (100% of the
// time, 100% of the FLOPs); 8.18 G FLOPs a call, counted from the shapes
// for nodes holding 99.6% of the kernel time".
func placementLine(p *results.OpProfile) string {
	var parts []string
	for _, n := range p.Placement {
		flops := ""
		if p.FLOPs > 0 {
			flops = fmt.Sprintf(", %.0f%% of the FLOPs", 100*n.FLOPsShare)
			switch {
			case n.FLOPsFromGraph:
				flops += " from the graph's count"
			case n.FLOPsUnknownNodes > 0:
				flops += fmt.Sprintf(" counted, %d node(s) unknown", n.FLOPsUnknownNodes)
			}
		}
		parts = append(parts, fmt.Sprintf("%d on %s (%.0f%% of the time%s)", n.Nodes, strings.TrimSuffix(n.Provider, "ExecutionProvider"), 100*n.TimeShare, flops))
	}
	line := "nodes: " + strings.Join(parts, ", ")
	if p.FLOPs > 0 {
		line += fmt.Sprintf("; %s FLOPs a call, counted from the shapes for nodes holding %.1f%% of the kernel time",
			flopsText(float64(p.FLOPs)/float64(max(p.Runs, 1))), 100*p.FLOPsKnownShare)
	}
	return line
}

// flopsText is a FLOP count in short: "8.21 G", "304 k".
func flopsText(f float64) string {
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if f >= u.div {
			return fmt.Sprintf("%.3g %s", f/u.div, u.unit)
		}
	}
	return fmt.Sprintf("%.0f", f)
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
