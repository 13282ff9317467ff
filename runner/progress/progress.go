// Package progress shows a run's progress: on a terminal, one progress line
// redrawn in place on stderr; elsewhere (CI logs, pipes), one plain line per
// cell start and end, so logs stay readable and greppable.
//
// It implements runner.Observer. The runner calls observers from its own
// goroutine, one call at a time, so a Display holds no lock and starts no
// goroutine: the line is redrawn when something happens, not on a timer.
// Under the interleaved schedule it counts rounds and converged cells
// against the target and max_duration (runner.RoundsObserver, rounds.go);
// without a terminal it prints the same totals every few seconds.
//
// Note: structured logs (-v) are log/slog's job in main; this package writes
// for people watching and stays independent of slog.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/results"
)

// New returns the observer for w: a redrawn progress line when w is a
// terminal, plain log lines otherwise, nothing at all when quiet.
func New(w *os.File, quiet bool) runner.Observer {
	if quiet || w == nil {
		return runner.NopObserver{}
	}
	tty := term.IsTerminal(int(w.Fd()))
	d := NewWriter(w, tty)
	if tty {
		d.width = func() int {
			if cols, _, err := term.GetSize(int(w.Fd())); err == nil && cols > 0 {
				return cols
			}
			return 80
		}
	}
	return d
}

// Display is the progress observer. It is not safe for concurrent use; the
// runner never calls it concurrently.
type Display struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	width func() int

	n         int
	names     []string
	runStart  time.Time
	cellStart time.Time
	done      []time.Duration // durations of finished cells, for the ETA
	cur       int
	started   int // index of the cell CellStarted last announced, -1 before any
	name      string
	phase     string
	rep, reps int
	counts    map[string]int
	drawn     bool

	// Interleaved runs: the rounds' totals (rounds.go).
	interleaved bool
	rounds      runner.Rounds
	roundStart  time.Time // when the current round began
	measured    int       // repetitions done in the current round
	lastPlain   time.Time // when the last plain totals line was printed
}

var _ runner.Observer = (*Display)(nil)

// NewWriter returns a Display writing to w; tty selects the redrawn line.
func NewWriter(w io.Writer, tty bool) *Display {
	return &Display{w: w, tty: tty, now: time.Now, width: func() int { return 100 }, counts: map[string]int{}, started: -1}
}

// RunStarted implements runner.Observer.
func (d *Display) RunStarted(experiment string, names []string) {
	d.n, d.names, d.runStart = len(names), names, d.now()
	d.println(fmt.Sprintf("ortbench: %s: %d cells", experiment, len(names)))
}

// CellStarted implements runner.Observer.
func (d *Display) CellStarted(i, n int, name string, reps int) {
	d.cur, d.n, d.name, d.reps, d.rep, d.phase, d.started = i, n, name, reps, 0, "startup", i
	d.cellStart = d.now()
	if d.tty {
		d.redraw()
		return
	}
	fmt.Fprintf(d.w, "[%d/%d] start %s (%d repetitions)\n", i+1, n, name, reps)
}

// Phase implements runner.Observer. A phase may be any short text (the
// server scenario's "load 250 qps"): the line shows it as it is.
func (d *Display) Phase(i int, phase string) {
	d.phase = phase
	if d.tty {
		d.redraw()
	}
}

// RepetitionDone implements runner.Observer.
func (d *Display) RepetitionDone(i, rep, reps int, took time.Duration) {
	d.rep, d.reps = rep, max(reps, rep)
	// Every cell is started before the first round: a repetition that comes
	// after the last start and before any cell finished opens the rounds.
	if !d.interleaved && d.n > 1 && d.started == d.n-1 && len(d.done) == 0 && len(d.counts) == 0 {
		d.interleaved, d.roundStart = true, d.now().Add(-took)
		d.rounds = runner.Rounds{MinRounds: reps, Live: d.n}
	}
	d.measured++
	d.update()
}

// RoundDone implements runner.Observer.
func (d *Display) RoundDone(r int, took time.Duration) {
	d.rounds.Round = r
	d.measured, d.roundStart = 0, d.now()
}

// Rounds implements runner.RoundsObserver: the totals after a round.
func (d *Display) Rounds(r runner.Rounds) {
	d.interleaved, d.rounds = true, r
	d.measured, d.roundStart = 0, d.now()
	d.update()
}

// Note implements runner.Noter: a warning about the whole run, printed now.
func (d *Display) Note(msg string) { d.println("ortbench: warning: " + msg) }

// update redraws the line on a terminal; elsewhere it prints the totals
// at most every plainEvery.
func (d *Display) update() {
	if d.tty {
		d.redraw()
		return
	}
	if d.interleaved && d.now().Sub(d.lastPlain) >= plainEvery {
		d.lastPlain = d.now()
		fmt.Fprintln(d.w, d.totals())
	}
}

