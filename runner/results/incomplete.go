package results

import "fmt"

// MaxJSONBytes bounds a results.json read (ReadJSON): 1 GiB, some
// hundred thousand cells with their repetitions — beyond it the file is
// not one ortbench wrote.
const MaxJSONBytes = 1 << 30

// markUnfinished reads a run's cells in the one vocabulary: a cell with no
// status (written by an older build while it was still going) is
// incomplete, and a run holding an incomplete cell is incomplete whatever
// its flag says — so no reader takes a cut-short run for a finished one.
func (r *Run) markUnfinished() {
	n := 0
	for i := range r.Cells {
		r.Cells[i].Status = CellStatus(r.Cells[i].Status)
		if r.Cells[i].Status == StatusIncomplete {
			n++
		}
	}
	if n > 0 && !r.Incomplete {
		r.Incomplete = true
		r.IncompleteReason = fmt.Sprintf("%d of %d cells did not finish their repetitions", n, len(r.Cells))
	}
	if n > 0 || r.Incomplete {
		r.StatusCounts = r.CountStatuses()
	}
}

// Unfinished returns the reason r cannot be read as a finished run, or ""
// when it can.
func (r *Run) Unfinished() string {
	if !r.Incomplete {
		return ""
	}
	if r.IncompleteReason == "" {
		return "results.json is marked incomplete"
	}
	return r.IncompleteReason
}
