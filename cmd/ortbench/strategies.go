package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// newStrategiesCmd lists the strategies a config can name, with the keys
// each one takes.
func newStrategiesCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "strategies",
		Short:   "List the strategies an experiment can use, with their keys",
		Example: `  ortbench strategies`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg := strategies()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "strategy\tkeys (=default; besides batch_sizes)\tspeedup vs\theavy task\twhat it does")
			for _, name := range reg.Names() {
				d := reg[name]
				var words []string
				for _, p := range strategy.Params(d.NewConfig()) {
					switch v := p.Value; {
					case p.Key == "batch_size":
					case v == int64(0) || v == "" || v == false:
						words = append(words, p.Key)
					case v == int64(-1):
						words = append(words, p.Key+"=auto")
					default:
						words = append(words, p.Key+"="+results.FormatValue(v))
					}
				}
				keys := strings.Join(words, ", ")
				base := d.Baseline
				if base == "" {
					base = "(baseline)"
				}
				heavy := "yes"
				if d.NeedsORT {
					heavy = "no"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, keys, base, heavy, d.Summary)
			}
			return tw.Flush()
		},
	}
}