// CellDone implements runner.Observer.
func (d *Display) CellDone(i int, c *results.Cell) {
	// A cell skipped before it started (after Ctrl-C) took no time and says
	// nothing about how long the others take.
	var took time.Duration
	if d.started == i {
		took = d.now().Sub(d.cellStart)
		d.done = append(d.done, took)
	}
	d.cur = i + 1
	status := c.Status
	d.counts[status]++
	line := fmt.Sprintf("[%d/%d] %s %s", i+1, d.n, mark(status, d.tty), c.Name)
	switch {
	case results.Measured(c.Status):
		line += fmt.Sprintf("  %s rows/s  %s  p99 %s", results.Num(c.RowsPerSecond), c.SpeedupText(), results.Dur(c.Latency.P99))
		if status == results.StatusUnstable {
			line += "  (unstable: spread over the limit)"
		}
	default:
		line += "  " + c.Status
		if c.Error != "" {
			line += ": " + c.Error
		}
	}
	if d.started == i {
		line += "  in " + round(took).String()
	}
	d.println(line)
}

// RunDone implements runner.Observer.
func (d *Display) RunDone(run *results.Run) {
	// The run's own cells when it has them: a server run's plan cell
	// becomes a cell per load, and those never pass through CellDone.
	counts, n := d.counts, d.n
	if run != nil && len(run.Cells) > 0 {
		counts, n = run.CountStatuses(), len(run.Cells)
	}
	var parts []string
	ran := 0
	for _, s := range results.Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
		if s != results.StatusSkipped {
			ran += counts[s]
		}
	}
	msg := fmt.Sprintf("ortbench: %d of %d cells ran in %s", ran, n, round(d.now().Sub(d.runStart)))
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, ", ")
	}
	if run != nil && run.Interrupted {
		msg += " (interrupted)"
	}
	d.println(msg)
}

func mark(status string, tty bool) string {
	if !tty {
		return "done " + status + ":"
	}
	switch status {
	case "ok":
		return "✓"
	case "unstable":
		return "~"
	case "skipped":
		return "-"
	}
	return "✗"
}

// println writes a permanent line; on a terminal it first clears the
// progress line and draws it again below.
func (d *Display) println(s string) {
	if d.tty && d.drawn {
		fmt.Fprint(d.w, "\r\x1b[2K")
		d.drawn = false
	}
	fmt.Fprintln(d.w, s)
}

// Line is the progress line as it would be drawn now, without the bar's
// terminal control codes: "[3/12] ████░░░░ worker-pool/workers=2  rep 2/5  ETA 1m10s",
// or in an interleaved run's rounds "████░░░░ round 7/6+  5/8 converged (target ±5%)  1m0s of 1m30s  ETA 20s".
func (d *Display) Line() string {
	if d.interleaved {
		frac := d.roundsFraction()
		return bar(frac) + " " + d.totals()
	}
	width := d.width()
	frac := 0.0
	if d.n > 0 {
		within := 0.0
		if d.reps > 0 {
			within = float64(d.rep) / float64(d.reps)
		}
		frac = (float64(d.cur) + within) / float64(d.n)
	}
	tail := fmt.Sprintf("  rep %d/%d  %s", d.rep, d.reps, d.phase)
	if eta, ok := d.eta(); ok {
		tail += "  ETA " + eta.String()
	}
	head := fmt.Sprintf("[%d/%d] %s ", d.cur+1, d.n, bar(frac))
	room := width - len([]rune(head)) - len([]rune(tail)) - 1
	name := d.name
	if r := []rune(name); room < len(r) {
		if room < 8 {
			name = ""
		} else {
			name = "…" + string(r[len(r)-room+1:])
		}
	}
	return head + name + tail
}

// bar draws frac (0…1) as a 16-character bar.
func bar(frac float64) string {
	const barW = 16
	filled := max(0, min(barW, int(frac*barW+0.5)))
	return strings.Repeat("█", filled) + strings.Repeat("░", barW-filled)
}

func (d *Display) redraw() {
	fmt.Fprint(d.w, "\r\x1b[2K"+d.Line())
	d.drawn = true
}

// eta estimates the time left: the mean finished cell's duration for the
// cells not started, plus what remains of this one (from its repetitions
// so far, or the mean when none finished yet).
func (d *Display) eta() (time.Duration, bool) {
	elapsed := d.now().Sub(d.cellStart)
	var per time.Duration
	if len(d.done) > 0 {
		var sum time.Duration
		for _, t := range d.done {
			sum += t
		}
		per = sum / time.Duration(len(d.done))
	}
	cur := per
	if d.rep > 0 && d.reps > 0 {
		cur = time.Duration(float64(elapsed) * float64(d.reps) / float64(d.rep))
	}
	if per == 0 {
		per = cur
	}
	if per == 0 {
		return 0, false
	}
	left := max(cur-elapsed, 0) + per*time.Duration(max(d.n-d.cur-1, 0))
	return round(left), true
}

func round(t time.Duration) time.Duration {
	if t >= time.Minute {
		return t.Round(time.Second)
	}
	return t.Round(100 * time.Millisecond)
}
