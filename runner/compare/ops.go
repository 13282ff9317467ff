package compare

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ortbench/ortbench/runner/results"
)

// TopOps is how many operators a cell's op comparison keeps: those whose
// share of the kernel time changed most.
const TopOps = 5

// OpChange is one operator type on one provider in both runs' profiled
// passes (profile: true): its kernel time per inference call on each side
// and its share of the kernel time. An operator one side lacks (fused away
// by one build's optimiser, placed on another provider) has 0 there.
type OpChange struct {
	Op       string  `json:"op"`
	Provider string  `json:"provider"`
	Old      float64 `json:"old_seconds_per_call"`
	New      float64 `json:"new_seconds_per_call"`
	OldShare float64 `json:"old_share"`
	NewShare float64 `json:"new_share"`
	// ShareChange is NewShare − OldShare (a fraction; +0.12 is 12 points).
	ShareChange float64 `json:"share_change"`
}

// opChanges are the TopOps operators whose share changed most between the
// two cells' profiles; nil unless both were profiled.
func opChanges(o, n *results.Cell) []OpChange {
	if o.Profile == nil || n.Profile == nil {
		return nil
	}
	type key struct{ op, provider string }
	byKey := map[key]*OpChange{}
	get := func(s results.OpShare) *OpChange {
		k := key{s.Op, s.Provider}
		if byKey[k] == nil {
			byKey[k] = &OpChange{Op: s.Op, Provider: s.Provider}
		}
		return byKey[k]
	}
	for _, s := range o.Profile.Ops {
		c := get(s)
		c.Old, c.OldShare = o.Profile.PerRun(s.Seconds), s.Share
	}
	for _, s := range n.Profile.Ops {
		c := get(s)
		c.New, c.NewShare = n.Profile.PerRun(s.Seconds), s.Share
	}
	out := make([]OpChange, 0, len(byKey))
	for _, c := range byKey {
		c.ShareChange = c.NewShare - c.OldShare
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := math.Abs(out[i].ShareChange), math.Abs(out[j].ShareChange)
		if a != b {
			return a > b
		}
		return out[i].Op+"\x00"+out[i].Provider < out[j].Op+"\x00"+out[j].Provider
	})
	return out[:min(len(out), TopOps)]
}

// profileDifference warns when only one run was profiled: there are then
// no operator changes to show, and the reader should know why.
func profileDifference(a, b *results.Run) []string {
	switch {
	case a.Settings.Profile == b.Settings.Profile:
		return nil
	case a.Settings.Profile:
		return []string{"profile: true in the old run only: no operator changes (profile both runs)"}
	}
	return []string{"profile: true in the new run only: no operator changes (profile both runs)"}
}

// writeOps is the text report's operator section: per cell both runs
// profiled, the operators whose share of the kernel time moved most.
func (r *Report) writeOps(w io.Writer) error {
	some := false
	for _, c := range r.Cells {
		some = some || len(c.Ops) > 0
	}
	if !some {
		return nil
	}
	fmt.Fprintf(w, "\noperators whose share of the kernel time changed most (profile: true; time per inference call):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Cells {
		if len(c.Ops) == 0 {
			continue
		}
		fmt.Fprintln(tw, c.Name)
		fmt.Fprintln(tw, "  op\tprovider\told\tnew\told share\tnew share\tchange\t")
		for _, o := range c.Ops {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.1f%%\t%.1f%%\t%+.1f pts\t\n", o.Op, strings.TrimSuffix(o.Provider, "ExecutionProvider"),
				perCall(o.Old), perCall(o.New), 100*o.OldShare, 100*o.NewShare, 100*o.ShareChange)
		}
	}
	return tw.Flush()
}

// perCall is a kernel time per call: "12.3µs"; "-" where the side lacks it.
func perCall(s float64) string {
	switch {
	case s <= 0:
		return "-"
	case s >= 1e-3:
		return fmt.Sprintf("%.2fms", s*1e3)
	}
	return fmt.Sprintf("%.1fµs", s*1e6)
}
