package main

import "github.com/spf13/cobra"

// extraCommands are the subcommands beyond run and validate, one file each.
func extraCommands() []*cobra.Command {
	return []*cobra.Command{
		newStrategiesCmd(),
		newReportCmd(),
		newCompareCmd(),
		newSysinfoCmd(),
		newInspectCmd(),
		newWorkerCmd(),
		newDatasetsCmd(),
		newMergeCmd(),
		newFleetCmd(),
		newCeilingCmd(),
		newTuneCmd(),
		newProvidersCmd(),
	}
}
