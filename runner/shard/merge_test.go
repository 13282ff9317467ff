package shard

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func env2(host, cpu string, cores int) results.Environment {
	return results.Environment{Hostname: host, CPUModel: cpu, LogicalCores: cores, PhysicalCores: cores, GitCommit: "abc123"}
}

// cell fabricates an ok cell; support copies carry Extra["support"] in
// these tests (the real marker is the caller's business: IsSupport).
func cell(name, strategy string, rps, p99 float64) results.Cell {
	return results.Cell{Name: name, Strategy: strategy, Status: results.StatusOK, RowsPerSecond: rps,
		Workload: results.Workload{Kind: "onnx", Rows: 1000},
		Latency:  results.Latency{P99: p99}}
}

func supportCopy(c results.Cell) results.Cell {
	c.Extra = map[string]any{"support": true}
	return c
}

func isSupport(c *results.Cell) bool { s, _ := c.Extra["support"].(bool); return s }

func run(e results.Environment, start time.Duration, cells ...results.Cell) *results.Run {
	return &results.Run{
		Schema:      results.Schema,
		Experiment:  results.Experiment{Name: "quick", ConfigSHA256: "0123456789abcdef0123"},
		Environment: e,
		StartedAt:   t0.Add(start),
		FinishedAt:  t0.Add(start + time.Minute),
		Cells:       cells,
	}
}

var plan = []string{"sequential/batch=64", "goroutines/workers=2/batch=64", "worker-pool/workers=2/batch=64", "intra-op/threads=2/batch=64"}

func TestMergeShards(t *testing.T) {
	e := env2("node1", "Xeon", 2)
	seq := cell(plan[0], "sequential", 100, 0.002)
	s1 := run(e, 0, seq, cell(plan[2], "worker-pool", 150, 0.003))
	s1.Warnings = []string{"oversubscribed"}
	s2 := run(e, 30*time.Second, supportCopy(cell(plan[0], "sequential", 99, 0.002)), cell(plan[1], "goroutines", 140, 0.004), cell(plan[3], "intra-op", 120, 0.003))
	s2.Warnings = []string{"oversubscribed"}
	s2.Interrupted = true

	m, err := Merge([]*results.Run{s1, s2}, []string{"shards/1", "shards/2"}, Options{Expected: plan, IsSupport: isSupport})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range m.Run.Cells {
		names = append(names, c.Name)
	}
	if strings.Join(names, " ") != strings.Join(plan, " ") {
		t.Errorf("cells %v, want plan order %v", names, plan)
	}
	if m.Run.Cells[0].RowsPerSecond != 100 {
		t.Errorf("the owner's sequential copy was not the one kept: %v rows/s", m.Run.Cells[0].RowsPerSecond)
	}
	if want := []string{"shards/1", "shards/2", "shards/1", "shards/2"}; strings.Join(m.CellSource, " ") != strings.Join(want, " ") {
		t.Errorf("sources %v, want %v", m.CellSource, want)
	}
	if !m.Run.StartedAt.Equal(t0) || !m.Run.FinishedAt.Equal(t0.Add(90*time.Second)) || m.Span() != 90*time.Second {
		t.Errorf("span %v..%v", m.Run.StartedAt, m.Run.FinishedAt)
	}
	if !m.Run.Interrupted {
		t.Error("an interrupted shard should mark the merged run interrupted")
	}
	if len(m.Run.Warnings) != 1 {
		t.Errorf("warnings %q: want the shared one once", m.Run.Warnings)
	}
	if len(m.Machines) != 1 || m.Compared || m.Machines[0].Cells != 4 || len(m.Machines[0].Sources) != 2 {
		t.Errorf("machines %+v compared=%v", m.Machines, m.Compared)
	}
	if _, has := m.Run.Cells[1].Extra[MachineKey]; has {
		t.Error("one machine: cells should not be labelled")
	}
}

