package compare

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// TestCompareFollowsPercentiles: compare shows the tail percentiles both
// runs list — p99.99 for two runs of [50, 99.99], none for such a run
// against an older file (the default list), which it still reads and
// warns about.
func TestCompareFollowsPercentiles(t *testing.T) {
	read := func(name string) *results.Run {
		run, err := results.ReadJSON(filepath.Join("..", "results", "testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		run.Experiment.Name = "x"
		return run
	}
	header := func(r *Report) []string {
		var b bytes.Buffer
		if err := r.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == "cell" {
				return slices.DeleteFunc(f, func(w string) bool { return w == "old" || w == "new" || w == "vs" })
			}
		}
		t.Fatalf("no header in\n%s", b.String())
		return nil
	}
	r, err := Compare(read("percentiles.json"), read("percentiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(header(r), " "); got != "cell rows/s rows/s p p99.99 p99.99 CPU/1k CPU/1k verdict" {
		t.Errorf("header %q", got)
	}
	if d, ok := r.Cells[0].Figures["latency_p99_99_seconds"]; !ok || d.Old != 0.009 || d.OldN < 2 { // tested on the repetitions' readings
		t.Errorf("p99.99 change %+v", d)
	}
	r, err = Compare(read("serving.json"), read("percentiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(header(r), " "); got != "cell rows/s rows/s p CPU/1k CPU/1k verdict" {
		t.Errorf("header against an older file %q", got)
	}
	if !slices.Contains(r.Warnings, "different percentiles: p50, p90, p99, p99.9 vs p50, p99.99") {
		t.Errorf("warnings %q", r.Warnings)
	}
}
