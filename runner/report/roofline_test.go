package report

import (
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// The roofline section is there when the run has a ceiling and a cell with
// GFLOP/s, with a roof per core count the cells used, every placed cell
// numbered and named in the key; without a ceiling it is absent.
func TestRooflineChart(t *testing.T) {
	run := sampleRun()
	doc := render(t, run)
	ids := checkWellFormed(t, doc)
	if !ids["chart-roofline"] || !ids["roofline"] {
		t.Fatal("roofline chart missing")
	}
	chart, key := rooflineChart(run, strategyColors(run))
	placed, _ := rooflineCells(run)
	if len(key) != len(placed) || len(placed) != 14 {
		t.Errorf("%d cells placed, key has %d", len(placed), len(key))
	}
	for _, want := range []string{"1 core: 107.8 GFLOP/s", "16 cores: 1197 GFLOP/s", "4 cores: 50.54 GB/s", "ridge point, 8 cores", "FLOPs per byte"} {
		if !strings.Contains(string(chart), want) {
			t.Errorf("roofline lacks %q", want)
		}
	}
	if !strings.Contains(key[0], "% of the roofline") {
		t.Errorf("key: %q", key[0])
	}

	none := sampleRun()
	none.Environment.Ceiling = nil
	doc = render(t, none)
	if strings.Contains(doc, "chart-roofline") {
		t.Error("roofline drawn without a ceiling")
	}
}

// A ceiling without bandwidth (cached by an older ortbench), cells without
// an intensity, or no cell with GFLOP/s at all: no NaN, and the chart says
// what it left out.
func TestRooflineEdgeCases(t *testing.T) {
	old := sampleRun()
	for i := range old.Environment.Ceiling.Points {
		old.Environment.Ceiling.Points[i].BandwidthGBPS = 0
	}
	noAI := sampleRun()
	for i := range noAI.Cells {
		if c := noAI.Cells[i].Compute; c != nil {
			c.FlopsPerByte, c.BytesPerRow = nil, nil
		}
	}
	noFlops := sampleRun()
	for i := range noFlops.Cells {
		noFlops.Cells[i].Compute = &results.Compute{Note: "flops unknown: tree ensembles compare rather than multiply"}
	}
	for name, tc := range map[string]struct {
		run   *results.Run
		shown bool
		want  string
	}{
		"no bandwidth": {old, true, "no bandwidth ceiling measured"},
		"no intensity": {noAI, true, "14 cells with GFLOP/s but no arithmetic intensity"},
		"no flops":     {noFlops, false, ""},
	} {
		t.Run(name, func(t *testing.T) {
			doc := render(t, tc.run)
			checkWellFormed(t, doc)
			if got := strings.Contains(doc, "chart-roofline"); got != tc.shown {
				t.Fatalf("roofline shown = %v, want %v", got, tc.shown)
			}
			for _, bad := range []string{"NaN", "Inf"} {
				if strings.Contains(doc, bad) {
					t.Errorf("report contains %q", bad)
				}
			}
			if !strings.Contains(doc, tc.want) {
				t.Errorf("report lacks %q", tc.want)
			}
		})
	}
}

// Labels of points stacked at one intensity are spread into a column
// beside them, centred on the points, with leader lines; a lone point's
// label sits beside it.
func TestPlaceLabels(t *testing.T) {
	s := newSVG("x", "x", 400, 300)
	placeLabels(s, []label{{100, 100, "1"}, {100, 102, "2"}, {101, 104, "3"}, {300, 100, "4"}}, 10, 290)
	out := string(s.html())
	// Centres 88, 102, 116 (mean 102), baselines +4, x = 101 + 9 + 22.
	for _, y := range []string{`y="92.0"`, `y="106.0"`, `y="120.0"`} {
		if !strings.Contains(out, `x="132.0" `+y) {
			t.Errorf("no label at x=132 %s:\n%s", y, out)
		}
	}
	if !strings.Contains(out, `x="309.0" y="104.0"`) {
		t.Errorf("lone label not beside its point:\n%s", out)
	}
	if strings.Count(out, `class="leader"`) != 3 {
		t.Errorf("want 3 leader lines:\n%s", out)
	}
	// Pressed against the bottom: the column stays inside.
	ys := spread([]label{{0, 280, ""}, {0, 281, ""}, {0, 282, ""}}, 14, 10, 290)
	if ys[2]-4 > 290 || ys[1]-ys[0] != 14 {
		t.Errorf("spread at the bottom = %v", ys)
	}
}

func TestTightLog(t *testing.T) {
	for _, tc := range []struct {
		lo, hi, wantLo, wantHi float64
	}{
		{7, 1556, 5, 2000},
		{0.3, 40, 0.2, 50},
		{10, 100, 10, 100},
	} {
		lo, hi, ticks := tightLog(tc.lo, tc.hi)
		if lo != tc.wantLo || hi != tc.wantHi || ticks[0] != lo || ticks[len(ticks)-1] != hi {
			t.Errorf("tightLog(%g, %g) = %g, %g, %v", tc.lo, tc.hi, lo, hi, ticks)
		}
	}
}

// TestRoofMeasuredEveryRound: with the ceiling measured every round the
// compute roof is the rounds' median burst, which the cells' % is paired
// with; before the run it is the best trial.
func TestRoofMeasuredEveryRound(t *testing.T) {
	ceil := &results.Ceiling{How: results.CeilingEveryRound, Points: []results.CeilingPoint{{Threads: 2, GFLOPS: 150, BandwidthGBPS: 10}},
		Rounds: []results.CeilingRound{{Round: 1, Threads: 2, GFLOPS: 90}, {Round: 2, Threads: 2, GFLOPS: 120}, {Round: 3, Threads: 2, GFLOPS: 100}, {Round: 1, Threads: 1, GFLOPS: 5}}}
	if got := rooflineRoofs(ceil, nil); len(got) != 1 || got[0].gflops != 100 || got[0].gbs != 10 {
		t.Errorf("every round: roofs %+v, want the 2-core bursts' median 100", got)
	}
	ceil.How = results.CeilingBeforeRun
	if got := rooflineRoofs(ceil, nil); len(got) != 1 || got[0].gflops != 150 {
		t.Errorf("before the run: roofs %+v, want the best trial 150", got)
	}
}