func TestMergeErrors(t *testing.T) {
	e := env2("node1", "Xeon", 2)
	a := func() *results.Run {
		return run(e, 0, cell(plan[0], "sequential", 1, 1), cell(plan[1], "goroutines", 1, 1))
	}
	b := func() *results.Run {
		return run(e, 0, cell(plan[2], "worker-pool", 1, 1), cell(plan[3], "intra-op", 1, 1))
	}
	cases := []struct {
		name string
		runs func() []*results.Run
		opts Options
		want string
	}{
		{"different config", func() []*results.Run {
			r := b()
			r.Experiment.ConfigSHA256 = "ffffffffffffffffffff"
			return []*results.Run{a(), r}
		}, Options{}, "merge: shards/1 and shards/2 ran different configs (config_sha256 0123456789ab vs ffffffffffff)"},
		{"different experiment", func() []*results.Run {
			r := b()
			r.Experiment.Name = "other"
			return []*results.Run{a(), r}
		}, Options{}, "merge: shards/1 and shards/2 are different experiments (quick vs other)"},
		{"different version", func() []*results.Run {
			r := b()
			r.Environment.GitCommit = "def456"
			return []*results.Run{a(), r}
		}, Options{}, "merge: shards/1 and shards/2 ran different ortbench versions (abc123 vs def456)"},
		{"custom version hook", func() []*results.Run {
			return []*results.Run{a(), b()}
		}, Options{Version: func(r *results.Run) string { return r.Cells[0].Strategy }}, "merge: shards/1 and shards/2 ran different ortbench versions (sequential vs worker-pool)"},
		{"duplicate", func() []*results.Run {
			r := b()
			r.Cells = append(r.Cells, cell(plan[1], "goroutines", 2, 1))
			return []*results.Run{a(), r}
		}, Options{}, "merge: cell goroutines/workers=2/batch=64 is in both shards/1 and shards/2"},
		{"two support-free copies of the baseline", func() []*results.Run {
			r := b()
			r.Cells = append(r.Cells, cell(plan[0], "sequential", 2, 1))
			return []*results.Run{a(), r}
		}, Options{IsSupport: isSupport}, "merge: cell sequential/batch=64 is in both shards/1 and shards/2"},
		{"only support copies", func() []*results.Run {
			r := b()
			r.Cells = append(r.Cells, supportCopy(cell(plan[0], "sequential", 2, 1)))
			return []*results.Run{r}
		}, Options{IsSupport: isSupport}, "merge: cell sequential/batch=64 has only baseline copies (in shards/1): the shard that owns it is missing"},
		{"missing", func() []*results.Run { return []*results.Run{a()} },
			Options{Expected: plan}, "merge: 2 cells missing from every shard: worker-pool/workers=2/batch=64, intra-op/threads=2/batch=64"},
		{"not in plan", func() []*results.Run {
			r := b()
			r.Cells = append(r.Cells, cell("pipeline/workers=2/batch=64", "pipeline", 1, 1))
			return []*results.Run{a(), r}
		}, Options{Expected: plan}, "merge: 1 cell not in the plan: pipeline/workers=2/batch=64"},
		{"machines ran different cells", func() []*results.Run {
			r := run(env2("node2", "EPYC", 4), 0, cell(plan[0], "sequential", 1, 1), cell(plan[2], "worker-pool", 1, 1))
			return []*results.Run{a(), r}
		}, Options{}, "merge: machine node1 lacks 1 cell that other machines ran: worker-pool/workers=2/batch=64 (when a cell runs on several machines, every machine must run every cell); machine node2 lacks 1 cell that other machines ran: goroutines/workers=2/batch=64 (when a cell runs on several machines, every machine must run every cell)"},
	}
	for _, c := range cases {
		runs := c.runs()
		paths := []string{"shards/1", "shards/2"}[:len(runs)]
		_, err := Merge(runs, paths, c.opts)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, err, c.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line", c.name)
		}
	}
	// Identity: cells matched by another key than the name.
	r1, r2 := a(), a()
	r2.Cells[0].Name, r2.Cells[1].Name = "x", "y"
	byStrategy := func(c *results.Cell) string { return c.Strategy }
	if _, err := Merge([]*results.Run{r1, r2}, []string{"shards/1", "shards/2"}, Options{Identity: byStrategy}); err == nil || !strings.Contains(err.Error(), "cell sequential is in both shards/1 and shards/2") {
		t.Errorf("identity hook: %v", err)
	}
	if _, err := Merge(nil, nil, Options{}); err == nil {
		t.Error("no shards: no error")
	}
	if _, err := Merge([]*results.Run{a()}, nil, Options{}); err == nil {
		t.Error("paths missing: no error")
	}
}

