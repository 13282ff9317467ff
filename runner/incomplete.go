package runner

import (
	"context"
	"fmt"

	"github.com/ortbench/ortbench/runner/results"
)

// Incomplete runs. A cell that has not measured all its repetitions is
// incomplete, in every write (a round under way, or a run cut short), and
// a run with any such cell — or one interrupted at all — is written
// incomplete in results.json and manifest.json, with the reason: report,
// compare and merge refuse it unless asked (--allow-incomplete). Only a
// run that ended every cell is marked complete.

// pending marks rc, the current figures of cr, incomplete when cr is still
// owed repetitions. A cell that ended (failed, skipped) or whose figures
// say its outputs are wrong keeps its status.
func (r *Runner) pending(cr *cellRun, rc *results.Cell) {
	if cr.done || (rc.Status != "" && !results.Measured(rc.Status)) {
		return
	}
	n, want := 0, r.Plan.Config.Repetitions
	if cr.acc != nil {
		n = len(cr.acc.reps)
	}
	if n >= want && rc.Status != "" {
		return
	}
	rc.Status = results.StatusIncomplete
	rc.Error = fmt.Sprintf("%d of %d repetitions measured", n, want)
}

// seal marks the run's last write: complete only when it was not
// interrupted and every cell ended; otherwise incomplete, saying why.
func seal(ctx context.Context, run *results.Run, interrupted bool) {
	unfinished := 0
	for i := range run.Cells {
		switch run.Cells[i].Status {
		case results.StatusIncomplete, "":
			unfinished++
		case results.StatusSkipped:
			if interrupted || ctx.Err() != nil {
				unfinished++
			}
		}
	}
	run.Incomplete, run.IncompleteReason = false, ""
	if !interrupted && ctx.Err() == nil && unfinished == 0 {
		return
	}
	why := "interrupted"
	if c := context.Cause(ctx); c != nil && c != context.Canceled {
		why = "interrupted (" + c.Error() + ")"
	}
	run.Incomplete = true
	run.IncompleteReason = fmt.Sprintf("%s: %d of %d cells did not finish their repetitions", why, unfinished, len(run.Cells))
}
