package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/compare"
)

func newCompareCmd() *cobra.Command {
	var output string
	var failPct float64
	var allowIncomplete bool
	cmd := &cobra.Command{
		Use:   "compare OLD NEW",
		Short: "Compare two runs of the same experiment, cell by cell",
		Long: `compare matches the cells of two runs by name and tests whether throughput and
p99 latency changed, with a Mann-Whitney U test over the repetitions (alpha 0.05,
as benchstat does): "~" means no significant difference. OLD and NEW are each a
results.json, a run's directory, or an experiment's directory (newest run).

With --fail-on-regression PCT, compare exits with code 4 when a cell that was
ok before failed, or a cell lost more than PCT percent of its throughput: the
95% interval of the change lies wholly below -PCT, or the test is significant
after a Holm correction across the cells and the drop exceeds PCT. An unstable
cell widens its interval rather than being skipped; a cell with too few
undisturbed repetitions is "cannot judge", with why. Differences between the
runs' settings (config, repetitions, machine, ONNX Runtime, commit) are printed
as warnings. docs/CI.md shows the gate in a GitHub Actions workflow.`,
		Example: `  ortbench compare baselines/quick.json results/quick
  ortbench compare old/results.json new/results.json --fail-on-regression 5 -o json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := outputFormat(output); err != nil {
				return err
			}
			gate := cmd.Flags().Changed("fail-on-regression")
			if gate && !(failPct > 0 && !math.IsInf(failPct, 1)) {
				return fmt.Errorf("%w: --fail-on-regression %g: want a finite percentage above 0 (e.g. 5)", errUsage, failPct)
			}
			before, beforePath, err := readResults(args[0])
			if err != nil {
				return err
			}
			if err := checkFolder(cmd, before, beforePath, allowIncomplete); err != nil {
				return err
			}
			after, afterPath, err := readResults(args[1])
			if err != nil {
				return err
			}
			if err := checkFolder(cmd, after, afterPath, allowIncomplete); err != nil {
				return err
			}
			if err := compare.CheckRuns(before, after, beforePath, afterPath); err != nil {
				return err
			}
			rep, err := compare.Compare(before, after)
			if err != nil {
				return err
			}
			if output == "json" {
				err = rep.WriteJSON(cmd.OutOrStdout())
			} else {
				err = rep.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			for _, why := range rep.Unjudged() {
				fmt.Fprintf(cmd.ErrOrStderr(), "ortbench: compare: cannot judge %s\n", why)
			}
			if gate {
				if bad := rep.Regressions(failPct); len(bad) > 0 {
					return &exitCodeError{code: exitRegression, err: fmt.Errorf("regression (throughput down more than %g%%, or newly failed) in %d cell(s): %s",
						failPct, len(bad), strings.Join(bad, ", "))}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVar(&allowIncomplete, "allow-incomplete", false, "read runs that were cut short (results.json says incomplete) instead of refusing them")
	cmd.Flags().Float64Var(&failPct, "fail-on-regression", 0, "exit 4 if any cell's throughput dropped by more than this percentage (its interval below -PCT, or Holm-significant and beyond PCT)")
	return cmd
}
