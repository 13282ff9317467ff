package runner

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/workload"
)

// TestRoundOrderIsASeededPermutation: every round orders every cell once,
// rounds differ, and the same seed replays the same orders.
func TestRoundOrderIsASeededPermutation(t *testing.T) {
	const n, rounds = 9, 50
	draw := func(seed uint64) [][]int {
		rng := rand.New(rand.NewPCG(seed, 0x6f727462656e6368))
		var out [][]int
		for range rounds {
			out = append(out, roundOrder(rng, n))
		}
		return out
	}
	a, b, c := draw(42), draw(42), draw(43)
	distinct := map[string]bool{}
	for r, order := range a {
		got := slices.Sorted(slices.Values(order))
		for i := range n {
			if got[i] != i {
				t.Fatalf("round %d: %v is not a permutation of 0..%d", r, order, n-1)
			}
		}
		if !slices.Equal(order, b[r]) {
			t.Fatalf("round %d: seed 42 gave %v then %v", r, order, b[r])
		}
		distinct[fmtInts(order)] = true
	}
	if len(distinct) < rounds/2 {
		t.Errorf("only %d distinct orders in %d rounds", len(distinct), rounds)
	}
	same := 0
	for r := range a {
		if slices.Equal(a[r], c[r]) {
			same++
		}
	}
	if same == rounds {
		t.Error("seeds 42 and 43 gave the same orders")
	}
}

func fmtInts(xs []int) string {
	b := make([]byte, 0, len(xs))
	for _, x := range xs {
		b = append(b, byte('a'+x))
	}
	return string(b)
}

// synthCell is a measured cell whose repetition r ran at rates[r] in round r+1.
func synthCell(name, strat string, rates []float64) results.Cell {
	c := results.Cell{Name: name, Strategy: strat, Status: results.StatusOK, CoresUsed: 2,
		Params: results.NewParams("batch_size", 64), Workload: results.Workload{Kind: "onnx", Model: "m.onnx"}}
	for r, v := range rates {
		c.Repetitions = append(c.Repetitions, results.Repetition{RowsPerSecond: v, P99Seconds: 1 / v, Round: r + 1})
	}
	c.RowsPerSecond = metrics.Summarize(rates).Median
	c.Latency.P99 = 1 / c.RowsPerSecond
	return c
}

// TestPairedSpeedupCancelsDrift: the machine's speed drifts 2× over the
// rounds and both cells follow it; the paired speedup is exactly 1.5 with a
// tight interval, where the unpaired ratio's samples spread widely.
func TestPairedSpeedupCancelsDrift(t *testing.T) {
	var base, fast []float64
	for r := range 10 {
		speed := 1 + float64(r)/9 // 1 → 2
		base = append(base, 1000*speed)
		fast = append(fast, 1500*speed)
	}
	run := &results.Run{Schedule: results.ScheduleInfo{Kind: "interleaved"}, Cells: []results.Cell{
		synthCell("sequential/batch_size=64", "sequential", base),
		synthCell("worker-pool/workers=2/batch_size=64", "worker-pool", fast),
	}}
	derive(run, strategy.Default())
	c := run.Cells[1]
	if c.SpeedupInterval == nil || c.Speedup < 1.499 || c.Speedup > 1.501 {
		t.Fatalf("speedup %v interval %+v, want 1.5 paired", c.Speedup, c.SpeedupInterval)
	}
	if w := c.SpeedupInterval.Hi - c.SpeedupInterval.Lo; w > 1e-9 {
		t.Errorf("paired interval width %v, want 0: the drift cancels", w)
	}
	if c.Efficiency != c.Speedup/2 {
		t.Errorf("efficiency %v", c.Efficiency)
	}
	// The same cells as a sequential schedule: ratio of medians, no interval.
	run.Schedule.Kind = "sequential"
	derive(run, strategy.Default())
	if run.Cells[1].SpeedupInterval != nil {
		t.Error("a sequential run has no paired interval")
	}
}

