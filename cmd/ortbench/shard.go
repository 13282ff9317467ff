package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/shard"
)

// envShard is the --shard flag's environment form: used when the flag is
// not given (the Slurm driver from `fleet slurm` exports it in every task).
const envShard = "ORTBENCH_SHARD"

func addShardFlag(f *pflag.FlagSet, value *string) {
	f.StringVar(value, "shard", "", `run only shard i of n of the cells ("i/n", 1-based), or "auto": from the scheduler's environment (SLURM_ARRAY_TASK_ID/COUNT, or JOB_COMPLETION_INDEX with ORTBENCH_SHARDS); default $`+envShard)
}

// shardPlan narrows plan to the shard the flag (or $ORTBENCH_SHARD) names:
// nil when the run is not sharded. It says on stderr what the shard runs.
func shardPlan(flags *pflag.FlagSet, value string, plan *config.Plan, stderr io.Writer) (*shard.Part, error) {
	if !flags.Changed("shard") {
		value = os.Getenv(envShard)
	}
	i, n, ok, err := shard.Resolve(value, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if !ok {
		return nil, nil
	}
	part, err := shard.Split(plan, strategies(), i, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	msg := fmt.Sprintf("shard %s: %d of the plan's %d cells", shard.Label(i, n), part.Own, len(plan.Cells))
	if len(part.Support) > 0 {
		var names []string
		for _, c := range part.Plan.Cells {
			if part.Support[c.Name] {
				names = append(names, c.Name)
			}
		}
		msg += fmt.Sprintf(", plus %d baseline %s owned by another shard (run for speedups, dropped by merge): %s",
			len(names), plural(len(names), "cell", "cells"), strings.Join(names, ", "))
	}
	fmt.Fprintln(stderr, msg)
	return part, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeEmptyShard writes the results of a shard that owns no cells (more
// shards than cells): the runner writes after each cell, so without this
// such a shard would leave no results.json for merge to find.
func writeEmptyShard(part *shard.Part, run *results.Run, out string) error {
	if part == nil || run == nil || len(run.Cells) > 0 || len(part.Plan.Cells) > 0 {
		return nil
	}
	run.FinishedAt = time.Now().UTC()
	run.StatusCounts = run.CountStatuses()
	_, err := formats().WriteAll(run, out, part.Plan.Config.Output.Formats)
	return err
}
