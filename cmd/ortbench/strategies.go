package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// newStrategiesCmd lists the strategies a config can name, with the keys
// each one takes.
func newStrategiesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "strategies",
		Short: "List the strategies an experiment can use, with their keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg := strategies()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "strategy\tkeys (besides batch_sizes)\theavy task\twhat it does")
			for _, name := range reg.Names() {
				d := reg[name]
				keys := strings.Join(d.ConfigKeys(false), ", ")
				if keys == "" {
					keys = "-"
				}
				heavy := "yes"
				if d.NeedsORT {
					heavy = "no"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, keys, heavy, d.Summary)
			}
			return tw.Flush()
		},
	}
}
