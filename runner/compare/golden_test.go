package compare

import (
	"bytes"
	"path/filepath"
	"testing"

	goldenfile "github.com/ortbench/ortbench/internal/golden"
	"github.com/ortbench/ortbench/runner/results"
)

// TestGoldenRendering renders, as text and JSON, the comparison of
// results' sweep fixture with a copy in which one cell got slower, one
// faster, one failed and one gained its repetitions' CPU time twice over:
// the rendering of every metric compare shows, and of a row that is not
// comparable.
func TestGoldenRendering(t *testing.T) {
	fixture := filepath.Join("..", "results", "testdata", "golden", "sweep.json")
	old, err := results.ReadJSON(fixture)
	if err != nil {
		t.Fatal(err)
	}
	new, err := results.ReadJSON(fixture)
	if err != nil {
		t.Fatal(err)
	}
	scale := func(c *results.Cell, f float64) {
		c.RowsPerSecond *= f
		c.Throughput.Median, c.Throughput.Lo, c.Throughput.Hi = c.Throughput.Median*f, c.Throughput.Lo*f, c.Throughput.Hi*f
		c.Latency.P99 /= f
		c.CPU.UserSeconds /= f
		for i := range c.Repetitions {
			r := &c.Repetitions[i]
			r.RowsPerSecond *= f * (1 + 0.001*float64(i))
			r.P99Seconds /= f
			r.CPUSeconds /= f
		}
	}
	scale(&new.Cells[1], 0.8)
	scale(&new.Cells[2], 1.25)
	new.Cells[3].Status, new.Cells[3].Error = results.StatusFailed, "boom"
	new.StartedAt = new.StartedAt.Add(600e9)
	r, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", text.String())
	golden(t, "compare.json", js.String())
}

// golden compares got with testdata/golden/name, or rewrites it under
// -update (internal/golden).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got)
}
