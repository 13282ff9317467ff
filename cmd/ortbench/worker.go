package main

import (
	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/procpool"
)

// newWorkerCmd is the hidden subcommand the processes strategy starts: it
// serves tasks from fd 3 and answers on fd 4 (package procpool).
func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "worker",
		Short:  "Serve inference tasks for a parent ortbench (started by the processes strategy)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return procpool.ServeFDs()
		},
	}
}
