package shard

import (
	"fmt"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
)

// CheckComplete refuses shards that were cut short (results.json marked
// incomplete: interrupted, killed, a write that failed) unless allow:
// merged, they would make a run that looks complete. paths[k] names
// runs[k]. With allow it returns the reasons, which MarkIncomplete puts on
// the merged run.
func CheckComplete(runs []*results.Run, paths []string, allow bool) ([]string, error) {
	var reasons []string
	for k, r := range runs {
		if why := r.Unfinished(); why != "" {
			reasons = append(reasons, fmt.Sprintf("%s: %s", paths[k], why))
		}
	}
	if len(reasons) > 0 && !allow {
		return nil, fmt.Errorf("merge: incomplete shard: %s (--allow-incomplete merges it, marking the merged run incomplete)", strings.Join(reasons, "; "))
	}
	return reasons, nil
}

// MarkIncomplete marks a merged run incomplete when any of its shards was
// (reasons from CheckComplete).
func MarkIncomplete(run *results.Run, reasons []string) {
	if len(reasons) == 0 {
		return
	}
	run.Incomplete = true
	run.IncompleteReason = "merged from incomplete shards: " + strings.Join(reasons, "; ")
}