// TestMergeTwoMachines: the same experiment run whole on two machines (two
// fabricated environments) merges into a per-machine comparison.
func TestMergeTwoMachines(t *testing.T) {
	small := run(env2("m-small", "Xeon 8375C", 2), 0,
		cell(plan[0], "sequential", 100, 0.010), cell(plan[1], "goroutines", 180, 0.012),
		cell(plan[2], "worker-pool", 190, 0.011), cell(plan[3], "intra-op", 150, 0.009))
	big := run(env2("m-big", "EPYC 9R14", 8), 0,
		cell(plan[0], "sequential", 120, 0.008), cell(plan[1], "goroutines", 700, 0.010),
		cell(plan[2], "worker-pool", 800, 0.009), cell(plan[3], "intra-op", 300, 0.007))
	big.Cells[3].Status = results.StatusFailed // failed cells are not figures

	prices := map[string]float64{"m-small": 0.10, "m-big": 0.40}
	m, err := Merge([]*results.Run{small, big}, []string{"a", "b"}, Options{Expected: plan, PricePerHour: prices})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Compared || len(m.Machines) != 2 || len(m.Run.Cells) != 8 {
		t.Fatalf("compared=%v machines=%d cells=%d", m.Compared, len(m.Machines), len(m.Run.Cells))
	}
	for k, c := range m.Run.Cells {
		if c.Extra[MachineKey] != m.CellMachine[k] {
			t.Errorf("cell %d (%s): extra.machine %v, CellMachine %s", k, c.Name, c.Extra[MachineKey], m.CellMachine[k])
		}
	}
	if m.CellMachine[0] != "m-small" || m.CellMachine[4] != "m-big" {
		t.Errorf("machine-major order expected: %v", m.CellMachine)
	}
	if small.Cells[0].Extra != nil {
		t.Error("Merge modified its input's cells")
	}
	if got := m.Strategies(); strings.Join(got, ",") != "goroutines,intra-op,sequential,worker-pool" {
		t.Errorf("strategies %v", got)
	}
	if !strings.Contains(strings.Join(m.Run.Warnings, " "), "merged from 2 machines (m-small, m-big)") {
		t.Errorf("warnings %q", m.Run.Warnings)
	}

	wp, ok := m.Figures("m-big", "worker-pool")
	if !ok {
		t.Fatal("no worker-pool figures on m-big")
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if wp.Best != plan[2] || wp.RowsPerSecond != 800 || wp.P99Seconds != 0.009 || !near(wp.RowsPerSecondPerCore, 100) || !near(wp.RowsPerCost, 800*3600/0.40) {
		t.Errorf("m-big worker-pool: %+v", wp)
	}
	ws, _ := m.Figures("m-small", "worker-pool")
	if !near(ws.RowsPerSecondPerCore, 95) || !near(ws.RowsPerCost, 190*3600/0.10) {
		t.Errorf("m-small worker-pool: %+v", ws)
	}
	// At worker-pool the big machine wins per core (100 vs 95 rows/s) and
	// per unit of cost (7.2M vs 6.84M rows).
	if !(ws.RowsPerCost < wp.RowsPerCost) {
		t.Errorf("rows per cost: small %v, big %v", ws.RowsPerCost, wp.RowsPerCost)
	}
	if _, ok := m.Figures("m-big", "intra-op"); ok {
		t.Error("a failed cell gave figures")
	}
	if mb := m.Machines[1]; mb.LogicalCores != 8 || mb.CPUModel != "EPYC 9R14" || mb.PricePerHour != 0.40 || mb.Cells != 4 || strings.Join(mb.Hostnames, ",") != "m-big" {
		t.Errorf("machine m-big: %+v", mb)
	}
}

// TestMergeShardsOnTwoMachines: disjoint shards that ran on two different
// machines merge into plan order, each cell keeping its machine.
func TestMergeShardsOnTwoMachines(t *testing.T) {
	s1 := run(env2("node1", "Xeon", 2), 0, cell(plan[0], "sequential", 100, 0.01), cell(plan[2], "worker-pool", 150, 0.01))
	s2 := run(env2("node2", "Xeon", 2), 0, supportCopy(cell(plan[0], "sequential", 98, 0.01)), cell(plan[1], "goroutines", 140, 0.01), cell(plan[3], "intra-op", 120, 0.01))
	m, err := Merge([]*results.Run{s1, s2}, []string{"shards/1", "shards/2"}, Options{Expected: plan, IsSupport: isSupport})
	if err != nil {
		t.Fatal(err)
	}
	if m.Compared || len(m.Machines) != 2 {
		t.Fatalf("compared=%v machines=%d", m.Compared, len(m.Machines))
	}
	want := []string{"node1", "node2", "node1", "node2"}
	if strings.Join(m.CellMachine, ",") != strings.Join(want, ",") {
		t.Errorf("cell machines %v, want %v", m.CellMachine, want)
	}
	if m.Machines[0].Cells != 2 || m.Machines[1].Cells != 2 {
		t.Errorf("cells per machine: %d, %d", m.Machines[0].Cells, m.Machines[1].Cells)
	}
}

func TestFindResults(t *testing.T) {
	dir := t.TempDir()
	write := func(p string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	direct := filepath.Join(dir, "a", "results.json")
	write(direct)
	if got, err := FindResults(filepath.Join(dir, "a")); err != nil || got != direct {
		t.Errorf("direct: %s, %v", got, err)
	}
	old := filepath.Join(dir, "s", "quick", "20260101T000000Z", "results.json")
	newer := filepath.Join(dir, "s", "quick", "20260102T000000Z", "results.json")
	write(old)
	write(newer)
	if got, err := FindResults(filepath.Join(dir, "s")); err != nil || got != newer {
		t.Errorf("nested: %s, %v", got, err)
	}
	write(filepath.Join(dir, "s", "other", "20260103T000000Z", "results.json"))
	if _, err := FindResults(filepath.Join(dir, "s")); err == nil || !strings.Contains(err.Error(), "two experiments") {
		t.Errorf("two experiments: %v", err)
	}
	if _, err := FindResults(filepath.Join(dir, "none")); err == nil {
		t.Error("missing folder: no error")
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindResults(filepath.Join(dir, "empty")); err == nil || !strings.Contains(err.Error(), "no results.json") {
		t.Errorf("empty folder: %v", err)
	}
}
