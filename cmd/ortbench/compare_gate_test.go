package main

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/runner/results"
)

// noisyRun is synthRun with 12 noisy repetitions (±8%, and one in four 25%
// low: an unstable cell) scaled by scale.
func noisyRun(seed uint64, scale float64) *results.Run {
	run := synthRun("quick", 1000)
	c := &run.Cells[0]
	rng := rand.New(rand.NewPCG(seed, 3))
	c.Repetitions = nil
	for i := range 12 {
		v := 1000 * scale * (1 + 0.08*rng.NormFloat64())
		if i%4 == 3 {
			v *= 0.75
		}
		c.Repetitions = append(c.Repetitions, results.Repetition{RowsPerSecond: v, P99Seconds: 1 / v, Round: i + 1})
	}
	c.Status, c.RowsPerSecond = results.StatusUnstable, 1000*scale
	run.Settings.UnstableSpread = 0.1
	return run
}

// TestCompareExitCodes: every throughput × 0.7 fails a 5% gate with exit 4
// although both sides are unstable; a second run of the same build passes.
func TestCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	old := writeRun(t, filepath.Join(dir, "old.json"), noisyRun(1, 1))
	scaled := writeRun(t, filepath.Join(dir, "scaled.json"), noisyRun(1, 0.7))
	again := writeRun(t, filepath.Join(dir, "again.json"), noisyRun(2, 1))
	if code, out, stderr := cli(t, "compare", old, scaled, "--fail-on-regression", "5"); code != exitRegression || !strings.Contains(stderr, "regression") {
		t.Errorf("× 0.7: exit %d, want %d\n%s%s", code, exitRegression, out, stderr)
	}
	if code, out, stderr := cli(t, "compare", old, again, "--fail-on-regression", "5"); code != 0 {
		t.Errorf("same build: exit %d, want 0\n%s%s", code, out, stderr)
	}
}
