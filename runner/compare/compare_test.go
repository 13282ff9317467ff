package compare

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

func cell(name string, rps ...float64) results.Cell {
	c := results.Cell{Name: name, Strategy: "worker-pool", Status: results.StatusOK}
	for _, v := range rps {
		c.Repetitions = append(c.Repetitions, results.Repetition{RowsPerSecond: v, P99Seconds: 1 / v})
	}
	s := slices.Sorted(slices.Values(rps))
	c.RowsPerSecond = s[len(s)/2]
	if len(s)%2 == 0 {
		c.RowsPerSecond = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	c.Latency.P99 = 1 / c.RowsPerSecond
	return c
}

func run(exp string, cells ...results.Cell) *results.Run {
	return &results.Run{Schema: results.Schema, Experiment: results.Experiment{Name: exp}, Cells: cells}
}

func TestCompareSignificantDrop(t *testing.T) {
	old := run("e", cell("a", 1000, 1010, 990, 1005, 995, 1002))
	new := run("e", cell("a", 800, 810, 790, 805, 795, 802))
	r, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cells[0]
	if c.Verdict != Slower || !c.Throughput.Significant {
		t.Fatalf("verdict %q significant %v, want slower: %+v", c.Verdict, c.Throughput.Significant, c.Throughput)
	}
	if c.Throughput.Pct > -19 || c.Throughput.Pct < -21 {
		t.Errorf("pct = %v, want about -20", c.Throughput.Pct)
	}
	if !c.P99.Significant || c.P99.Pct <= 0 {
		t.Errorf("p99 should have risen significantly: %+v", c.P99)
	}
	if !r.FailOnRegression(10) {
		t.Error("FailOnRegression(10) = false, want true")
	}
	if r.FailOnRegression(25) {
		t.Error("FailOnRegression(25) = true, want false (drop is 20%)")
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "-19.98%") || !strings.Contains(buf.String(), "slower") {
		t.Errorf("text:\n%s", buf.String())
	}
}

func TestCompareFaster(t *testing.T) {
	r, err := Compare(run("e", cell("a", 100, 101, 99, 100, 102)), run("e", cell("a", 200, 201, 199, 200, 202)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Cells[0].Verdict != Faster || r.FailOnRegression(0) {
		t.Fatalf("got %+v", r.Cells[0])
	}
}

func TestCompareNoise(t *testing.T) {
	old := run("e", cell("a", 1000, 1030, 970, 1010, 990))
	new := run("e", cell("a", 1005, 975, 1025, 995, 1000))
	r, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cells[0]
	if c.Verdict != NoChange || c.Throughput.Text != "~" || c.Throughput.Significant {
		t.Fatalf("got %+v", c)
	}
	if r.FailOnRegression(0) {
		t.Error("noise counted as regression")
	}
}

func TestCompareTooFewSamples(t *testing.T) {
	r, err := Compare(run("e", cell("a", 1000, 1001)), run("e", cell("a", 500, 501)))
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cells[0]
	if c.Verdict != CannotJudge || c.Throughput.Warning == "" {
		t.Fatalf("two samples each cannot be judged, want warning: %+v", c)
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	if !strings.Contains(buf.String(), "¹ need") {
		t.Errorf("missing footnote:\n%s", buf.String())
	}
}

func TestCompareMissingCells(t *testing.T) {
	failed := cell("c", 1, 2, 3)
	failed.Status = results.StatusFailed
	old := run("e", cell("a", 1, 2, 3), cell("b", 1, 2, 3), cell("c", 1, 2, 3))
	new := run("e", cell("a", 1, 2, 3), cell("d", 1, 2, 3), failed)
	r, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cells) != 2 || len(r.OnlyOld) != 1 || r.OnlyOld[0] != "b" || len(r.OnlyNew) != 1 || r.OnlyNew[0] != "d" {
		t.Fatalf("got %+v", r)
	}
	if r.Cells[1].Verdict != NotComparable {
		t.Errorf("failed cell verdict %q", r.Cells[1].Verdict)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"only in old: b", "only in new: d", "not comparable (old ok, new failed)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Cells) != 2 || back.OnlyNew[0] != "d" {
		t.Errorf("json round trip: %+v", back)
	}
}

func TestCompareDifferentExperiments(t *testing.T) {
	_, err := Compare(run("x"), run("y"))
	if err == nil || err.Error() != "comparing different experiments: x vs y" {
		t.Fatalf("err = %v", err)
	}
}

func TestCellThatNowFailsIsARegression(t *testing.T) {
	old := run("x", cell("a", 100, 101, 99, 100, 102, 98))
	broken := results.Cell{Name: "a", Strategy: "worker-pool"}
	broken.Status, broken.Error = results.StatusFailed, "verification failed: row 3"
	rep, err := Compare(old, run("x", broken))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Regressions(50); len(got) != 1 || got[0] != "a (now failed)" {
		t.Fatalf("regressions %v", got)
	}
	if !rep.FailOnRegression(50) {
		t.Fatal("a cell that now fails must fail --fail-on-regression")
	}
}

// noisyCell is n repetitions around level with relative noise sd, drawn
// from a seeded generator, and every fifth repetition 30% low.
func noisyCell(name string, seed uint64, n int, level, sd float64) results.Cell {
	rng := rand.New(rand.NewPCG(seed, 11))
	var xs []float64
	for i := range n {
		v := level * (1 + sd*rng.NormFloat64())
		if i%5 == 4 {
			v *= 0.7
		}
		xs = append(xs, v)
	}
	return cell(name, xs...)
}

// TestGateFiresOnLargeDrop: a −70% change over noisy, even unstable cells
// is a regression at 5%; a −3% change over the same noise is not. The
// unstable side widens the interval instead of being skipped.
func TestGateFiresOnLargeDrop(t *testing.T) {
	old := run("e", noisyCell("a", 1, 12, 1000, 0.1), noisyCell("b", 2, 12, 1000, 0.1), noisyCell("c", 3, 12, 1000, 0.1))
	old.Cells[0].Status = results.StatusUnstable
	drop := run("e", noisyCell("a", 4, 12, 300, 0.1), noisyCell("b", 5, 12, 970, 0.1), noisyCell("c", 6, 12, 1000, 0.1))
	drop.Cells[0].Status = results.StatusUnstable
	old.Settings.UnstableSpread = 0.1 // every cell here is unstable: widened
	r, err := Compare(old, drop)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Regressions(5); len(got) != 1 || got[0] != "a" {
		t.Fatalf("regressions at 5%%: %v; cells %+v", got, r.Cells)
	}
	a := r.Cells[0].Throughput.Change
	if a == nil || a.Widened <= 1 || !a.Below(0.5) {
		t.Errorf("a's change %+v: want widened and below −50%%", a)
	}
	if r.Cells[1].Throughput.Pct > -1 || r.Cells[1].Throughput.Pct < -6 {
		t.Errorf("b's change %.1f%%, want about −3%%", r.Cells[1].Throughput.Pct)
	}
	if r.FailOnRegression(80) {
		t.Error("a −70% change failed a gate at 80%")
	}
	var buf bytes.Buffer
	err = r.WriteText(&buf)
	t.Log(buf.String())
	if err != nil || !strings.Contains(buf.String(), "widened ×") {
		t.Errorf("text lacks the widened interval:\n%s", buf.String())
	}
}

// TestGateSaysWhyItCannotJudge: three repetitions a side give no interval.
func TestGateSaysWhyItCannotJudge(t *testing.T) {
	r, err := Compare(run("e", cell("a", 1000, 1010, 990)), run("e", cell("a", 300, 310, 290)))
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Cells[0]; c.Verdict != CannotJudge || !strings.Contains(c.Why, "3 undisturbed repetitions old") {
		t.Fatalf("cell %+v", c)
	}
	if len(r.Unjudged()) != 1 || r.FailOnRegression(5) {
		t.Errorf("unjudged %v", r.Unjudged())
	}
}

// TestDisturbedRepetitionsLeftOut: disturbed repetitions do not enter the test.
func TestDisturbedRepetitionsLeftOut(t *testing.T) {
	c := cell("a", 1000, 1010, 990, 1005, 995, 1001, 999, 100)
	c.Repetitions[7].Noise = &results.Noise{Disturbed: true}
	if xs := samples(&c, throughput); len(xs) != 7 || slices.Contains(xs, 100) {
		t.Errorf("samples %v", xs)
	}
	// Too few left without them: every repetition counts, as in the figures.
	c.Repetitions[0].Noise = &results.Noise{Disturbed: true}
	c.Repetitions[1].Noise = &results.Noise{Disturbed: true}
	if xs := samples(&c, throughput); len(xs) != 8 {
		t.Errorf("samples %v, want all 8", xs)
	}
}

// TestWarnsWhenRunsDiffer: runs with another config, repetitions, machine,
// ONNX Runtime or commit are compared, with a warning for each difference.
func TestWarnsWhenRunsDiffer(t *testing.T) {
	a, b := run("e", cell("a", 100, 101, 99)), run("e", cell("a", 100, 101, 99))
	if r, _ := Compare(a, b); len(r.Warnings) != 0 {
		t.Fatalf("identical settings warned: %v", r.Warnings)
	}
	b.Experiment.ConfigSHA256 = "abc"
	b.Settings.Repetitions = 3
	b.Environment.CPUModel = "Other CPU"
	b.Environment.OnnxruntimeVersion = "1.24.4"
	b.Environment.GitCommit = "deadbeef"
	r, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config_sha256", "repetitions", "machine", "ONNX Runtime", "commit"} {
		found := false
		for _, w := range r.Warnings {
			found = found || strings.Contains(w, want)
		}
		if !found {
			t.Errorf("no warning about %s in %v", want, r.Warnings)
		}
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "warning: different repetitions: 0 vs 3") {
		t.Errorf("text lacks the warnings:\n%s", buf.String())
	}
}

// TestGateUnstableRunsAtDifferentLoads: both runs unstable, the second met a
// busier machine (−25%, significant by the test): the widened interval
// includes no change, so the gate holds — the test alone does not decide
// for unstable cells.
func TestGateUnstableRunsAtDifferentLoads(t *testing.T) {
	old := run("e", noisyCell("a", 1, 14, 1000, 0.3))
	busier := run("e", noisyCell("a", 2, 14, 750, 0.3))
	old.Settings.UnstableSpread = 0.1
	r, err := Compare(old, busier)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cells[0]
	if !c.Throughput.Significant || c.Throughput.Change.Widened <= 1 || c.Throughput.HolmSignificant || r.FailOnRegression(5) {
		t.Errorf("cell %+v change %+v: want widened, not a regression", c, *c.Throughput.Change)
	}
}
