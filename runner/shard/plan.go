package shard

import (
	"fmt"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Cost is a cell's estimated cost, the weight Assign balances shards by. It
// is independent of the machine (every shard must compute the same
// assignment wherever it runs) and coarse on purpose:
//
//   - 1 for every cell: with min_duration set, each repetition runs whole
//     passes for at least that long, so a cell's measured time is about
//     repetitions × min_duration whatever its strategy;
//   - +1 for a strategy that starts other processes (processes, py-*):
//     their start-up (a process, an interpreter and a session per worker)
//     is timed apart and adds seconds the other strategies do not spend;
//   - +1 for a cell that uses one core (sequential, py-sequential, or one
//     worker × one thread): a pass over the data takes longest there, so
//     it most often outlasts min_duration.
func Cost(cell config.Cell) float64 {
	cost := 1.0
	if cell.Config != nil && strategy.ResourcesOf(cell.Config).Processes > 0 {
		cost++ // worker processes or a Python runner: start-up on top
	}
	if cell.Config != nil && cell.Config.Shape().Cores() <= 1 {
		cost++
	}
	return cost
}

// Key is a plan cell's identity, the same string results.Cell.Key gives
// for the cell a run writes: merge matches cells by it.
func Key(c *config.Config, cell config.Cell) string {
	rc := results.Cell{Name: cell.Name, Strategy: cell.Strategy, Params: cell.Params,
		Workload: results.Workload{Kind: c.Workload.Kind, Model: c.Workload.Model}}
	return rc.Key()
}

// Part is one shard's part of a plan.
type Part struct {
	// Plan is the shard's plan: its own cells and the support cells, in
	// the full plan's order (the Plan's Config is the full plan's).
	Plan *config.Plan
	// Info marks the run as this shard (results.json "shard").
	Info *results.ShardInfo
	// Support names (config.Cell.Name) the cells run only as the baseline
	// of this shard's own cells; another shard owns them.
	Support map[string]bool
	// Own is the number of cells this shard owns.
	Own int
}

// Split returns shard i of n (1-based) of plan: the cells Assign gives it
// under Cost, plus as support copies the baseline cells their speedups need
// (for a cell whose strategy has a baseline — reg's Definition.Baseline —
// the plan's first cell of that strategy at the same batch_size, the cell
// the runner computes its speedup against). The plan is not changed.
func Split(plan *config.Plan, reg strategy.Registry, i, n int) (*Part, error) {
	if n < 1 || i < 1 || i > n {
		return nil, fmt.Errorf("shard %d/%d: index must be 1..%d", i, n, n)
	}
	costs := make([]float64, len(plan.Cells))
	keys := make([]string, len(plan.Cells))
	for k, cell := range plan.Cells {
		costs[k] = Cost(cell)
		keys[k] = Key(plan.Config, cell)
	}
	own := Assign(costs, n)[i-1]

	type base struct {
		strategy string
		batch    int
	}
	first := map[base]int{}
	for k, cell := range plan.Cells {
		b := base{cell.Strategy, cell.Params.Int("batch_size")}
		if _, seen := first[b]; !seen {
			first[b] = k
		}
	}
	support := Support(own, func(k int) []int {
		cell := plan.Cells[k]
		name := reg[cell.Strategy].Baseline
		if name == "" {
			return nil
		}
		if d, ok := first[base{name, cell.Params.Int("batch_size")}]; ok {
			return []int{d}
		}
		return nil
	})

	in := make([]bool, len(plan.Cells))
	for _, k := range own {
		in[k] = true
	}
	part := &Part{
		Plan:    &config.Plan{Config: plan.Config, Warnings: plan.Warnings},
		Info:    &results.ShardInfo{Index: i, Count: n, Cells: keys, ConfigSHA256: ConfigSHA256(plan.Config)},
		Support: map[string]bool{},
		Own:     len(own),
	}
	for _, k := range support {
		in[k] = true
		part.Support[plan.Cells[k].Name] = true
	}
	for k, cell := range plan.Cells {
		if in[k] {
			part.Plan.Cells = append(part.Plan.Cells, cell)
		}
	}
	return part, nil
}

// ConfigSHA256 is the hash of c's resolved config with output.dir and
// onnxruntime.library left out: what every shard of one experiment shares
// although each writes into its own folder (and each machine may keep the
// library elsewhere; its version is in the environment). c is not changed.
func ConfigSHA256(c *config.Config) string {
	cc := *c
	cc.Output.Dir = ""
	cc.ONNXRuntime.Library = ""
	cc.SetLibrary("") // renders Resolved and SHA256 again, on the copy
	return cc.SHA256
}
