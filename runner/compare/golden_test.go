package compare

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// update rewrites testdata/golden (go test ./runner/compare -run Golden -update).
var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

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

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./runner/compare -run Golden -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./runner/compare -run Golden -update rewrites it); got:\n%s", path, got)
	}
}
