package compare

import (
	"fmt"

	"github.com/ortbench/ortbench/runner/results"
)

// Inputs the gate refuses. A gate that passes what it cannot judge turns a
// CI job killed by its timeout green, so compare refuses, before anything
// is compared, a run with no cells (nothing to find a regression in).
// Incomplete runs are refused by the command, which alone knows
// --allow-incomplete; the threshold is checked there too.

// CheckRuns refuses a side with no cells; path names it.
func CheckRuns(before, after *results.Run, beforePath, afterPath string) error {
	for _, side := range []struct {
		run  *results.Run
		path string
	}{{before, beforePath}, {after, afterPath}} {
		if len(side.run.Cells) == 0 {
			return fmt.Errorf("%s: the run has no cells: nothing to compare", side.path)
		}
	}
	return nil
}
