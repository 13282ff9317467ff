package runner

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// rounds are n paired rounds of a cell at level, on a machine whose speed
// wanders ±20% from round to round (shared by every cell), with the cell's
// own noise sd on top.
func rounds(seed uint64, n int, level, sd float64) []float64 {
	machine := rand.New(rand.NewPCG(1, 1))
	own := rand.New(rand.NewPCG(seed, 9))
	xs := make([]float64, n)
	for i := range xs {
		speed := 1 + 0.2*(machine.Float64()*2-1)
		xs[i] = level * speed * (1 + sd*own.NormFloat64())
	}
	return xs
}

func verdictOf(t *testing.T, cells ...results.Cell) results.Verdict {
	t.Helper()
	return verdictLimit(t, 0.25, cells...)
}

func verdictLimit(t *testing.T, limit float64, cells ...results.Cell) results.Verdict {
	t.Helper()
	run := &results.Run{Schedule: results.ScheduleInfo{Kind: "interleaved"}, Settings: results.Settings{UnstableSpread: limit}, Cells: cells}
	vs := verdicts(run)
	if len(vs) != 2 {
		t.Fatalf("verdicts %+v", vs)
	}
	return vs[0]
}

// TestVerdictSeparatedDecides: 8% apart with 2% noise per cell over a
// machine that wanders ±20%: paired per round, the data decide, though
// every cell's own spread is wide.
func TestVerdictSeparatedDecides(t *testing.T) {
	v := verdictOf(t, synthCell("fast", "goroutines", rounds(2, 30, 1080, 0.02)),
		synthCell("base", "sequential", rounds(3, 30, 1000, 0.02)),
		synthCell("slow", "worker-pool", rounds(4, 30, 700, 0.02)))
	if !v.Decided || v.Best != "fast" || len(v.Tied) != 0 || v.Inconclusive {
		t.Fatalf("verdict %+v, want fast decided", v)
	}
	line := results.VerdictLines([]results.Verdict{v})[0]
	if !strings.Contains(line, "fastest: fast, 1.0") || !strings.Contains(line, "the next best, base") {
		t.Errorf("line %q", line)
	}
}

// TestVerdictOverlapTies: 1% apart with 3% noise: a tie, and it says which
// cells overlap and what would decide it.
func TestVerdictOverlapTies(t *testing.T) {
	v := verdictOf(t, synthCell("a", "goroutines", rounds(2, 12, 1010, 0.03)),
		synthCell("b", "sequential", rounds(3, 12, 1000, 0.03)))
	if v.Decided || v.Inconclusive || len(v.Tied) != 1 {
		t.Fatalf("verdict %+v, want a tie", v)
	}
	if !strings.Contains(v.ToDecide, "× the rounds") {
		t.Errorf("to decide %q", v.ToDecide)
	}
	line := results.VerdictLines([]results.Verdict{v})[0]
	if !strings.Contains(line, "tied with ") || !strings.Contains(line, "(closest ") || !strings.Contains(line, "; to decide: about") {
		t.Errorf("line %q", line)
	}
}

// TestVerdictWidenedByInstability: the same 8% lead decides under a limit
// the cells' spread keeps; under a limit they exceed, their instability
// widens the interval until it includes 1 — a tie that asks for a quieter
// machine, not a veto.
func TestVerdictWidenedByInstability(t *testing.T) {
	fast := synthCell("fast", "goroutines", rounds(2, 30, 1080, 0.02))
	base := synthCell("base", "sequential", rounds(3, 30, 1000, 0.02))
	if v := verdictLimit(t, 0.5, fast, base); !v.Decided || v.Contests[0].Ratio.Widened != 1 {
		t.Fatalf("stable: %+v, want decided, not widened", v)
	}
	v := verdictLimit(t, 0.02, fast, base)
	if v.Decided || v.Inconclusive || v.Contests[0].Ratio.Widened <= 1 {
		t.Fatalf("unstable: %+v, want a tie widened by instability", v)
	}
	if !strings.Contains(v.ToDecide, "quieter machine") {
		t.Errorf("to decide %q", v.ToDecide)
	}
}

// TestVerdictSequentialUnpaired: without rounds, the Hodges–Lehmann ratio
// of the two samples decides a clear difference.
func TestVerdictSequentialUnpaired(t *testing.T) {
	a, b := synthCell("a", "goroutines", rounds(2, 10, 1500, 0.02)), synthCell("b", "sequential", rounds(3, 10, 1000, 0.02))
	run := &results.Run{Schedule: results.ScheduleInfo{Kind: "sequential"}, Cells: []results.Cell{a, b}}
	v := verdicts(run)[0]
	if !v.Decided || v.Best != "a" || v.Method != "Hodges-Lehmann" {
		t.Fatalf("verdict %+v", v)
	}
}

// TestDisturbedLeftOut: disturbed rounds do not enter the paired ratios.
func TestDisturbedLeftOut(t *testing.T) {
	a, b := synthCell("a", "goroutines", rounds(2, 10, 1000, 0.01)), synthCell("b", "sequential", rounds(3, 10, 1000, 0.01))
	a.Repetitions[3].Noise = &results.Noise{Disturbed: true}
	if n := len(pairedRatios(&a, &b, rate)); n != 9 {
		t.Errorf("%d paired ratios, want 9", n)
	}
}
