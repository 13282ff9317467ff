package config

import (
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/strategy"
)

// TestEstimateMemoryFollowsEachStrategysResources: the estimate reads what
// each strategy declares it holds (strategy.Resources), so the data copies
// of worker processes follow their transport: replicate holds one per
// worker, shared one, copy none; more workers with own sessions cost more.
func TestEstimateMemoryFollowsEachStrategysResources(t *testing.T) {
	p, err := plan(t, strings.Replace(base, "  - strategy: sequential\n", `  - strategy: sequential
  - strategy: processes
    workers: [2, 4]
    transport: [copy, shared, replicate]
`, 1))
	if err != nil {
		t.Fatal(err)
	}
	f := Footprint{ModelBytes: 1 << 20, DataBytes: 100 << 20, Rows: 1000, RowBytes: 256}
	est := map[string]uint64{}
	for _, c := range p.Cells {
		if c.Params.Int("batch_size") == 1 {
			est[c.Name] = EstimateMemory(c, f)
		}
	}
	get := func(name string) uint64 {
		v, ok := est[name]
		if !ok {
			t.Fatalf("no cell %s among %v", name, est)
		}
		return v
	}
	copy2, shared2, repl2 := get("processes/workers=2/transport=copy/batch_size=1"), get("processes/workers=2/transport=shared/batch_size=1"), get("processes/workers=2/transport=replicate/batch_size=1")
	// Shared maps the runner's own rows (no copy beside them), replicate
	// loads one per worker.
	if shared2 != copy2 || repl2-copy2 != 2*100<<20 {
		t.Errorf("data copies: copy %d, shared %+d, replicate %+d bytes; want +0 and +2 datasets", copy2, int64(shared2)-int64(copy2), int64(repl2)-int64(copy2))
	}
	if get("processes/workers=4/transport=replicate/batch_size=1") <= repl2 {
		t.Error("replicate with 4 workers estimated no more than with 2")
	}
	if r := strategy.ResourcesOf(p.Cells[0].Config); r != (strategy.Resources{Sessions: 1}) {
		t.Errorf("sequential holds %+v", r)
	}
}
