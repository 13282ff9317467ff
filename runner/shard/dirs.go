package shard

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ortbench/ortbench/runner/results"
)

// DirOptions are MergeDirs' settings for the machines.
type DirOptions struct {
	// Relabel names a machine by its host name (host name → label); a host
	// not in it gets MachineLabel.
	Relabel map[string]string
	// PricePerHour maps a machine label to its price per hour; every label
	// must name a machine of the shards (UnknownPriceError).
	PricePerHour map[string]float64
	// AllowIncomplete merges shards that were cut short (CheckComplete),
	// marking the merged run incomplete; without it they are refused.
	AllowIncomplete bool
}

// UnknownPriceError is a price for a machine no shard ran on.
type UnknownPriceError struct {
	Unknown []string // the labels priced but not found, sorted
	Have    []string // the shards' machine labels
}

func (e *UnknownPriceError) Error() string {
	return fmt.Sprintf("a price names no machine of these shards: %s (machines: %s)", strings.Join(e.Unknown, ", "), strings.Join(e.Have, ", "))
}

// MergeDirs reads the shards' results (each arg is a shard's --out folder,
// a run folder or a results.json) and merges them (Merge) with the options
// ortbench's runs need: the plan's cells from the shards (every shard of
// one plan lists them), cells matched by key, support copies dropped, the
// shard's config hash (which leaves out output.dir). dirs are the folders
// the results.json files were found in.
func MergeDirs(args []string, o DirOptions) (m *Merged, dirs []string, err error) {
	runs := make([]*results.Run, len(args))
	dirs = make([]string, len(args))
	for k, a := range args {
		path := a
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			if path, err = FindResults(a); err != nil {
				return nil, nil, err
			}
		} else if err != nil {
			return nil, nil, fmt.Errorf("shard folder %s: %w", a, err)
		}
		r, err := results.ReadJSON(path)
		if err != nil {
			return nil, nil, err
		}
		runs[k], dirs[k] = r, filepath.Dir(path)
	}
	unfinished, err := CheckComplete(runs, args, o.AllowIncomplete) // incomplete.go
	if err != nil {
		return nil, nil, err
	}
	expected, err := planCells(runs, args)
	if err != nil {
		return nil, nil, err
	}
	m, err = Merge(runs, args, runOptions(expected, o))
	if err != nil {
		if i := slices.IndexFunc(runs, func(r *results.Run) bool { return r.Shard == nil }); i >= 0 {
			err = fmt.Errorf("%w (%s was not run as a shard: to compare whole runs from several machines, run each with --shard 1/1)", err, args[i])
		}
		return nil, nil, err
	}
	MarkIncomplete(m.Run, unfinished)
	if err := checkPrices(m, o.PricePerHour); err != nil {
		return nil, nil, err
	}
	return m, dirs, nil
}

// runOptions are Merge's options for ortbench's own results.
func runOptions(expected []string, o DirOptions) Options {
	price := map[string]float64{}
	for l, p := range o.PricePerHour {
		price[l] = p
	}
	return Options{
		Expected:  expected,
		Identity:  (*results.Cell).Key,
		IsSupport: func(c *results.Cell) bool { return c.SupportCopy },
		Version:   func(r *results.Run) string { return r.Environment.GitCommit },
		// A shard's own hash leaves out output.dir: each shard writes
		// into its own folder.
		ConfigHash: func(r *results.Run) string {
			if r.Shard != nil {
				return r.Shard.ConfigSHA256
			}
			return r.Experiment.ConfigSHA256
		},
		Machine: func(r *results.Run) string {
			if l, ok := o.Relabel[r.Environment.Hostname]; ok {
				return l
			}
			return MachineLabel(r)
		},
		PricePerHour: price,
	}
}

// checkPrices reports the priced labels that name none of m's machines.
func checkPrices(m *Merged, price map[string]float64) error {
	var unknown []string
	for l := range price {
		if !slices.ContainsFunc(m.Machines, func(mc Machine) bool { return mc.Label == l }) {
			unknown = append(unknown, l)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	var have []string
	for _, mc := range m.Machines {
		have = append(have, mc.Label)
	}
	sort.Strings(unknown)
	return &UnknownPriceError{Unknown: unknown, Have: have}
}

// planCells is the whole plan's cells, as the shards recorded them: every
// shard of one plan must list the same cells. nil (no completeness check)
// when no run is a shard.
func planCells(runs []*results.Run, args []string) ([]string, error) {
	first := -1
	for k, r := range runs {
		if r.Shard == nil {
			continue
		}
		if first < 0 {
			first = k
			continue
		}
		a := runs[first].Shard
		if r.Shard.Count != a.Count {
			return nil, fmt.Errorf("merge: %s is shard %d/%d but %s is shard %d/%d: shards of one split have the same count",
				args[first], a.Index, a.Count, args[k], r.Shard.Index, r.Shard.Count)
		}
		if !slices.Equal(r.Shard.Cells, a.Cells) {
			return nil, fmt.Errorf("merge: %s and %s expanded the config to different plans (%d and %d cells; threads 0 and duplicate settings depend on the machine's cores)",
				args[first], args[k], len(a.Cells), len(r.Shard.Cells))
		}
	}
	if first < 0 {
		return nil, nil
	}
	return runs[first].Shard.Cells, nil
}
