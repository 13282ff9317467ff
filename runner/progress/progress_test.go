package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/results"
)

// clock is a fake time source advanced by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func drive(d *Display, c *clock) {
	names := []string{"sequential/batch=64", "worker-pool/workers=2/batch=64", "worker-pool/workers=4/batch=64"}
	d.RunStarted("quick", names)
	cells := []results.Cell{
		{Name: names[0], Status: results.StatusOK, RowsPerSecond: 12345, Speedup: 1, Latency: results.Latency{P99: 0.002}},
		{Name: names[1], Status: results.StatusFailed, Error: "verification failed: 3 mismatches"},
		{Name: names[2], Status: results.StatusSkipped, Error: "interrupted"},
	}
	for i, name := range names {
		if cells[i].Status == results.StatusSkipped {
			d.CellDone(i, &cells[i]) // skipped before it started, as after Ctrl-C
			continue
		}
		d.CellStarted(i, len(names), name, 2)
		d.Phase(i, "warmup")
		d.Phase(i, "measure")
		for r := 1; r <= 2; r++ {
			c.advance(5 * time.Second)
			d.RepetitionDone(i, r, 2, 5*time.Second)
		}
		d.Phase(i, "verify")
		d.CellDone(i, &cells[i])
	}
	d.RunDone(&results.Run{Interrupted: true})
}

func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	d := NewWriter(&buf, false)
	d.now = c.now
	drive(d, c)
	out := buf.String()
	want := `ortbench: quick: 3 cells
[1/3] start sequential/batch=64 (2 repetitions)
[1/3] done ok: sequential/batch=64  12.3k rows/s  n/a  p99 2.00ms  in 10s
[2/3] start worker-pool/workers=2/batch=64 (2 repetitions)
[2/3] done failed: worker-pool/workers=2/batch=64  failed: verification failed: 3 mismatches  in 10s
[3/3] done skipped: worker-pool/workers=4/batch=64  skipped: interrupted
ortbench: 2 of 3 cells ran in 20s: 1 ok, 1 failed, 1 skipped (interrupted)
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") {
		t.Error("control codes in plain output")
	}
}

func TestTerminalLine(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	d := NewWriter(&buf, true)
	d.now = c.now
	d.RunStarted("quick", []string{"a", "b", "c", "d"})
	d.CellStarted(0, 4, "a", 4)
	c.advance(10 * time.Second)
	d.CellDone(0, &results.Cell{Name: "a", Status: results.StatusOK})
	d.CellStarted(1, 4, "worker-pool/workers=2/batch=64", 5)
	d.Phase(1, "measure")
	c.advance(4 * time.Second)
	d.RepetitionDone(1, 2, 5, 2*time.Second)
	line := d.Line()
	// Cell 2 of 4 at 2/5 reps: 10s per cell so far, 6s left here + 2 cells × 10s.
	for _, want := range []string{"[2/4] ", "worker-pool/workers=2/batch=64", "rep 2/5", "measure", "ETA 26s", "█"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	if !strings.Contains(buf.String(), "\r\x1b[2K") {
		t.Error("no redraw on a terminal")
	}
	// A narrow terminal shortens the name rather than wrapping.
	d.width = func() int { return 60 }
	if l := d.Line(); len([]rune(l)) > 60 || !strings.Contains(l, "…") {
		t.Errorf("narrow line %q (%d runes)", l, len([]rune(l)))
	}
}

func TestNewQuietAndNonTerminal(t *testing.T) {
	if _, ok := New(os.Stderr, true).(runner.NopObserver); !ok {
		t.Error("quiet should observe nothing")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, ok := New(f, false).(*Display)
	if !ok || d.tty {
		t.Fatalf("a file is not a terminal: %#v", d)
	}
}
