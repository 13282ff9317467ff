package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/shard"
)

func newMergeCmd() *cobra.Command {
	var out string
	var prices, labels []string
	var allowIncomplete bool
	cmd := &cobra.Command{
		Use:   "merge DIR... --out DIR",
		Short: "Combine the shards of an experiment (run --shard i/n) into one run",
		Long: `merge reads each shard's results (DIR is a shard's --out folder, a run folder
or a results.json) and writes one run into --out: results.json and the other
formats the shards wrote (CSV, Parquet, bench.txt, report.html), with the
resolved config, then prints the table.

The shards must have run the same resolved config (config_sha256) with the
same ortbench build (git commit); every cell of the plan must be in exactly
one shard. The baseline copies a shard ran only for its own speedups are
dropped (the owning shard's copy is kept); speedups stay as each shard
measured them, against a baseline measured on the same machine in the same
run.

When the shards ran on several machines, the machine becomes a dimension:
merge prints, and the report shows, each strategy's fastest cell per machine
with rows/s, p99, rows/s per core and, for machines given a --price, rows per
unit of cost. Machines are named by host name; --machine-label renames them.`,
		Example: `  ortbench merge results/shards/1 results/shards/2 --out results/merged
  ortbench merge shards/* --out merged --machine-label ip-10-0-0-7=c7i.4xlarge --price c7i.4xlarge=0.714`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("%w: merge needs --out DIR", errUsage)
			}
			price, err := parsePairs("--price", prices, true)
			if err != nil {
				return err
			}
			relabel, err := parsePairs("--machine-label", labels, false)
			if err != nil {
				return err
			}
			if err := checkMergeOut(out, args); err != nil { // guard.go
				return err
			}
			m, dirs, err := mergeShards(args, price, relabel, allowIncomplete)
			if err != nil {
				return err
			}
			if err := writeMerged(m.Run, dirs[0], out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, results.Title(m.Run))
			if err := results.WriteTable(m.Run, w); err != nil {
				return err
			}
			if err := shard.WriteMachines(w, m.Run.Machines); err != nil {
				return err
			}
			fmt.Fprintf(w, "merged %d shard folders (%d cells) into %s\n", len(args), len(m.Run.Cells), out)
			if m.Run.StatusCounts[results.StatusFailed] > 0 {
				return fmt.Errorf("%w in %d merged cells", runner.ErrVerification, m.Run.StatusCounts[results.StatusFailed])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder the merged run is written into (required)")
	cmd.Flags().BoolVar(&allowIncomplete, "allow-incomplete", false, "merge shards that were cut short (results.json says incomplete); the merged run is marked incomplete")
	cmd.Flags().StringArrayVar(&prices, "price", nil, "LABEL=PRICE_PER_HOUR: a machine's price, for rows per unit of cost (repeatable)")
	cmd.Flags().StringArrayVar(&labels, "machine-label", nil, "HOST=LABEL: name the machine with this host name LABEL (repeatable)")
	return cmd
}

// mergeShards reads the shard folders and merges them; dirs are the folders
// the results.json files were found in.
func mergeShards(args []string, price map[string]string, relabel map[string]string, allowIncomplete bool) (*shard.Merged, []string, error) {
	runs := make([]*results.Run, len(args))
	dirs := make([]string, len(args))
	for k, a := range args {
		path := a
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			if path, err = shard.FindResults(a); err != nil {
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
	unfinished, err := shard.CheckComplete(runs, args, allowIncomplete)
	if err != nil {
		return nil, nil, err
	}
	expected, err := planCells(runs, args)
	if err != nil {
		return nil, nil, err
	}
	opts := shard.Options{
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
			if l, ok := relabel[r.Environment.Hostname]; ok {
				return l
			}
			return shard.MachineLabel(r)
		},
		PricePerHour: map[string]float64{},
	}
	for l, p := range price {
		opts.PricePerHour[l], _ = strconv.ParseFloat(p, 64)
	}
	m, err := shard.Merge(runs, args, opts)
	if err != nil {
		if i := slices.IndexFunc(runs, func(r *results.Run) bool { return r.Shard == nil }); i >= 0 {
			err = fmt.Errorf("%w (%s was not run as a shard: to compare whole runs from several machines, run each with --shard 1/1)", err, args[i])
		}
		return nil, nil, err
	}
	shard.MarkIncomplete(m.Run, unfinished)
	var unknown []string
	for l := range price {
		if !slices.ContainsFunc(m.Machines, func(mc shard.Machine) bool { return mc.Label == l }) {
			unknown = append(unknown, l)
		}
	}
	if len(unknown) > 0 {
		var have []string
		for _, mc := range m.Machines {
			have = append(have, mc.Label)
		}
		slices.Sort(unknown)
		return nil, nil, fmt.Errorf("%w: --price names no machine of these shards: %s (machines: %s)", errUsage, strings.Join(unknown, ", "), strings.Join(have, ", "))
	}
	return m, dirs, nil
}

// planCells is the whole plan's cells, as the shards recorded them: every
// shard of one plan must list the same cells. nil (no completeness check)
// when no run is a shard.
func planCells(runs []*results.Run, args []string) ([]string, error) {
	var first int = -1
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

// writeMerged writes the merged run into out in the formats the first
// shard wrote, with its config files, each atomically.
func writeMerged(run *results.Run, shardDir, out string) error {
	f := formats()
	var names []string
	for _, n := range f.Names() {
		if _, err := os.Stat(filepath.Join(shardDir, f[n].File)); err == nil {
			names = append(names, n)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"config.yaml", "config.resolved.yaml"} {
		data, err := os.ReadFile(filepath.Join(shardDir, name))
		if err != nil {
			continue
		}
		if err := results.WriteFileAtomic(filepath.Join(out, name), data); err != nil {
			return err
		}
	}
	_, err := f.WriteAll(run, out, names)
	return err
}

// parsePairs reads repeated KEY=VALUE flags; number: VALUE must be a
// positive number.
func parsePairs(flag string, vals []string, number bool) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("%w: %s %q: want KEY=VALUE", errUsage, flag, v)
		}
		if number {
			if p, err := strconv.ParseFloat(val, 64); err != nil || p <= 0 {
				return nil, fmt.Errorf("%w: %s %q: the price per hour must be a positive number", errUsage, flag, v)
			}
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%w: %s %s given twice", errUsage, flag, k)
		}
		out[k] = val
	}
	return out, nil
}
