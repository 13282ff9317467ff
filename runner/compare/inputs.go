package compare

import (
	"fmt"
	"math"

	"github.com/ortbench/ortbench/runner/results"
)

// Inputs the gate refuses. A gate that passes what it cannot judge turns a
// CI job killed by its timeout green, so compare refuses, before anything
// is compared: a run with no cells (nothing to find a regression in) and a
// threshold that is not a finite percentage of 0 or more (NaN compares
// false with every change, which disabled the gate; 0 fails on any
// significant drop). Incomplete runs are refused
// by the command, which alone knows --allow-incomplete.

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

// CheckThreshold refuses a --fail-on-regression percentage that is not a
// finite number of 0 or more.
func CheckThreshold(pct float64) error {
	if math.IsNaN(pct) || math.IsInf(pct, 0) || pct < 0 {
		return fmt.Errorf("--fail-on-regression %v: want a finite percentage, 0 or more (5 fails on a significant drop of more than 5%%)", pct)
	}
	return nil
}
