package report

import (
	"fmt"

	"github.com/ortbench/ortbench/runner/results"
)

// machineRow is one strategy on one machine of a merged run, formatted.
type machineRow struct {
	Strategy, Machine, Best, Rate, P99, PerCore, PerCost string
	First                                                bool // first row of its strategy
}

// machineRows compares the machines of a run merged from several
// (results.json "machines"): per strategy, each machine's fastest ok cell.
// priced is true when any machine has a price. Nothing for one machine.
func machineRows(run *results.Run) (rows []machineRow, machines []string, priced bool) {
	if len(run.Machines) < 2 {
		return nil, nil, false
	}
	var strategies []string
	seen := map[string]bool{}
	for _, m := range run.Machines {
		priced = priced || m.PricePerHour > 0
		desc := fmt.Sprintf("%s: %s, %d logical cores, %s", m.Label, m.CPUModel, m.LogicalCores, results.Bytes(m.MemoryBytes))
		if m.PricePerHour > 0 {
			desc += fmt.Sprintf(", %g per hour", m.PricePerHour)
		}
		machines = append(machines, desc)
		for _, f := range m.Strategies {
			if !seen[f.Strategy] {
				seen[f.Strategy] = true
				strategies = append(strategies, f.Strategy)
			}
		}
	}
	for _, s := range strategies {
		for k, m := range run.Machines {
			r := machineRow{Strategy: s, Machine: m.Label, Best: "–", Rate: "–", P99: "–", PerCore: "–", PerCost: "–", First: k == 0}
			for _, f := range m.Strategies {
				if f.Strategy != s {
					continue
				}
				r.Best, r.Rate, r.P99, r.PerCore = f.Best, results.Num(f.RowsPerSecond), results.Dur(f.P99Seconds), results.Num(f.RowsPerSecondPerCore)
				if f.RowsPerCost > 0 {
					r.PerCost = results.Num(f.RowsPerCost)
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, machines, priced
}