// TestVerdictsTiesAndInconclusive: two cells within noise of each other are
// tied; a clearly slower one is not; unstable leaders still get a verdict;
// too few repetitions are inconclusive.
func TestVerdictsTiesAndInconclusive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a, b, slow []float64
	for r := range 12 {
		speed := 1 + 0.3*float64(r%3)
		a = append(a, 2000*speed*(1+0.01*rng.NormFloat64()))
		b = append(b, 2000*speed*(1+0.01*rng.NormFloat64()))
		slow = append(slow, 1000*speed)
	}
	run := &results.Run{Schedule: results.ScheduleInfo{Kind: "interleaved"}, Cells: []results.Cell{
		synthCell("a", "goroutines", a), synthCell("b", "worker-pool", b), synthCell("slow", "sequential", slow),
	}}
	vs := verdicts(run)
	if len(vs) != 2 || vs[0].Metric != "rows_per_second" {
		t.Fatalf("verdicts %+v", vs)
	}
	v := vs[0]
	if v.Inconclusive || (v.Best != "a" && v.Best != "b") || len(v.Tied) != 1 || v.Tied[0] == "slow" {
		t.Fatalf("verdict %+v: want a and b tied, slow not", v)
	}
	run.Cells[0].Status, run.Cells[1].Status = results.StatusUnstable, results.StatusUnstable
	if v := verdicts(run)[0]; v.Inconclusive || len(v.Tied) != 1 || v.Tied[0] == "slow" {
		t.Errorf("unstable leaders: %+v, want a and b tied, slow beaten", v)
	}
	for i := range run.Cells {
		run.Cells[i].Repetitions = run.Cells[i].Repetitions[:4]
	}
	if v := verdicts(run)[0]; !v.Inconclusive {
		t.Errorf("4 repetitions: %+v, want inconclusive", v)
	}
}

// TestDisturbanceDetected: a competing busy process started by the test is
// reported as other processes' CPU, and marks the stretch disturbed.
func TestDisturbanceDetected(t *testing.T) {
	if !metrics.MarkNoise().Since(metrics.CPUTimes{}).Known {
		t.Skip("no /proc/stat on this system")
	}
	busy := exec.Command("sh", "-c", "while :; do :; done")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { busy.Process.Kill(); busy.Wait() }()
	time.Sleep(100 * time.Millisecond)
	mark := metrics.MarkNoise()
	time.Sleep(time.Second)
	n := mark.Since(metrics.CPUTimes{})
	if !n.Disturbed(0.25) {
		t.Fatalf("a busy process ran the whole second, yet others used %.2f cores", n.OtherCores)
	}
}

// TestFallsBackToSequentialWhenCellsCannotCoexist: with too little memory
// for every cell at once, the run goes cell after cell and says why.
func TestFallsBackToSequentialWhenCellsCannotCoexist(t *testing.T) {
	r, w := heavyRunner(t, "  - strategy: sequential\n  - strategy: goroutines\n    workers: 2\n")
	r.Available = func() uint64 { return 64 << 20 }
	run, err := r.Run(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if run.Schedule.Kind != "sequential" || run.Schedule.Reason == "" {
		t.Fatalf("schedule %+v, want sequential with a reason", run.Schedule)
	}
	r, w = heavyRunner(t, "  - strategy: sequential\n  - strategy: goroutines\n    workers: 2\n")
	r.Available = func() uint64 { return 16 << 30 }
	if run, err = r.Run(context.Background(), w); err != nil || run.Schedule.Kind != "interleaved" || run.Schedule.Seed == 0 {
		t.Fatalf("schedule %+v (%v), want interleaved with its seed", run.Schedule, err)
	}
	for _, c := range run.Cells {
		if len(c.Repetitions) != 2 || c.Repetitions[1].Round != 2 {
			t.Errorf("%s: repetitions %+v", c.Name, c.Repetitions)
		}
	}
}

// heavyRunner is a runner over the built-in heavy task (no ORT needed)
// with the given strategies, two repetitions, into a temporary folder.
func heavyRunner(t *testing.T, strategies string) (*Runner, workload.Workload) {
	t.Helper()
	dir := t.TempDir()
	yaml := "workload: {kind: heavy-task, items: 32, cost: 2000}\nbatch_sizes: [4]\nrepetitions: 2\nwarmup_batches: 0\nstrategies:\n" + strategies
	cfg, err := config.Load(filepath.Join(dir, "x.yaml"), []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := config.Expand(cfg, strategy.Default(), config.Machine{LogicalCores: 2, PhysicalCores: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, err := LoadWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Runner{Plan: plan, Registry: strategy.Default(), OutDir: filepath.Join(dir, "out"), Env: results.Environment{LogicalCores: 2}, BusyWindow: -1}, w
}
