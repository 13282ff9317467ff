package runner

import (
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// processRoles is implemented by strategies that name the processes they
// start (processes: pid → "worker i").
type processRoles interface{ Roles() map[int]string }

// labelRoles names each worker process of the cell's per-process memory by
// its role ("worker 0", "worker 1", …) where the strategy says; the runner
// keeps "runner".
func labelRoles(rc *results.Cell, s strategy.Strategy) {
	pr, ok := s.(processRoles)
	if !ok {
		return
	}
	roles := pr.Roles()
	for i := range rc.Memory.PerProcess {
		if role, ok := roles[rc.Memory.PerProcess[i].PID]; ok {
			rc.Memory.PerProcess[i].Role = role
		}
	}
}
