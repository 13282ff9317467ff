package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
			price, err := parsePrices(prices)
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
			m, dirs, err := shard.MergeDirs(args, shard.DirOptions{Relabel: relabel, PricePerHour: price, AllowIncomplete: allowIncomplete})
			var unknown *shard.UnknownPriceError
			if errors.As(err, &unknown) {
				return fmt.Errorf("%w: --price names no machine of these shards: %s (machines: %s)", errUsage, strings.Join(unknown.Unknown, ", "), strings.Join(unknown.Have, ", "))
			}
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

// parsePrices reads the repeated --price LABEL=PRICE flags.
func parsePrices(vals []string) (map[string]float64, error) {
	pairs, err := parsePairs("--price", vals, true)
	if err != nil {
		return nil, err
	}
	price := make(map[string]float64, len(pairs))
	for l, p := range pairs {
		price[l], _ = strconv.ParseFloat(p, 64) // parsePairs checked it
	}
	return price, nil
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
