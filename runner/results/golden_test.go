package results

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	goldenfile "github.com/ortbench/ortbench/internal/golden"
	"github.com/ortbench/ortbench/runner/stats"
)

func TestGoldenOutputs(t *testing.T) {
	for _, name := range []string{"sweep", "serving", "percentiles"} {
		run, err := ReadJSON(filepath.Join("testdata", "golden", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			ext    string
			encode func(*Run, *bytes.Buffer) error
		}{
			{"table", func(r *Run, b *bytes.Buffer) error { fmt.Fprintln(b, Title(r)); return WriteTable(r, b) }},
			{"csv", func(r *Run, b *bytes.Buffer) error { return EncodeCSV(r, b) }},
			{"bench.txt", func(r *Run, b *bytes.Buffer) error { return EncodeBenchfmt(r, b) }},
			{"out.json", func(r *Run, b *bytes.Buffer) error { return EncodeJSON(r, b) }},
			{"md", func(r *Run, b *bytes.Buffer) error { return EncodeMarkdown(r, b) }},
		} {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.encode(run, &b); err != nil {
					t.Fatal(err)
				}
				golden(t, name+"."+f.ext, b.String())
			})
		}
	}
}

// golden compares got with testdata/golden/name, or rewrites it under
// -update (internal/golden).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got)
}

// TestGoldenMarkdownVerdicts: the Markdown summary's verdict lines — a
// decided winner, a tie with what would decide it, and a serving verdict —
// on the sweep's cells (the fixtures carry none).
func TestGoldenMarkdownVerdicts(t *testing.T) {
	run, err := ReadJSON(filepath.Join("testdata", "golden", "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	ratio := func(m, lo, hi float64) stats.Interval {
		return stats.Interval{Median: m, Lo: lo, Hi: hi, Confidence: 0.95}
	}
	run.Verdicts = []Verdict{
		{Group: "mlp_small_digits, batch=64", Metric: "rows_per_second", Best: "worker-pool/workers=8/threads=1/batch=64", Decided: true,
			Contests: []stats.Contest{{Rival: "hybrid/workers=4/threads=4/batch=64", Ratio: ratio(1.17, 1.08, 1.27)}}, Method: "paired per round"},
		{Group: "mlp_small_digits, batch=64", Metric: "latency_p99_seconds", Best: "intra-op/workers=0/threads=4/batch=64",
			Tied:     []string{"intra-op/workers=0/threads=8/batch=64"},
			Contests: []stats.Contest{{Rival: "intra-op/workers=0/threads=8/batch=64", Ratio: ratio(1.03, 0.97, 1.1)}},
			ToDecide: "more rounds (target_interval)", Method: "paired per round"},
	}
	run.ServingVerdicts = []ServingVerdict{{Group: "mlp_small_digits, 1 row per request, p99 ≤ 20ms", Best: "worker-pool/workers=8/threads=1/batch=64/slo_search", MaxQPS: 1200, UpperQPS: 1300}}
	var b bytes.Buffer
	if err := EncodeMarkdown(run, &b); err != nil {
		t.Fatal(err)
	}
	golden(t, "verdicts.md", b.String())
}
