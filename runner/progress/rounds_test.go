package progress

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner"
)

// driveRounds runs an interleaved run of 3 cells: each repetition takes 2 s,
// so a round takes 6 s; by round r, r−1 cells have converged.
func driveRounds(d *Display, c *clock, rounds int) {
	names := []string{"a", "b", "c"}
	d.RunStarted("quick", names)
	d.Note("busy machine: other processes are using 1.5 of 2 cores: expect noisy numbers")
	for i, n := range names {
		d.CellStarted(i, 3, n, 6)
	}
	start := c.now()
	for r := 1; r <= rounds; r++ {
		for i := range names {
			c.advance(2 * time.Second)
			d.RepetitionDone(i, r, 6, 2*time.Second)
		}
		d.RoundDone(r, 6*time.Second)
		d.Rounds(runner.Rounds{Round: r, MinRounds: 6, TargetInterval: 0.05, MaxDuration: 90 * time.Second,
			Elapsed: c.now().Sub(start), Live: 3, Converged: min(r-1, 3), Widest: 0.10})
	}
}

func TestRoundsPlainLines(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	d := NewWriter(&buf, false)
	d.now = c.now
	driveRounds(d, c, 3)
	out := buf.String()
	warn := strings.Index(out, "ortbench: warning: busy machine")
	start := strings.Index(out, "[1/3] start a")
	if warn < 0 || start < 0 || warn > start {
		t.Fatalf("the busy-machine warning must come before the cells start:\n%s", out)
	}
	// A totals line every 5 s at most (repetitions every 2 s), each with the
	// target and the time budget.
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "round ") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 3 || len(lines) > 5 {
		t.Fatalf("%d totals lines in 18 s, want one every ~5 s:\n%s", len(lines), out)
	}
	last := lines[len(lines)-1]
	for _, want := range []string{"/6+", "converged (target ±5%)", "of 1m30s", "ETA "} {
		if !strings.Contains(last, want) {
			t.Errorf("totals %q lack %q", last, want)
		}
	}
}

func TestRoundsLine(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	d := NewWriter(&buf, true)
	d.now = c.now
	driveRounds(d, c, 6)
	line := d.Line()
	// Round 6 done: the next is 7, past the 6 required; 5 of 3 → all 3.
	if !strings.Contains(line, "round 7/6+") || !strings.Contains(line, "3/3 converged") {
		t.Errorf("line %q", line)
	}
	if strings.Contains(line, "rep ") {
		t.Errorf("an interleaved run's line counts rounds, not one cell's repetitions: %q", line)
	}
}

// TestRoundsETA: the smaller of the rounds the widest cell needs and what
// is left of max_duration, never less than the rounds that always run.
func TestRoundsETA(t *testing.T) {
	mean := 10 * time.Second
	r := runner.Rounds{Round: 6, MinRounds: 6, TargetInterval: 0.05, MaxDuration: 10 * time.Minute, Elapsed: time.Minute, Live: 4, Converged: 2, Widest: 0.10}
	// ± 10% → 5% takes 4× the rounds: 24, 18 more, 3 min < 9 min left.
	if eta, ok := roundsETA(r, mean, 0); !ok || eta != 3*time.Minute {
		t.Errorf("by rounds: %v %v, want 3m", eta, ok)
	}
	r.MaxDuration = 2 * time.Minute // 1 min left < 3 min of rounds
	if eta, _ := roundsETA(r, mean, 0); eta != time.Minute {
		t.Errorf("by max_duration: %v, want 1m", eta)
	}
	r.Round, r.Elapsed = 2, 20*time.Second // 4 rounds must still run
	r.Widest = math.Inf(1)
	if eta, _ := roundsETA(r, mean, 0); eta != 100*time.Second {
		t.Errorf("no interval yet: %v, want what is left of max_duration (1m40s)", eta)
	}
	r.TargetInterval = 0
	if eta, _ := roundsETA(r, mean, 5*time.Second); eta != 35*time.Second {
		t.Errorf("without a target: %v, want 4 rounds less 5 s", eta)
	}
	if _, ok := roundsETA(r, 0, 0); ok {
		t.Error("an ETA before any round finished")
	}
}
