package shard

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ortbench/ortbench/runner/results"
)

// WriteMachines writes the per-machine comparison of a merged run: one
// line per strategy and machine, with the machine's fastest ok cell of
// that strategy — rows/s, p99, rows/s per logical core, and rows per unit
// of cost where the machine has a price. It writes nothing for a run on
// one machine.
func WriteMachines(w io.Writer, machines []results.MachineSummary) error {
	if len(machines) < 2 {
		return nil
	}
	priced := false
	for _, m := range machines {
		priced = priced || m.PricePerHour > 0
	}
	fmt.Fprintln(w, "machines:")
	for _, m := range machines {
		price := ""
		if m.PricePerHour > 0 {
			price = fmt.Sprintf(", %g/hour", m.PricePerHour)
		}
		fmt.Fprintf(w, "  %s: %s, %d logical cores, %s%s; %d cells from %d shard folders\n",
			m.Label, m.CPUModel, m.LogicalCores, results.Bytes(m.MemoryBytes), price, m.Cells, len(m.Sources))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "strategy\tmachine\tbest cell\trows/s\tp99\trows/s/core\t"
	if priced {
		head += "rows/cost\t"
	}
	fmt.Fprintln(tw, head)
	for _, s := range strategiesOf(machines) {
		for _, m := range machines {
			f, ok := figures(m, s)
			if !ok {
				fmt.Fprintf(tw, "%s\t%s\t–\t–\t–\t–\t", s, m.Label)
				if priced {
					fmt.Fprint(tw, "–\t")
				}
				fmt.Fprintln(tw)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t", s, m.Label, f.Best, results.Num(f.RowsPerSecond),
				results.Dur(f.P99Seconds), results.Num(f.RowsPerSecondPerCore))
			if priced {
				cost := "–"
				if f.RowsPerCost > 0 {
					cost = results.Num(f.RowsPerCost)
				}
				fmt.Fprintf(tw, "%s\t", cost)
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}

func strategiesOf(machines []results.MachineSummary) []string {
	m := &Merged{Machines: machines}
	return m.Strategies()
}

func figures(m results.MachineSummary, strategy string) (results.MachineStrategy, bool) {
	for _, f := range m.Strategies {
		if f.Strategy == strategy {
			return f, true
		}
	}
	return results.MachineStrategy{}, false
}
